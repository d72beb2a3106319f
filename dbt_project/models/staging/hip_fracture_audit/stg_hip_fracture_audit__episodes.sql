with

source_episodes as (

    select * from {{ source('hip_fracture_audit', 'episodes') }}

),

final as (

    select
        cast(episode_id as string) as episode_id,
        cast(trust_code as string) as trust_code,
        cast(site_code as string) as site_code,
        cast(nhs_number_hash as string) as nhs_number_hash,
        cast(age as integer) as age,
        cast(sex as string) as sex,
        cast(imd_quintile as integer) as imd_quintile,
        cast(asa_grade as integer) as asa_grade,
        cast(admission_at as timestamp) as admission_at,
        cast(admission_at as date) as admission_date,
        cast({{ dbt.date_trunc('month', 'admission_at') }} as date) as admission_month_date,
        cast(surgery_at as timestamp) as surgery_at,
        cast(
            {{ dbt.datediff('admission_at', 'surgery_at', 'second') }}
            as double
        ) / 3600 as hours_to_surgery,
        cast(death_date as date) as death_date,
        {{ dbt.datediff('admission_at', 'death_date', 'day') }}
            as days_admission_to_death,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_episodes

)

select * from final
