{#
    Every metric in the catalogue must have values in metric_values (or, for a median or mean, its
    observations in int_metric_observations) and evidence at least one priority of the active
    strategy version; a metric that is defined but never computed, or computed but tied to no
    priority, is returned here. A metric whose sources do not yet cover the months of history it
    needs (int_metric_histories_measured) is not expected to have values: priority_coverage reports
    it as insufficient history instead. The first window of a long history's full refresh (var
    rebuild_through) holds too few months for some metrics while their sources hold enough: the
    windows after it build the rest, and the last checks every metric.
#}
with

metric_catalogue as (

    select * from {{ ref('dim_metrics') }}

),

metric_values as (

    select * from {{ ref('metric_values') }}

),

metric_observations as (

    select * from {{ ref('int_metric_observations') }}

),

metric_lineage as (

    select * from {{ ref('metric_lineage') }}

),

metric_histories as (

    select * from {{ ref('int_metric_histories_measured') }}

),

reported_metrics as (

    select distinct metric_id
    from metric_values
    union
    select distinct metric_id
    from metric_observations

),

prioritised_metrics as (

    select distinct metric_id
    from metric_lineage
    where is_active_strategy

),

final as (

    select
        metric_catalogue.metric_id,
        reported_metrics.metric_id is not null as is_reported,
        prioritised_metrics.metric_id is not null as is_prioritised,
        coalesce(metric_histories.has_sufficient_history, true) as has_sufficient_history
    from metric_catalogue
    left join reported_metrics
        on metric_catalogue.metric_id = reported_metrics.metric_id
    left join prioritised_metrics
        on metric_catalogue.metric_id = prioritised_metrics.metric_id
    left join metric_histories
        on metric_catalogue.metric_id = metric_histories.metric_id
    where
        (
            reported_metrics.metric_id is null
            and coalesce(metric_histories.has_sufficient_history, true)
            and {{ 'false' if var('rebuild_through', none) is not none else 'true' }}
        )
        or prioritised_metrics.metric_id is null

)

select * from final
