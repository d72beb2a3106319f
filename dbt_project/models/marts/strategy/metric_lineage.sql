{#
    The line from each metric forward to the priorities it evidences and back to the source
    families, source tables, contracts and dbt models it is computed from, in every strategy version.
#}
with

metric_priorities as (

    select * from {{ ref('metric_priorities') }}

),

strategy_versions as (

    select * from {{ ref('int_strategy_versions_resolved') }}

),

priorities_resolved as (

    select * from {{ ref('int_priorities_resolved') }}

),

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

source_tables as (

    select * from {{ ref('source_tables') }}

),

source_tables_traced as (

    select * from {{ ref('int_source_tables_traced') }}

),

upstream_models as (

    select
        source,
        table_name,
        {{ dbt.listagg('model_name', "' > '", 'order by step, model_name') }} as upstream_models
    from source_tables_traced
    group by
        source,
        table_name

),

metric_source_tables as (

    select
        metric_catalogue.metric_id,
        source_tables.source,
        source_tables.table_name,
        source_tables.source_family,
        source_tables.contract,
        source_tables.contract_version,
        source_tables.file_glob
    from metric_catalogue
    inner join source_tables
        on ' ' || metric_catalogue.sources || ' ' like '% ' || source_tables.source || ' %'

),

final as (

    select
        cast(metric_priorities.strategy_version as string) as strategy_version,
        cast(coalesce(strategy_versions.is_active, false) as boolean) as is_active_strategy,
        cast(metric_priorities.metric_id as string) as metric_id,
        cast(metric_catalogue.title as string) as metric_title,
        cast(metric_priorities.priority_id as string) as priority_id,
        cast(priorities_resolved.title as string) as priority_title,
        cast(priorities_resolved.level as string) as priority_level,
        cast(priorities_resolved.parent_priority_id as string) as parent_priority_id,
        cast(priorities_resolved.domain as string) as domain,
        cast(metric_priorities.role as string) as role,
        cast(metric_priorities.rationale as string) as rationale,
        cast(metric_catalogue.domain as string) as metric_domain,
        cast(metric_source_tables.source_family as string) as source_family,
        cast(metric_catalogue.sources as string) as sources,
        cast(metric_source_tables.source as string) as source_name,
        cast(metric_source_tables.table_name as string) as table_name,
        cast(metric_source_tables.contract as string) as contract,
        cast(metric_source_tables.contract_version as string) as contract_version,
        cast(metric_source_tables.file_glob as string) as file_glob,
        cast(upstream_models.upstream_models as string) as upstream_models
    from metric_priorities
    left join strategy_versions
        on metric_priorities.strategy_version = strategy_versions.strategy_version
    left join metric_catalogue
        on metric_priorities.metric_id = metric_catalogue.metric_id
    left join priorities_resolved
        on
            metric_priorities.strategy_version = priorities_resolved.strategy_version
            and metric_priorities.priority_id = priorities_resolved.priority_id
    left join metric_source_tables
        on metric_priorities.metric_id = metric_source_tables.metric_id
    left join upstream_models
        on
            metric_source_tables.source = upstream_models.source
            and metric_source_tables.table_name = upstream_models.table_name

)

select * from final
