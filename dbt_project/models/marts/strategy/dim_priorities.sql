with

priorities_resolved as (

    select * from {{ ref('int_priorities_resolved') }}

),

strategy_versions as (

    select * from {{ ref('int_strategy_versions_resolved') }}

),

metric_priorities as (

    select * from {{ ref('metric_priorities') }}

),

metric_counts as (

    select
        strategy_version,
        priority_id,
        count(*) as metric_count
    from metric_priorities
    group by
        strategy_version,
        priority_id

),

final as (

    select
        cast(priorities_resolved.strategy_version as string) as strategy_version,
        cast(priorities_resolved.priority_id as string) as priority_id,
        cast(priorities_resolved.parent_priority_id as string) as parent_priority_id,
        cast(priorities_resolved.level as string) as level,
        cast(priorities_resolved.title as string) as title,
        cast(priorities_resolved.description as string) as description,
        cast(priorities_resolved.domain as string) as domain,
        cast(priorities_resolved.depth as integer) as depth,
        cast(priorities_resolved.valid_from as date) as valid_from,
        cast(strategy_versions.status as string) as strategy_status,
        cast(strategy_versions.is_active as boolean) as is_active_strategy,
        cast(coalesce(metric_counts.metric_count, 0) as integer) as metric_count,
        cast(metric_counts.metric_count is not null as boolean) as has_metric
    from priorities_resolved
    left join strategy_versions
        on priorities_resolved.strategy_version = strategy_versions.strategy_version
    left join metric_counts
        on
            priorities_resolved.strategy_version = metric_counts.strategy_version
            and priorities_resolved.priority_id = metric_counts.priority_id

)

select * from final
