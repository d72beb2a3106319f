with

events as (

    select * from {{ ref('stg_incidents__events') }}

),

trust_months as (

    select
        trust_code,
        reported_month_date as period_start,
        count(*) as incident_count,
        sum(
            case when degree_of_harm in ('moderate', 'severe', 'fatal') then 1 else 0 end
        ) as moderate_or_worse_harm_count,
        sum(case when is_never_event then 1 else 0 end) as never_event_count
    from events
    group by
        trust_code,
        reported_month_date

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
        'never_events' as metric_id,
        trust_code,
        period_start,
        never_event_count as numerator,
        1 as denominator
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
