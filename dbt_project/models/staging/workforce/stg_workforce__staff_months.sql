with

source_staff_months as (

    select * from {{ source('workforce', 'staff_months') }}

),

final as (

    select
        cast(staff_id_hash as string) as staff_id_hash,
        cast(trust_code as string) as trust_code,
        cast({{ dbt.date_trunc('month', 'reporting_month') }} as date) as reporting_month_date,
        cast(staff_group as string) as staff_group,
        cast(fte as double) as fte,
        cast(start_date as date) as start_date,
        cast(leaving_date as date) as leaving_date,
        leaving_date is not null as is_leaver,
        cast(sickness_fte_days as double) as sickness_fte_days,
        cast(available_fte_days as double) as available_fte_days,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_staff_months

)

select * from final
