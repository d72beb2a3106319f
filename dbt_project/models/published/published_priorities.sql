{#
    marts.priorities as published, column by column: a column added to the mart is not published
    until it is listed and described here. It holds the priority tree of every strategy version
    (definitions), so no disclosure control applies.
#}
with

dim_priorities as (

    select * from {{ ref('dim_priorities') }}

),

final as (

    select
        strategy_version,
        priority_id,
        parent_priority_id,
        level,
        title,
        description,
        domain,
        depth,
        valid_from,
        strategy_status,
        is_active_strategy,
        metric_count,
        has_metric
    from dim_priorities

)

select * from final
