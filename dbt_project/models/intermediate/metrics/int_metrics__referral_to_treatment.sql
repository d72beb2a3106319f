{#
    Waiting times of incomplete pathways (those still waiting at the end of the month), summed over
    treatment functions per trust and month: pathways within 18 weeks (the bands up to 18 weeks)
    and beyond 52 weeks (the bands from 52 weeks), out of the pathways with a known clock start, as
    NHS England reports the 18-week standard. Pathways whose clock start is unknown are in no band
    and are left out. An empty band (never so in a delivered file) counts as none. The median wait is computed from the same bands (int_metric_bands).

    Incremental: a month reads that month's return only.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 0, 'after': 0}},
) }}
{%- set bands = week_bands('referral_to_treatment', 'pathways') %}

with

pathways as (

    select * from {{ ref('stg_referral_to_treatment__pathways') }}
    where
        pathway_type = 'incomplete'
        and {{ months_recomputed('reporting_month_date') }}

),

trust_months as (

    select
        trust_code,
        reporting_month_date as period_start,
        sum(total_pathways) as pathway_count,
        sum(
            0
            {%- for column, _, weeks_to in bands if weeks_to is not none and weeks_to <= 18 %}
                + coalesce({{ column }}, 0)
            {%- endfor %}
        ) as within_18_weeks_count,
        sum(
            0
            {%- for column, weeks_from, _ in bands if weeks_from >= 52 %}
                + coalesce({{ column }}, 0)
            {%- endfor %}
        ) as beyond_52_weeks_count
    from pathways
    group by
        trust_code,
        reporting_month_date

),

metric_rows as (

    select
        'rtt_within_18_weeks' as metric_id,
        trust_code,
        period_start,
        within_18_weeks_count as numerator,
        pathway_count as denominator
    from trust_months

    union all

    select
        'rtt_52_week_waiters_per_1000' as metric_id,
        trust_code,
        period_start,
        beyond_52_weeks_count as numerator,
        pathway_count as denominator
    from trust_months

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
