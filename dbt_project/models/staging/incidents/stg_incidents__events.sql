with

source_events as (

    select * from {{ source('incidents', 'events') }}

),

care_settings as (

    select * from {{ ref('incident_care_settings') }}

),

conformed as (

    -- v1 rows carry degree_of_harm and care_setting, v2 rows physical_harm, psychological_harm,
    -- service_area and location_type; the columns a row's version lacks are null here
    select
        source_events.event_id,
        source_events.trust_code,
        source_events.site_code,
        source_events.event_date,
        source_events.reported_date,
        source_events.event_category,
        source_events.psychological_harm,
        source_events.specialty,
        source_events.patient_age_band,
        source_events.is_never_event,
        source_events.nhs_number_hash,
        source_events._source_file,
        source_events._row_number,
        source_events._contract_version,
        source_events.month,
        coalesce(source_events.physical_harm, source_events.degree_of_harm) as physical_harm,
        coalesce(source_events.care_setting, by_location.care_setting) as care_setting,
        coalesce(source_events.service_area, by_setting.service_area) as service_area,
        coalesce(source_events.location_type, by_setting.location_type) as location_type
    from source_events
    left join care_settings as by_setting
        on source_events.care_setting = by_setting.care_setting
    left join care_settings as by_location
        on
            source_events.service_area = by_location.service_area
            and source_events.location_type = by_location.location_type

),

final as (

    select
        cast(event_id as string) as event_id,
        cast(trust_code as string) as trust_code,
        cast(site_code as string) as site_code,
        cast(event_date as date) as event_date,
        cast(reported_date as date) as reported_date,
        cast({{ dbt.date_trunc('month', 'reported_date') }} as date) as reported_month_date,
        cast(event_category as string) as event_category,
        cast(physical_harm as string) as degree_of_harm,
        cast(psychological_harm as string) as psychological_harm,
        cast(care_setting as string) as care_setting,
        cast(service_area as string) as service_area,
        cast(location_type as string) as location_type,
        cast(specialty as string) as specialty,
        cast(patient_age_band as string) as patient_age_band,
        cast(is_never_event as boolean) as is_never_event,
        cast(nhs_number_hash as string) as nhs_number_hash,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from conformed

)

select * from final
