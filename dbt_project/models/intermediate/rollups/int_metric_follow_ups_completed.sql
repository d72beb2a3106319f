{#
    Each metric's latest complete month: its latest month of data less the catalogue's
    follow_up_months, the months after a month ends before its figures stop changing (30-day
    mortality needs the month plus 30 days, revisions within a year 12 months). Read by the
    published catalogue and the published metric values (is_latest_complete_period).
#}
with

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

metric_values_computed as (

    select * from {{ ref('int_metric_values_computed') }}

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
        metric_catalogue.metric_id,
        latest_months.latest_month,
        metric_catalogue.follow_up_months,
        cast(
            latest_months.latest_month - to_months(metric_catalogue.follow_up_months) as date
        ) as latest_complete_month
    from metric_catalogue
    left join latest_months
        on metric_catalogue.metric_id = latest_months.metric_id

)

select * from final
