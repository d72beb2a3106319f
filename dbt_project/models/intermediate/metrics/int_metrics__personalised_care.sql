{#
    Personalised care coverage by trust and month: people with a care and support plan, or a
    personal health budget, among the people on the caseload eligible for one. The return counts
    people at each month's end, so a quarter or year sums person-months: its share is the average
    coverage over its months, weighted by caseload.

    Incremental: a month reads that month's return only.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 0, 'after': 0}},
) }}

with

interventions as (

    select * from {{ ref('stg_personalised_care__interventions') }}
    where {{ months_recomputed('reporting_month_date') }}

),

metric_rows as (

    select
        trust_code,
        reporting_month_date as period_start,
        people_with_intervention as numerator,
        people_eligible as denominator,
        case intervention
            when 'care_and_support_plan' then 'care_and_support_plan_coverage'
            when 'personal_health_budget' then 'personal_health_budget_coverage'
        end as metric_id
    from interventions

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(trust_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(null as integer) as imd_quintile,
        cast(sum(numerator) as double) as numerator,
        cast(sum(denominator) as double) as denominator
    from metric_rows
    group by
        metric_id,
        trust_code,
        period_start

)

select * from final
