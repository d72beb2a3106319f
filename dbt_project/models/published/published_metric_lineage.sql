{#
    marts.metric_lineage as published, column by column: a column added to the mart is not published
    until it is listed and described here. It holds the links from metrics to priorities and source
    tables (definitions), so no disclosure control applies.
#}
with

metric_lineage as (

    select * from {{ ref('metric_lineage') }}

),

final as (

    select
        strategy_version,
        is_active_strategy,
        metric_id,
        metric_title,
        priority_id,
        priority_title,
        priority_level,
        parent_priority_id,
        domain,
        role,
        rationale,
        metric_domain,
        source_family,
        sources,
        source_name,
        table_name,
        contract,
        contract_version,
        file_glob,
        upstream_models
    from metric_lineage

)

select * from final
