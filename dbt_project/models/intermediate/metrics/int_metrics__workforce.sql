{#
    Sickness absence and leavers come from the staff records, vacancies and agency staffing from the
    establishment return: a trust and month present in only one of them yields only its metrics.
    The stability index comes from int_staff_cohorts_followed_up. Nurses per occupied bed need a
    bed return for the trust and month.

    Incremental: every metric of a month reads that month only, except the stability index, which
    follows the cohort of twelve months earlier (int_staff_cohorts_followed_up).
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 12, 'after': 0}},
) }}

with

staff_months as (

    select * from {{ ref('stg_workforce__staff_months') }}
    where {{ months_recomputed('reporting_month_date') }}

),

vacancies as (

    select * from {{ ref('stg_workforce__vacancies') }}
    where {{ months_recomputed('reporting_month_date') }}

),

occupancy as (

    select * from {{ ref('stg_bed_availability__occupancy') }}
    where {{ months_recomputed('reporting_month_date') }}

),

stability_trust_months as (

    select * from {{ ref('int_staff_cohorts_followed_up') }}
    where {{ months_recomputed('period_start') }}

),

staff_trust_months as (

    select
        trust_code,
        reporting_month_date as period_start,
        count(*) as headcount,
        sum(case when is_leaver then 1 else 0 end) as leaver_count,
        sum(sickness_fte_days) as sickness_fte_days,
        sum(available_fte_days) as available_fte_days,
        sum(
            case when staff_group = 'nurses_midwives' then available_fte_days else 0 end
        ) as nurse_available_fte_days
    from staff_months
    group by
        trust_code,
        reporting_month_date

),

establishment_trust_months as (

    select
        trust_code,
        reporting_month_date as period_start,
        sum(establishment_fte) as establishment_fte,
        sum(vacancy_fte) as vacancy_fte,
        sum(agency_fte) as agency_fte
    from vacancies
    group by
        trust_code,
        reporting_month_date

),

bed_months as (

    select
        trust_code,
        reporting_month_date as period_start,
        sum(occupied_bed_days) as occupied_bed_days
    from occupancy
    group by
        trust_code,
        reporting_month_date

),

nurse_bed_months as (

    select
        bed_months.trust_code,
        bed_months.period_start,
        bed_months.occupied_bed_days,
        coalesce(staff_trust_months.nurse_available_fte_days, 0) as nurse_available_fte_days
    from bed_months
    left join staff_trust_months
        on
            bed_months.trust_code = staff_trust_months.trust_code
            and bed_months.period_start = staff_trust_months.period_start

),

metric_rows as (

    select
        'sickness_absence_rate' as metric_id,
        trust_code,
        period_start,
        sickness_fte_days as numerator,
        available_fte_days as denominator
    from staff_trust_months

    union all

    select
        'staff_leaver_rate' as metric_id,
        trust_code,
        period_start,
        leaver_count as numerator,
        headcount as denominator
    from staff_trust_months

    union all

    select
        'vacancy_rate' as metric_id,
        trust_code,
        period_start,
        vacancy_fte as numerator,
        establishment_fte as denominator
    from establishment_trust_months

    union all

    select
        'agency_staffing_share' as metric_id,
        trust_code,
        period_start,
        agency_fte as numerator,
        establishment_fte as denominator
    from establishment_trust_months

    union all

    select
        'staff_stability_index' as metric_id,
        trust_code,
        period_start,
        still_in_post_count as numerator,
        cohort_headcount as denominator
    from stability_trust_months

    union all

    select
        'registered_nurses_per_occupied_bed' as metric_id,
        trust_code,
        period_start,
        nurse_available_fte_days as numerator,
        occupied_bed_days as denominator
    from nurse_bed_months

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(trust_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(null as integer) as imd_quintile,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from metric_rows

)

select * from final
