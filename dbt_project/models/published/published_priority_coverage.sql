{#
    marts.priority_coverage as published, column by column: a column added to the mart is not
    published until it is listed and described here. It holds how well each priority is evidenced
    (counts of metrics and sources, no figure about people), so no disclosure control applies.
#}
with

priority_coverage as (

    select * from {{ ref('priority_coverage') }}

),

final as (

    select
        strategy_version,
        is_active_strategy,
        priority_id,
        priority_title,
        level,
        parent_priority_id,
        domain,
        metric_count,
        primary_metric_count,
        metric_ids,
        metric_domains,
        source_count,
        sources,
        latest_period_date,
        contract_health,
        is_at_risk,
        failing_sources,
        failing_checks,
        has_insufficient_history,
        insufficient_history,
        coverage_status
    from priority_coverage

)

select * from final
