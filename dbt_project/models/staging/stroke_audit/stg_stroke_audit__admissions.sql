with

source_admissions as (

    select * from {{ source('stroke_audit', 'admissions') }}

),

final as (

    select
        cast(record_id as string) as record_id,
        cast(trust_code as string) as trust_code,
        cast(site_code as string) as site_code,
        cast(nhs_number_hash as string) as nhs_number_hash,
        cast(age as integer) as age,
        cast(sex as string) as sex,
        cast(imd_quintile as integer) as imd_quintile,
        cast(stroke_type as string) as stroke_type,
        cast(nihss_on_arrival as integer) as nihss_on_arrival,
        cast(arrival_at as timestamp) as arrival_at,
        cast({{ dbt.date_trunc('month', 'arrival_at') }} as date) as arrival_month_date,
        cast(stroke_unit_arrival_at as timestamp) as stroke_unit_arrival_at,
        cast(
            {{ dbt.datediff('arrival_at', 'stroke_unit_arrival_at', 'second') }}
            as double
        ) / 3600 as hours_to_stroke_unit,
        cast(thrombolysed as boolean) as is_thrombolysed,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_admissions

)

select * from final
