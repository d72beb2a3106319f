with

source_discharge_delays as (

    select * from {{ source('adult_social_care', 'discharge_delays') }}

),

final as (

    select
        cast(la_code as string) as la_code,
        cast({{ dbt.date_trunc('month', 'reporting_month') }} as date) as reporting_month_date,
        cast(patients_discharged as bigint) as patients_discharged,
        cast(discharged_on_ready_date as bigint) as discharged_on_ready_date,
        cast(delay_days as bigint) as delay_days,
        cast(delay_days_social_care as bigint) as delay_days_social_care,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_discharge_delays

)

select * from final
