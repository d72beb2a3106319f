with

source_occupancy as (

    select * from {{ source('bed_availability', 'occupancy') }}

),

final as (

    select
        cast(trust_code as varchar) as trust_code,
        cast({{ dbt.date_trunc('month', 'reporting_month') }} as date) as reporting_month_date,
        cast(ward_type as varchar) as ward_type,
        cast(available_bed_days as double) as available_bed_days,
        cast(occupied_bed_days as double) as occupied_bed_days,
        cast(month as varchar) as landed_month,
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as varchar) as contract_version
    from source_occupancy

)

select * from final
