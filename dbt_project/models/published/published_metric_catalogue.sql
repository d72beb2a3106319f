{#
    The metric catalogue as published, with what BI users need to read published figures: each
    metric's follow-up, which of its figures are counts under disclosure control, and its latest
    complete month and the months one of its rows covers (int_metric_follow_ups_completed), so a
    dashboard can filter on figures that will not change.
#}
with

dim_metrics as (

    select * from {{ ref('dim_metrics') }}

),

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

follow_ups as (

    select * from {{ ref('int_metric_follow_ups_completed') }}

),

final as (

    select
        dim_metrics.metric_id,
        dim_metrics.title,
        dim_metrics.description,
        dim_metrics.domain,
        dim_metrics.unit,
        dim_metrics.unit_multiplier,
        dim_metrics.improvement_direction,
        dim_metrics.source_family,
        dim_metrics.sources,
        dim_metrics.numerator_definition,
        dim_metrics.denominator_definition,
        dim_metrics.reporting_frequency,
        dim_metrics.target,
        dim_metrics.red_line,
        dim_metrics.min_denominator,
        dim_metrics.funnel_type,
        dim_metrics.overdispersion_method,
        dim_metrics.version,
        dim_metrics.valid_from,
        dim_metrics.base_metric_id,
        cast(metric_catalogue.follow_up_months as integer) as follow_up_months,
        cast(metric_catalogue.is_numerator_count as boolean) as is_numerator_count,
        cast(metric_catalogue.is_denominator_count as boolean) as is_denominator_count,
        cast(follow_ups.latest_complete_month as date) as latest_complete_month,
        cast(follow_ups.months_per_period as integer) as months_per_period
    from dim_metrics
    inner join metric_catalogue
        on dim_metrics.metric_id = metric_catalogue.metric_id
    left join follow_ups
        on dim_metrics.metric_id = follow_ups.metric_id

)

select * from final
