{# Incremental: a month reads that month's admissions only. #}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 0, 'after': 0}},
) }}

with

admissions as (

    select * from {{ ref('stg_stroke_audit__admissions') }}
    where {{ months_recomputed('arrival_month_date') }}

),

trust_months as (

    select
        trust_code,
        arrival_month_date as period_start,
        imd_quintile,
        count(*) as admission_count,
        sum(case when hours_to_stroke_unit <= 4 then 1 else 0 end) as stroke_unit_within_4h_count,
        sum(case when is_thrombolysed then 1 else 0 end) as thrombolysed_count
    from admissions
    group by
        trust_code,
        arrival_month_date,
        imd_quintile

),

metric_rows as (

    select
        'stroke_unit_within_4h' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        stroke_unit_within_4h_count as numerator,
        admission_count as denominator
    from trust_months

    union all

    select
        'stroke_thrombolysis_rate' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        thrombolysed_count as numerator,
        admission_count as denominator
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
