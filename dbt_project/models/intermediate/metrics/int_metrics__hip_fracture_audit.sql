{#
    Prompt surgery counts operated patients only (the audit's standard). Mortality counts only
    admissions whose 30 days have passed by the last admission in the data, so a recent month is
    not flattered by deaths not yet recorded: such a month has a zero denominator. The standardised
    ratio divides observed deaths by the deaths expected from national rates for the same case mix.
#}
with

episodes as (

    select * from {{ ref('int_hip_fracture_episodes_risk_adjusted') }}

),

trust_months as (

    select
        trust_code,
        period_start,
        imd_quintile,
        sum(is_operated) as operated_count,
        sum(is_surgery_within_36h) as surgery_within_36h_count,
        sum(has_30_day_follow_up) as followed_up_count,
        sum(observed_death) as death_within_30_days_count,
        sum(expected_death) as expected_death_count
    from episodes
    group by
        trust_code,
        period_start,
        imd_quintile

),

metric_rows as (

    select
        'hip_surgery_within_36h' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        surgery_within_36h_count as numerator,
        operated_count as denominator
    from trust_months

    union all

    select
        'hip_30day_mortality' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        death_within_30_days_count as numerator,
        followed_up_count as denominator
    from trust_months

    union all

    select
        'hip_30day_mortality_smr' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        death_within_30_days_count as numerator,
        expected_death_count as denominator
    from trust_months

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(trust_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(imd_quintile as integer) as imd_quintile,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from metric_rows

)

select * from final
