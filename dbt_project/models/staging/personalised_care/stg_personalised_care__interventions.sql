with

source_interventions as (

    select * from {{ source('personalised_care', 'interventions') }}

),

final as (

    select
        cast(trust_code as string) as trust_code,
        cast({{ dbt.date_trunc('month', 'reporting_month') }} as date) as reporting_month_date,
        cast(intervention as string) as intervention,
        cast(people_eligible as bigint) as people_eligible,
        cast(people_with_intervention as bigint) as people_with_intervention,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_interventions

)

select * from final
