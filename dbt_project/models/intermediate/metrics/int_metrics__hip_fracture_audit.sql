{#
    Prompt surgery counts operated patients only (the audit's standard). Mortality counts only
    admissions whose 30 days have passed by the last admission in the data, so a recent month is
    not flattered by deaths not yet recorded: such a month has a zero denominator.
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
        episodes.trust_code,
        episodes.admission_month_date as period_start,
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

trust_months as (

    select
        trust_code,
        period_start,
        sum(is_operated) as operated_count,
        sum(is_surgery_within_36h) as surgery_within_36h_count,
        sum(has_30_day_follow_up) as followed_up_count,
        sum(has_30_day_follow_up * is_death_within_30_days) as death_within_30_days_count
    from episodes_flagged
    group by
        trust_code,
        period_start

),

metric_rows as (

    select
        'hip_surgery_within_36h' as metric_id,
        trust_code,
        period_start,
        surgery_within_36h_count as numerator,
        operated_count as denominator
    from trust_months

    union all

    select
        'hip_30day_mortality' as metric_id,
        trust_code,
        period_start,
        death_within_30_days_count as numerator,
        followed_up_count as denominator
    from trust_months

),

final as (

    select
        cast(metric_id as varchar) as metric_id,
        cast(trust_code as varchar) as trust_code,
        cast(period_start as date) as period_start,
        cast(null as integer) as imd_quintile,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from metric_rows

)

select * from final
