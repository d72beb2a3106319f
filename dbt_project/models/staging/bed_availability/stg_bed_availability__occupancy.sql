with

source_occupancy as (

    select * from {{ source('bed_availability', 'occupancy') }}

),

final as (

    select
        cast(trust_code as string) as trust_code,
        cast({{ dbt.date_trunc('month', 'reporting_month') }} as date) as reporting_month_date,
        cast(ward_type as string) as ward_type,
        cast(available_bed_days as double) as available_bed_days,
        cast(occupied_bed_days as double) as occupied_bed_days,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_occupancy

)

select * from final
