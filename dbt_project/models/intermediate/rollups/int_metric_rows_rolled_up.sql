{#
    Sums numerators and denominators (never rates) from trust and month up to every organisation
    level, in both organisation views, and to quarters and financial years. Each cell appears once
    for all deprivation quintiles together (is_all_quintiles) and once per quintile recorded
    (imd_quintile empty for rows not broken down by deprivation).

    Incremental: the (metric, month) pairs whose trust rows differ from the trust-level monthly cells
    already built (as recorded, each quintile) are the changed ones, whatever made them change (a
    changed month, a follow-up window, or national rates as in the standardised ratio). Every cell
    of the periods they fall in (month, quarter, financial year) is summed again from the trust rows
    of those periods; a period left with no rows is deleted (macros/incremental_rollups.sql).
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['metric_id', 'period_type', 'period_start'],
    post_hook="{{ delete_emptied_periods() }}",
) }}

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

metrics_patient_experience as (

    select * from {{ ref('int_metrics__patient_experience') }}

),

metrics_referral_to_treatment as (

    select * from {{ ref('int_metrics__referral_to_treatment') }}

),

metrics_maternity as (

    select * from {{ ref('int_metrics__maternity') }}

),

metrics_adult_social_care as (

    select * from {{ ref('int_metrics__adult_social_care') }}

),

metrics_personalised_care as (

    select * from {{ ref('int_metrics__personalised_care') }}

),

organisation_bridge as (

    select * from {{ ref('int_organisation_rollup_bridge') }}

),

period_bridge as (

    select * from {{ ref('int_period_rollup_bridge') }}

),

metric_rows_of_every_month as (

    select * from metrics_incidents
    union all
    select * from metrics_hip_fracture_audit
    union all
    select * from metrics_stroke_audit
    union all
    select * from metrics_joint_registry
    union all
    select * from metrics_workforce
    union all
    select * from metrics_patient_experience
    union all
    select * from metrics_referral_to_treatment
    union all
    select * from metrics_maternity
    union all
    select * from metrics_adult_social_care
    union all
    select * from metrics_personalised_care

),

metric_rows as (

    -- in a window of a long history's full refresh, the months to the window's last
    select * from metric_rows_of_every_month
    where {{ months_rebuilt('period_start') }}

),

{% if not recomputes_every_month() %}

trust_months_built as (

    select
        metric_id,
        org_code as trust_code,
        period_start,
        imd_quintile,
        numerator,
        denominator
    from {{ this }}
    where
        org_view = 'as_recorded'
        and org_level in {{ reporting_unit_levels() }}
        and period_type = 'month'
        and not is_all_quintiles

),

trust_months_now as (

    select
        metric_rows.metric_id,
        metric_rows.trust_code,
        metric_rows.period_start,
        metric_rows.imd_quintile,
        sum(metric_rows.numerator) as numerator,
        sum(metric_rows.denominator) as denominator
    from metric_rows
    inner join organisation_bridge
        on
            metric_rows.trust_code = organisation_bridge.trust_code
            and organisation_bridge.org_view = 'as_recorded'
            and organisation_bridge.org_level in {{ reporting_unit_levels() }}
    inner join period_bridge
        on
            metric_rows.period_start = period_bridge.month_start_date
            and period_bridge.period_type = 'month'
    group by
        metric_rows.metric_id,
        metric_rows.trust_code,
        metric_rows.period_start,
        metric_rows.imd_quintile

),

trust_months_changed as (

    (select * from trust_months_now except select * from trust_months_built)
    union
    (select * from trust_months_built except select * from trust_months_now)

),

periods_recomputed as (

    {{ periods_of_months('trust_months_changed', 'period_bridge') }}

),

{% endif %}

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
    {{ join_periods_recomputed('metric_rows', 'period_bridge') }}

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
        cast(metric_id as string) as metric_id,
        cast(org_view as string) as org_view,
        cast(org_level as string) as org_level,
        cast(org_code as string) as org_code,
        cast(period_type as string) as period_type,
        cast(period_start as date) as period_start,
        cast(imd_quintile as integer) as imd_quintile,
        cast(is_all_quintiles as boolean) as is_all_quintiles,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        cast(months_reported as integer) as months_reported
    from rolled_up

    {% if not recomputes_every_month() -%}
    union all

    {{ period_markers('periods_recomputed', [
        'metric_id', 'org_view', 'org_level', 'org_code', 'period_type', 'period_start', 'imd_quintile',
        'is_all_quintiles', 'numerator', 'denominator', 'months_reported',
    ]) }}
    {%- endif %}

)

select * from final
