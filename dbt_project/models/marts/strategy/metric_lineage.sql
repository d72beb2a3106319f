with

metric_priorities as (

    select * from {{ ref('metric_priorities') }}

),

strategy_versions as (

    select * from {{ ref('strategy_versions') }}

),

priorities_resolved as (

    select * from {{ ref('int_priorities_resolved') }}

),

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

active_metric_priorities as (

    select metric_priorities.*
    from metric_priorities
    inner join strategy_versions
        on metric_priorities.strategy_version = strategy_versions.strategy_version
    where strategy_versions.status = 'active'

),

final as (

    select
        cast(active_metric_priorities.strategy_version as varchar) as strategy_version,
        cast(active_metric_priorities.metric_id as varchar) as metric_id,
        cast(metric_catalogue.title as varchar) as metric_title,
        cast(active_metric_priorities.priority_id as varchar) as priority_id,
        cast(priorities_resolved.title as varchar) as priority_title,
        cast(priorities_resolved.level as varchar) as priority_level,
        cast(priorities_resolved.parent_priority_id as varchar) as parent_priority_id,
        cast(priorities_resolved.domain as varchar) as domain,
        cast(active_metric_priorities.role as varchar) as role,
        cast(active_metric_priorities.rationale as varchar) as rationale,
        cast(metric_catalogue.domain as varchar) as metric_domain,
        cast(metric_catalogue.source_family as varchar) as source_family,
        cast(metric_catalogue.sources as varchar) as sources
    from active_metric_priorities
    left join metric_catalogue
        on active_metric_priorities.metric_id = metric_catalogue.metric_id
    left join priorities_resolved
        on
            active_metric_priorities.strategy_version = priorities_resolved.strategy_version
            and active_metric_priorities.priority_id = priorities_resolved.priority_id

)

select * from final
