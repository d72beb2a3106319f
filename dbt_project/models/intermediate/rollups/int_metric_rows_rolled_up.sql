{#
    Sums numerators and denominators (never rates) from trust and month up to every organisation
    level, in both organisation views, and to quarters and financial years. Each cell appears once
    for all deprivation quintiles together (is_all_quintiles) and once per quintile recorded
    (imd_quintile empty for rows not broken down by deprivation).
#}
with

metrics_incidents as (

    select * from {{ ref('int_metrics__incidents') }}

),

metrics_hip_fracture_audit as (

    select * from {{ ref('int_metrics__hip_fracture_audit') }}

),

metrics_stroke_audit as (

    select * from {{ ref('int_metrics__stroke_audit') }}

),

metrics_joint_registry as (

    select * from {{ ref('int_metrics__joint_registry') }}

),

metrics_workforce as (

    select * from {{ ref('int_metrics__workforce') }}

),

organisation_bridge as (

    select * from {{ ref('int_organisation_rollup_bridge') }}

),

period_bridge as (

    select * from {{ ref('int_period_rollup_bridge') }}

),

metric_rows as (

    select * from metrics_incidents
    union all
    select * from metrics_hip_fracture_audit
    union all
    select * from metrics_stroke_audit
    union all
    select * from metrics_joint_registry
    union all
    select * from metrics_workforce

),

rows_placed as (

    select
        metric_rows.metric_id,
        organisation_bridge.org_view,
        organisation_bridge.org_level,
        organisation_bridge.org_code,
        period_bridge.period_type,
        period_bridge.period_start,
        metric_rows.imd_quintile,
        metric_rows.period_start as month_start_date,
        metric_rows.numerator,
        metric_rows.denominator
    from metric_rows
    inner join organisation_bridge
        on metric_rows.trust_code = organisation_bridge.trust_code
    inner join period_bridge
        on metric_rows.period_start = period_bridge.month_start_date

),

rows_by_quintile as (

    select
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        false as is_all_quintiles,
        month_start_date,
        numerator,
        denominator
    from rows_placed

    union all

    select
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        cast(null as integer) as imd_quintile,
        true as is_all_quintiles,
        month_start_date,
        numerator,
        denominator
    from rows_placed

),

rolled_up as (

    select
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(distinct month_start_date) as months_reported
    from rows_by_quintile
    group by
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles

),

final as (

    select
        cast(metric_id as varchar) as metric_id,
        cast(org_view as varchar) as org_view,
        cast(org_level as varchar) as org_level,
        cast(org_code as varchar) as org_code,
        cast(period_type as varchar) as period_type,
        cast(period_start as date) as period_start,
        cast(imd_quintile as integer) as imd_quintile,
        cast(is_all_quintiles as boolean) as is_all_quintiles,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        cast(months_reported as integer) as months_reported
    from rolled_up

)

select * from final
