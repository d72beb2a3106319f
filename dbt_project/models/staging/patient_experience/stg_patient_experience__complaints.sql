{#
    Quarterly: one row per trust, financial quarter and subject area. The quarter is landed in the
    month partition of its first month (quarter_start_date), so landed_month is that month.
#}
with

source_complaints as (

    select * from {{ source('patient_experience', 'complaints') }}

),

final as (

    select
        cast(trust_code as string) as trust_code,
        cast({{ dbt.date_trunc('month', 'quarter_start') }} as date) as quarter_start_date,
        cast(subject_area as string) as subject_area,
        cast(complaints_received as bigint) as complaints_received,
        cast(complaints_resolved as bigint) as complaints_resolved,
        cast(upheld as bigint) as upheld,
        cast(partially_upheld as bigint) as partially_upheld,
        cast(not_upheld as bigint) as not_upheld,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_complaints

)

select * from final
