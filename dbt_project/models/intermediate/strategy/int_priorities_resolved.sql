{#
    Walks each priority up its parents to the domain at the top of its strategy version, so every
    priority, however deep, carries the quality domain it belongs to.
#}
with recursive

priorities as (

    select * from {{ ref('priorities') }}

),

priority_ancestry as (

    select
        strategy_version,
        priority_id,
        parent_priority_id as ancestor_priority_id,
        priority_id as top_priority_id,
        0 as depth
    from priorities

    union all

    select
        priority_ancestry.strategy_version,
        priority_ancestry.priority_id,
        parents.parent_priority_id as ancestor_priority_id,
        parents.priority_id as top_priority_id,
        priority_ancestry.depth + 1 as depth
    from priority_ancestry
    inner join priorities as parents
        on
            priority_ancestry.strategy_version = parents.strategy_version
            and priority_ancestry.ancestor_priority_id = parents.priority_id
    where priority_ancestry.depth < 10

),

top_ancestor as (

    select
        strategy_version,
        priority_id,
        top_priority_id,
        depth
    from priority_ancestry
    where ancestor_priority_id is null

),

final as (

    select
        priorities.strategy_version,
        priorities.priority_id,
        priorities.parent_priority_id,
        priorities.level,
        priorities.title,
        priorities.description,
        priorities.valid_from,
        top_ancestor.top_priority_id as domain,
        top_ancestor.depth
    from priorities
    left join top_ancestor
        on
            priorities.strategy_version = top_ancestor.strategy_version
            and priorities.priority_id = top_ancestor.priority_id

)

select * from final
