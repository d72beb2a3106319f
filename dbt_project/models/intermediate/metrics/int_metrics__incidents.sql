{#
    Shares count every incident reported in the month (the medication harm share every medication
    incident: event category medication). Rates per 1,000 occupied bed days count
    only trust months with a bed return: incidents of a trust without overnight beds (an ambulance
    trust) have no exposure to be measured against, so they are left out, not divided by zero.

    Incremental: a month reads that month's incidents and bed returns only.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 0, 'after': 0}},
) }}

with

events as (

    select * from {{ ref('stg_incidents__events') }}
    where {{ months_recomputed('reported_month_date') }}

),

occupancy as (

    select * from {{ ref('stg_bed_availability__occupancy') }}
    where {{ months_recomputed('reporting_month_date') }}

),

trust_months as (

    select
        trust_code,
        reported_month_date as period_start,
        count(*) as incident_count,
        sum(
            case when degree_of_harm in ('moderate', 'severe', 'fatal') then 1 else 0 end
        ) as moderate_or_worse_harm_count,
        sum(
            case when degree_of_harm in ('severe', 'fatal') then 1 else 0 end
        ) as severe_or_fatal_harm_count,
        sum(case when is_never_event then 1 else 0 end) as never_event_count,
        sum(case when event_category = 'medication' then 1 else 0 end) as medication_incident_count,
        sum(
            case
                when event_category = 'medication' and degree_of_harm in ('moderate', 'severe', 'fatal')
                    then 1
                else 0
            end
        ) as medication_moderate_or_worse_harm_count
    from events
    group by
        trust_code,
        reported_month_date

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

bed_months_with_incidents as (

    select
        bed_months.trust_code,
        bed_months.period_start,
        bed_months.occupied_bed_days,
        coalesce(trust_months.incident_count, 0) as incident_count,
        coalesce(trust_months.moderate_or_worse_harm_count, 0) as moderate_or_worse_harm_count,
        coalesce(trust_months.medication_incident_count, 0) as medication_incident_count
    from bed_months
    left join trust_months
        on
            bed_months.trust_code = trust_months.trust_code
            and bed_months.period_start = trust_months.period_start

),

metric_rows as (

    select
        'incident_moderate_harm_share' as metric_id,
        trust_code,
        period_start,
        moderate_or_worse_harm_count as numerator,
        incident_count as denominator
    from trust_months

    union all

    select
        'incident_severe_harm_share' as metric_id,
        trust_code,
        period_start,
        severe_or_fatal_harm_count as numerator,
        incident_count as denominator
    from trust_months

    union all

    select
        'never_events' as metric_id,
        trust_code,
        period_start,
        never_event_count as numerator,
        1 as denominator
    from trust_months

    union all

    select
        'incident_moderate_harm_rate' as metric_id,
        trust_code,
        period_start,
        moderate_or_worse_harm_count as numerator,
        occupied_bed_days as denominator
    from bed_months_with_incidents

    union all

    select
        'incident_reporting_rate' as metric_id,
        trust_code,
        period_start,
        incident_count as numerator,
        occupied_bed_days as denominator
    from bed_months_with_incidents

    union all

    select
        'medication_incident_harm_share' as metric_id,
        trust_code,
        period_start,
        medication_moderate_or_worse_harm_count as numerator,
        medication_incident_count as denominator
    from trust_months

    union all

    select
        'medication_incident_reporting_rate' as metric_id,
        trust_code,
        period_start,
        medication_incident_count as numerator,
        occupied_bed_days as denominator
    from bed_months_with_incidents

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
