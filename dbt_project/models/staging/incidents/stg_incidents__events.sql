with

source_events as (

    select * from {{ source('incidents', 'events') }}

),

final as (

    select
        cast(event_id as varchar) as event_id,
        cast(trust_code as varchar) as trust_code,
        cast(site_code as varchar) as site_code,
        cast(event_date as date) as event_date,
        cast(reported_date as date) as reported_date,
        cast({{ dbt.date_trunc('month', 'reported_date') }} as date) as reported_month_date,
        cast(event_category as varchar) as event_category,
        cast(degree_of_harm as varchar) as degree_of_harm,
        cast(care_setting as varchar) as care_setting,
        cast(specialty as varchar) as specialty,
        cast(patient_age_band as varchar) as patient_age_band,
        cast(is_never_event as boolean) as is_never_event,
        cast(nhs_number_hash as varchar) as nhs_number_hash,
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as varchar) as contract_version
    from source_events

)

select * from final
