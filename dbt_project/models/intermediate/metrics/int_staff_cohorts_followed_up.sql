{#
    The stability index follows each person from the month twelve months earlier. A trust that has
    merged since is followed under its successor, so staff who moved with the merger count as
    stable. Only months the staff records cover get a row, and only when the month twelve months
    earlier had staff records too.

    People are matched on a whole-number key of their hashed staff id (macros/identifier_keys.sql):
    the join of every month with the month a year later is the largest in the build, and on the
    64-character hash it spills several times the memory of the build to disk.

    Incremental: a month reads its own staff records and those of twelve months earlier, so a
    changed month is recomputed with the twelve months after it.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 12, 'after': 0}},
) }}

with

staff_months as (

    select
        {{ identifier_key('staff_id_hash') }} as staff_key,
        trust_code,
        reporting_month_date
    from {{ ref('stg_workforce__staff_months') }}
    where {{ months_read('reporting_month_date') }}

),

organisations as (

    select * from {{ ref('stg_organisations__organisations') }}

),

reported_months as (

    select distinct reporting_month_date as period_start
    from staff_months
    where {{ months_recomputed('reporting_month_date') }}

),

cohorts as (

    select
        staff_months.staff_key,
        reported_months.period_start,
        case
            when organisations.close_date < reported_months.period_start
                then organisations.successor_code
            else staff_months.trust_code
        end as trust_code
    from staff_months
    inner join reported_months
        on {{ dbt.dateadd('month', 12, 'staff_months.reporting_month_date') }} = reported_months.period_start
    left join organisations
        on staff_months.trust_code = organisations.org_code

),

final as (

    select
        cohorts.trust_code,
        cast(cohorts.period_start as date) as period_start,
        count(*) as cohort_headcount,
        count(still_in_post.staff_key) as still_in_post_count
    from cohorts
    left join staff_months as still_in_post
        on
            cohorts.staff_key = still_in_post.staff_key
            and cohorts.trust_code = still_in_post.trust_code
            and cohorts.period_start = still_in_post.reporting_month_date
    group by
        cohorts.trust_code,
        cohorts.period_start

)

select * from final
