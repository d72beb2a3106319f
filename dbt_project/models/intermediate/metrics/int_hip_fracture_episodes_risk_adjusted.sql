{#
    Indirect standardisation of 30-day mortality. Only episodes whose 30 days have passed by the
    last admission in the data are followed up; among them the national death rate of each case-mix
    stratum (age band x sex x ASA grade), over all trusts and months, is each episode's expected
    risk of death. Summed over a trust's episodes, observed deaths / expected deaths is its
    standardised mortality ratio; nationally the ratio is 1 by construction.
#}
with

episodes as (

    select * from {{ ref('stg_hip_fracture_audit__episodes') }}

),

data_extent as (

    select max(admission_date) as last_admission_date
    from episodes

),

episodes_flagged as (

    select
        episodes.episode_id,
        episodes.trust_code,
        episodes.admission_month_date as period_start,
        episodes.imd_quintile,
        case
            when episodes.age < 70 then '60-69'
            when episodes.age < 80 then '70-79'
            when episodes.age < 90 then '80-89'
            else '90+'
        end as age_band,
        episodes.sex,
        episodes.asa_grade,
        case when episodes.surgery_at is not null then 1 else 0 end as is_operated,
        case when episodes.hours_to_surgery <= 36 then 1 else 0 end as is_surgery_within_36h,
        case
            when {{ dbt.dateadd('day', 30, 'episodes.admission_date') }} <= data_extent.last_admission_date
                then 1
            else 0
        end as has_30_day_follow_up,
        case when episodes.days_admission_to_death <= 30 then 1 else 0 end as is_death_within_30_days
    from episodes
    cross join data_extent

),

national_stratum_rates as (

    select
        age_band,
        sex,
        asa_grade,
        avg(cast(is_death_within_30_days as double)) as national_death_rate
    from episodes_flagged
    where has_30_day_follow_up = 1
    group by
        age_band,
        sex,
        asa_grade

),

final as (

    select
        episodes_flagged.episode_id,
        episodes_flagged.trust_code,
        episodes_flagged.period_start,
        episodes_flagged.imd_quintile,
        episodes_flagged.age_band,
        episodes_flagged.sex,
        episodes_flagged.asa_grade,
        episodes_flagged.is_operated,
        episodes_flagged.is_surgery_within_36h,
        episodes_flagged.has_30_day_follow_up,
        episodes_flagged.has_30_day_follow_up
        * episodes_flagged.is_death_within_30_days as observed_death,
        case
            when episodes_flagged.has_30_day_follow_up = 1
                then national_stratum_rates.national_death_rate
            else 0
        end as expected_death
    from episodes_flagged
    left join national_stratum_rates
        on
            episodes_flagged.age_band = national_stratum_rates.age_band
            and episodes_flagged.sex = national_stratum_rates.sex
            and episodes_flagged.asa_grade = national_stratum_rates.asa_grade

)

select * from final
