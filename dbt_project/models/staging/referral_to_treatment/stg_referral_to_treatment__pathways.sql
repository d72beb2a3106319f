{#
    One row per trust, month, treatment function and pathway type, as delivered: the weekly bands
    of weeks waited stay columns (macros/week_bands.sql lists them from the source).
#}
with

source_pathways as (

    select * from {{ source('referral_to_treatment', 'pathways') }}

),

final as (

    select
        cast(trust_code as string) as trust_code,
        cast({{ dbt.date_trunc('month', 'reporting_month') }} as date) as reporting_month_date,
        cast(treatment_function_code as string) as treatment_function_code,
        cast(pathway_type as string) as pathway_type,
        {%- for column, _, _ in week_bands('referral_to_treatment', 'pathways') %}
            cast({{ column }} as bigint) as {{ column }},
        {%- endfor %}
        cast(total_pathways as bigint) as total_pathways,
        cast(unknown_clock_start_pathways as bigint) as unknown_clock_start_pathways,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_pathways

)

select * from final
