{#
    Medians and means cannot be summed from trust to ICB to England, so the metrics reported as a
    median or mean keep one row per patient or event here and are summarised at every level
    downstream. Each observation sits in the trust, month and deprivation quintile the catalogue
    attributes it to.

    Incremental, one window per metric: a report delay or a stroke unit wait belongs to the month
    of its own record; an Oxford score gain belongs to the month of its procedure but arrives with
    a questionnaire filed months later, so its months are recomputed at every build (the registry
    is small).
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['metric_id', 'period_start'],
    meta={
        'recompute_key': 'metric_id',
        'recompute_windows': {
            'incident_report_days_median': {'before': 0, 'after': 0},
            'stroke_unit_minutes_median': {'before': 0, 'after': 0},
            'proms_oxford_gain_mean': {'before': none, 'after': none},
        },
    },
) }}

with

events as (

    select * from {{ ref('stg_incidents__events') }}

),

admissions as (

    select * from {{ ref('stg_stroke_audit__admissions') }}

),

procedures as (

    select * from {{ ref('stg_joint_registry__procedures') }}

),

proms as (

    select * from {{ ref('stg_joint_registry__proms') }}

),

report_delays as (

    select
        'incident_report_days_median' as metric_id,
        trust_code,
        reported_month_date as period_start,
        cast(null as integer) as imd_quintile,
        {{ dbt.datediff('event_date', 'reported_date', 'day') }}
            as observation
    from events
    where {{ months_recomputed('reported_month_date', key='incident_report_days_median') }}

),

stroke_unit_waits as (

    select
        'stroke_unit_minutes_median' as metric_id,
        trust_code,
        arrival_month_date as period_start,
        imd_quintile,
        hours_to_stroke_unit * 60 as observation
    from admissions
    where
        stroke_unit_arrival_at is not null
        and {{ months_recomputed('arrival_month_date', key='stroke_unit_minutes_median') }}

),

oxford_score_gains as (

    select
        'proms_oxford_gain_mean' as metric_id,
        procedures.trust_code,
        procedures.procedure_month_date as period_start,
        procedures.imd_quintile,
        proms.score_gain as observation
    from procedures
    inner join proms
        on procedures.procedure_id = proms.procedure_id
    where
        proms.pre_op_score is not null
        and proms.post_op_score is not null
        and {{ months_recomputed('procedures.procedure_month_date', key='proms_oxford_gain_mean') }}

),

observations_unioned as (

    select * from report_delays
    union all
    select * from stroke_unit_waits
    union all
    select * from oxford_score_gains

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(trust_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(imd_quintile as integer) as imd_quintile,
        cast(observation as double) as observation
    from observations_unioned

)

select * from final
