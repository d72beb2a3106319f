{#
    The metric rows that record the ethnic group of the people counted, summed (never averaged) from
    trust and month to every organisation level, in both organisation views, and to quarters and
    financial years, one broad ethnic group at a time: as int_metric_rows_rolled_up sums every
    metric's rows by deprivation quintile. Each source that records ethnicity defines its metrics'
    rows by group in one model, int_metric_rows_by_ethnic_group__<source>, read here.

    A table rebuilt whole: its input is a few metrics' rows per trust, month and group, so it stays
    small whatever the volume of the source.
#}
with

rows_maternity as (

    select * from {{ ref('int_metric_rows_by_ethnic_group__maternity') }}

),

organisation_bridge as (

    select * from {{ ref('int_organisation_rollup_bridge') }}

),

period_bridge as (

    select * from {{ ref('int_period_rollup_bridge') }}

),

metric_rows as (

    select
        metric_id,
        trust_code,
        period_start,
        ethnic_group,
        numerator,
        denominator
    from rows_maternity

),

rows_placed as (

    select
        metric_rows.metric_id,
        organisation_bridge.org_view,
        organisation_bridge.org_level,
        organisation_bridge.org_code,
        period_bridge.period_type,
        period_bridge.period_start,
        metric_rows.ethnic_group,
        metric_rows.period_start as month_start_date,
        metric_rows.numerator,
        metric_rows.denominator
    from metric_rows
    inner join organisation_bridge
        on metric_rows.trust_code = organisation_bridge.trust_code
    inner join period_bridge
        on metric_rows.period_start = period_bridge.month_start_date

),

rolled_up as (

    select
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        ethnic_group,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        count(distinct month_start_date) as months_reported
    from rows_placed
    group by
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        ethnic_group

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(org_view as string) as org_view,
        cast(org_level as string) as org_level,
        cast(org_code as string) as org_code,
        cast(period_type as string) as period_type,
        cast(period_start as date) as period_start,
        cast(ethnic_group as string) as ethnic_group,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        cast(months_reported as integer) as months_reported
    from rolled_up

)

select * from final
