{#
    Metrics reported as a median of banded counts: aggregate returns count people in bands of a
    measure (weeks waited) rather than one row per person, so the median is interpolated within the
    band that holds it, at every level, from the band counts summed there
    (int_metric_bands_rolled_up). One row per metric, trust, month, quintile and band; bands with no
    one in them are left out.

    rtt_median_weeks_waited: incomplete pathways with a known clock start, summed over treatment
    functions, in their weekly bands of weeks waited (macros/week_bands.sql).

    Incremental, one window per metric: a month's bands belong to that month's return.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['metric_id', 'period_start'],
    meta={
        'recompute_key': 'metric_id',
        'recompute_windows': {
            'rtt_median_weeks_waited': {'before': 0, 'after': 0},
        },
    },
) }}
{%- set bands = week_bands('referral_to_treatment', 'pathways') %}

with

pathways as (

    select * from {{ ref('stg_referral_to_treatment__pathways') }}
    where
        pathway_type = 'incomplete'
        and {{ months_recomputed('reporting_month_date', key='rtt_median_weeks_waited') }}

),

trust_months as (

    select
        trust_code,
        {%- for column, _, _ in bands %}
            sum({{ column }}) as {{ column }},
        {%- endfor %}
        reporting_month_date as period_start
    from pathways
    group by
        trust_code,
        reporting_month_date

),

waiting_bands as (

    {%- for column, weeks_from, weeks_to in bands %}
        select
            'rtt_median_weeks_waited' as metric_id,
            trust_code,
            period_start,
            {{ weeks_from }} as band_from,
            {{ weeks_to if weeks_to is not none else 'null' }} as band_to,
            {{ column }} as band_count
        from trust_months
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(trust_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(null as integer) as imd_quintile,
        cast(band_from as double) as band_from,
        cast(band_to as double) as band_to,
        cast(band_count as double) as band_count
    from waiting_bands
    where band_count > 0

)

select * from final
