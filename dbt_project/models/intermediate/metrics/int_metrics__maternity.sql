{#
    The maternity metrics by trust, month and deprivation quintile, for the roll-ups: their rows by
    ethnic group (int_metric_rows_by_ethnic_group__maternity, where they are defined) summed over
    the groups.

    Incremental: a month reads that month's rows only.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 0, 'after': 0}},
) }}

with

rows_by_ethnic_group as (

    select * from {{ ref('int_metric_rows_by_ethnic_group__maternity') }}
    where {{ months_recomputed('period_start') }}

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(trust_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(imd_quintile as integer) as imd_quintile,
        cast(sum(numerator) as double) as numerator,
        cast(sum(denominator) as double) as denominator
    from rows_by_ethnic_group
    group by
        metric_id,
        trust_code,
        period_start,
        imd_quintile

)

select * from final
