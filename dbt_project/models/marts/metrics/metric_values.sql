{#
    Every metric at every level of the organisation hierarchy (trust, ICB, region, England), for
    months, financial quarters and financial years, in two views of merged trusts (org_view). Values
    come from summed numerators and denominators, never from averaged rates; medians from the
    observations; the unit, multiplier and minimum denominator from the metric catalogue.

    Incremental: the periods int_metric_values_computed recomputed are replaced, every cell of each
    (macros/incremental_rollups.sql).
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['metric_id', 'period_type', 'period_start'],
    on_schema_change='fail',
    pre_hook="{{ delete_periods_pending() }}",
    post_hook="{{ recompute_periods_pending() }}",
) }}
with

{% if not recomputes_every_month() -%}
periods_recomputed as (

    {{ periods_pending() }}

),

{% endif -%}
metric_values_computed as (

    select computed.* from {{ ref('int_metric_values_computed') }} as computed
    {{ in_periods_recomputed('computed') }}

),

hierarchy as (

    select * from {{ ref('int_organisations_hierarchy') }}

),

period_bridge as (

    select * from {{ ref('int_period_rollup_bridge') }}

),

periods as (

    select distinct
        period_type,
        period_start,
        period_end,
        financial_year
    from period_bridge

),

final as (

    select
        cast(metric_values_computed.metric_id as string) as metric_id,
        cast(metric_values_computed.org_code as string) as org_code,
        cast(metric_values_computed.org_level as string) as org_level,
        cast(metric_values_computed.period_type as string) as period_type,
        cast(metric_values_computed.period_start as date) as period_start,
        cast(periods.financial_year as string) as financial_year,
        cast(metric_values_computed.numerator as double) as numerator,
        cast(metric_values_computed.denominator as double) as denominator,
        cast(metric_values_computed.value as double) as value,
        cast(metric_values_computed.ci_lower as double) as ci_lower,
        cast(metric_values_computed.ci_upper as double) as ci_upper,
        cast(metric_values_computed.org_view as string) as org_view,
        cast(hierarchy.org_name as string) as org_name,
        cast(periods.period_end as date) as period_end,
        cast(metric_values_computed.unit as string) as unit,
        cast(metric_values_computed.is_published as boolean) as is_published,
        cast(metric_values_computed.months_reported as integer) as months_reported,
        cast(metric_values_computed.standard_error as double) as standard_error,
        cast(metric_values_computed.median_interpolated as double) as median_interpolated
    from metric_values_computed
    left join hierarchy
        on metric_values_computed.org_code = hierarchy.org_code
    left join periods
        on
            metric_values_computed.period_type = periods.period_type
            and metric_values_computed.period_start = periods.period_start
    where metric_values_computed.is_all_quintiles

)

select * from final
