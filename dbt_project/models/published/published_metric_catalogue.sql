{#
    The metric catalogue as published, with each metric's latest complete month: the latest month
    whose follow-up has finished, so BI users can filter on figures that will not change.
#}
with

dim_metrics as (

    select * from {{ ref('dim_metrics') }}

),

metric_values as (

    select * from {{ ref('metric_values') }}

),

latest_months as (

    select
        metric_id,
        max(period_start) as latest_month
    from metric_values
    where period_type = 'month' and value is not null
    group by metric_id

),

final as (

    select
        dim_metrics.*,
        cast(latest_months.latest_month as date) as latest_complete_month
    from dim_metrics
    left join latest_months
        on dim_metrics.metric_id = latest_months.metric_id

)

select * from final
