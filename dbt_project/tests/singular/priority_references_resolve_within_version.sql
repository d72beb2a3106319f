{#
    A parent priority and a metric's priority must exist in the same strategy version as the row
    that names them, and a domain must be one of the seven quality domains; each broken reference
    is returned.
#}
with

priorities as (

    select * from {{ ref('priorities') }}

),

metric_priorities as (

    select * from {{ ref('metric_priorities') }}

),

orphan_parents as (

    select
        children.strategy_version,
        children.priority_id as referring_id,
        children.parent_priority_id as missing_priority_id,
        'priorities.parent_priority_id' as reference
    from priorities as children
    left join priorities as parents
        on
            children.strategy_version = parents.strategy_version
            and children.parent_priority_id = parents.priority_id
    where
        children.parent_priority_id is not null
        and parents.priority_id is null

),

orphan_metric_priorities as (

    select
        metric_priorities.strategy_version,
        metric_priorities.metric_id as referring_id,
        metric_priorities.priority_id as missing_priority_id,
        'metric_priorities.priority_id' as reference
    from metric_priorities
    left join priorities
        on
            metric_priorities.strategy_version = priorities.strategy_version
            and metric_priorities.priority_id = priorities.priority_id
    where priorities.priority_id is null

),

unknown_domains as (

    select
        strategy_version,
        priority_id as referring_id,
        priority_id as missing_priority_id,
        'priorities.level domain' as reference
    from priorities
    where
        level = 'domain'
        and priority_id not in (
            'safe', 'effective', 'positive_experience', 'access', 'equity', 'value', 'well_led'
        )

),

final as (

    select * from orphan_parents
    union all
    select * from orphan_metric_priorities
    union all
    select * from unknown_domains

)

select * from final
