{#
    Every priority paired with itself and each priority above it in the same strategy version, so
    what is mapped to a sub-priority also counts for its priority and domain.
#}
with recursive

priorities as (

    select * from {{ ref('priorities') }}

),

ancestry as (

    select
        strategy_version,
        priority_id,
        priority_id as ancestor_priority_id,
        parent_priority_id as next_priority_id,
        0 as distance
    from priorities

    union all

    select
        ancestry.strategy_version,
        ancestry.priority_id,
        parents.priority_id as ancestor_priority_id,
        parents.parent_priority_id as next_priority_id,
        ancestry.distance + 1 as distance
    from ancestry
    inner join priorities as parents
        on
            ancestry.strategy_version = parents.strategy_version
            and ancestry.next_priority_id = parents.priority_id
    where ancestry.distance < 10

),

final as (

    select
        strategy_version,
        priority_id,
        ancestor_priority_id,
        distance
    from ancestry

)

select * from final
