{#
    Each metric's latest complete month: the last month its latest row of data covers, less the
    catalogue's follow_up_months, the months after a month ends before its figures stop changing
    (30-day mortality needs the month plus 30 days, revisions within a year 12 months). A monthly
    metric's row covers its month; a quarterly or annual one's sits on its period's first month and
    covers the quarter or financial year (months_per_period), so a financial year is complete once
    its file (or its last quarter's) has landed. Read by the published catalogue and the published
    metric values (is_latest_complete_period).
#}
with

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

metric_values_computed as (

    select * from {{ ref('int_metric_values_computed') }}

),

catalogue_periods as (

    select
        metric_id,
        follow_up_months,
        {{ months_per_period('reporting_frequency') }} as months_per_period
    from metric_catalogue

),

latest_months as (

    select
        metric_id,
        max(period_start) as latest_month
    from metric_values_computed
    where period_type = 'month' and is_all_quintiles
    group by metric_id

),

final as (

    select
        catalogue_periods.metric_id,
        latest_months.latest_month,
        catalogue_periods.months_per_period,
        catalogue_periods.follow_up_months,
        cast(
            latest_months.latest_month
            + interval 1 month * (catalogue_periods.months_per_period - 1)
            - interval 1 month * catalogue_periods.follow_up_months as date
        ) as latest_complete_month
    from catalogue_periods
    left join latest_months
        on catalogue_periods.metric_id = latest_months.metric_id

)

select * from final
