{#
    How well each priority of each strategy version is evidenced, from definitions and contract
    results only (never from metric values), so it is rebuilt even when a source failed and its
    metrics were not. A priority counts the metrics mapped to it and to every priority below it; it
    is at risk when a source table behind any of those metrics had a critical failure (the one rule:
    data_quality_results.is_critical_failure) or has no file loaded. It lacks history when one of
    those metrics has fewer months of source data than the catalogue says it needs
    (int_metric_histories_measured): a metric that cannot be computed yet, reported, not failed.
    Its coverage status is the first of seeds/coverage_statuses.csv whose condition holds, among
    those decided without metric values.
#}
with

priorities_resolved as (

    select * from {{ ref('int_priorities_resolved') }}

),

priority_ancestors as (

    select * from {{ ref('int_priority_ancestors') }}

),

strategy_versions as (

    select * from {{ ref('int_strategy_versions_resolved') }}

),

metric_priorities as (

    select * from {{ ref('metric_priorities') }}

),

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

source_tables as (

    select * from {{ ref('source_tables') }}

),

data_quality_results as (

    select * from {{ ref('data_quality_results') }}

),

metric_histories as (

    select * from {{ ref('int_metric_histories_measured') }}

),

coverage_statuses as (

    select * from {{ ref('coverage_statuses') }}
    where not needs_metric_values

),

priority_metrics as (

    select distinct
        priority_ancestors.strategy_version,
        priority_ancestors.ancestor_priority_id as priority_id,
        metric_priorities.metric_id,
        metric_priorities.role
    from priority_ancestors
    inner join metric_priorities
        on
            priority_ancestors.strategy_version = metric_priorities.strategy_version
            and priority_ancestors.priority_id = metric_priorities.priority_id

),

metric_source_tables as (

    select
        metric_catalogue.metric_id,
        metric_catalogue.domain as metric_domain,
        source_tables.source,
        source_tables.table_name
    from metric_catalogue
    inner join source_tables
        on ' ' || metric_catalogue.sources || ' ' like '% ' || source_tables.source || ' %'

),

file_results as (

    select
        source,
        table_name,
        source_file,
        file_period,
        max(rows_checked) as rows_checked,
        max(case when is_critical_failure then 1 else 0 end) as is_critical_failure,
        max(case when status = 'failed' then 1 else 0 end) as has_failure
    from data_quality_results
    group by
        source,
        table_name,
        source_file,
        file_period

),

critical_failures as (

    select distinct
        source,
        table_name,
        source || '/' || table_name || ': ' || check_name
        || coalesce(' (' || column_name || ')', '') || ' in ' || source_file as failing_check
    from data_quality_results
    where is_critical_failure

),

table_health as (

    select
        source_tables.source,
        source_tables.table_name,
        count(file_results.source_file) as files_loaded,
        coalesce(max(file_results.is_critical_failure), 0) as is_critical_failure,
        coalesce(max(file_results.has_failure), 0) as has_failure,
        max(
            case
                when file_results.is_critical_failure = 0 and file_results.rows_checked > 0
                    then file_results.file_period
            end
        ) as latest_period_date
    from source_tables
    left join file_results
        on
            source_tables.source = file_results.source
            and source_tables.table_name = file_results.table_name
    group by
        source_tables.source,
        source_tables.table_name

),

priority_tables as (

    select distinct
        priority_metrics.strategy_version,
        priority_metrics.priority_id,
        metric_source_tables.source,
        metric_source_tables.table_name,
        table_health.files_loaded,
        table_health.is_critical_failure,
        table_health.has_failure,
        table_health.latest_period_date,
        table_health.files_loaded = 0 or table_health.is_critical_failure = 1 as is_at_risk
    from priority_metrics
    inner join metric_source_tables
        on priority_metrics.metric_id = metric_source_tables.metric_id
    inner join table_health
        on
            metric_source_tables.source = table_health.source
            and metric_source_tables.table_name = table_health.table_name

),

metric_summary as (

    select
        strategy_version,
        priority_id,
        count(distinct metric_id) as metric_count,
        count(distinct case when role = 'primary' then metric_id end) as primary_metric_count
    from priority_metrics
    group by
        strategy_version,
        priority_id

),

metric_lists as (

    select
        strategy_version,
        priority_id,
        {{ dbt.listagg('metric_id', "', '", 'order by metric_id') }} as metric_ids
    from (
        select distinct
            strategy_version,
            priority_id,
            metric_id
        from priority_metrics
    ) as metrics
    group by
        strategy_version,
        priority_id

),

domain_lists as (

    select
        strategy_version,
        priority_id,
        {{ dbt.listagg('metric_domain', "', '", 'order by metric_domain') }} as metric_domains
    from (
        select distinct
            priority_metrics.strategy_version,
            priority_metrics.priority_id,
            metric_catalogue.domain as metric_domain
        from priority_metrics
        inner join metric_catalogue
            on priority_metrics.metric_id = metric_catalogue.metric_id
    ) as domains
    group by
        strategy_version,
        priority_id

),

source_lists as (

    select
        strategy_version,
        priority_id,
        count(*) as source_count,
        {{ dbt.listagg('source', "', '", 'order by source') }} as sources
    from (
        select distinct
            strategy_version,
            priority_id,
            source
        from priority_tables
    ) as sources
    group by
        strategy_version,
        priority_id

),

table_summary as (

    select
        strategy_version,
        priority_id,
        max(latest_period_date) as latest_period_date,
        max(case when is_at_risk then 1 else 0 end) as is_at_risk,
        max(has_failure) as has_failure
    from priority_tables
    group by
        strategy_version,
        priority_id

),

failing_sources as (

    select
        strategy_version,
        priority_id,
        {{ dbt.listagg('source_table', "', '", 'order by source_table') }} as failing_sources
    from (
        select distinct
            strategy_version,
            priority_id,
            source || '/' || table_name as source_table
        from priority_tables
        where is_at_risk
    ) as failing
    group by
        strategy_version,
        priority_id

),

history_shortfalls as (

    select
        strategy_version,
        priority_id,
        {{ dbt.listagg('history_shortfall', "'; '", 'order by history_shortfall') }} as insufficient_history
    from (
        select distinct
            priority_metrics.strategy_version,
            priority_metrics.priority_id,
            metric_histories.history_shortfall
        from priority_metrics
        inner join metric_histories
            on priority_metrics.metric_id = metric_histories.metric_id
        where not metric_histories.has_sufficient_history
    ) as shortfalls
    group by
        strategy_version,
        priority_id

),

failing_checks as (

    select
        strategy_version,
        priority_id,
        {{ dbt.listagg('failing_check', "'; '", 'order by failing_check') }} as failing_checks
    from (
        select distinct
            priority_tables.strategy_version,
            priority_tables.priority_id,
            coalesce(
                critical_failures.failing_check,
                priority_tables.source || '/' || priority_tables.table_name || ': no file loaded'
            ) as failing_check
        from priority_tables
        left join critical_failures
            on
                priority_tables.source = critical_failures.source
                and priority_tables.table_name = critical_failures.table_name
        where priority_tables.is_at_risk
    ) as checks
    group by
        strategy_version,
        priority_id

),

resolved as (

    select
        cast(priorities_resolved.strategy_version as string) as strategy_version,
        cast(coalesce(strategy_versions.is_active, false) as boolean) as is_active_strategy,
        cast(priorities_resolved.priority_id as string) as priority_id,
        cast(priorities_resolved.title as string) as priority_title,
        cast(priorities_resolved.level as string) as level,
        cast(priorities_resolved.parent_priority_id as string) as parent_priority_id,
        cast(priorities_resolved.domain as string) as domain,
        cast(coalesce(metric_summary.metric_count, 0) as integer) as metric_count,
        cast(coalesce(metric_summary.primary_metric_count, 0) as integer) as primary_metric_count,
        cast(metric_lists.metric_ids as string) as metric_ids,
        cast(domain_lists.metric_domains as string) as metric_domains,
        cast(coalesce(source_lists.source_count, 0) as integer) as source_count,
        cast(source_lists.sources as string) as sources,
        cast(table_summary.latest_period_date as date) as latest_period_date,
        cast(
            case
                when metric_summary.metric_count is null then 'no metric'
                when table_summary.is_at_risk = 1 then 'critical failure'
                when table_summary.has_failure = 1 then 'rows quarantined'
                else 'passed'
            end as string
        ) as contract_health,
        cast(coalesce(table_summary.is_at_risk, 0) = 1 as boolean) as is_at_risk,
        cast(failing_sources.failing_sources as string) as failing_sources,
        cast(failing_checks.failing_checks as string) as failing_checks,
        cast(history_shortfalls.priority_id is not null as boolean) as has_insufficient_history,
        cast(history_shortfalls.insufficient_history as string) as insufficient_history,
        metric_summary.metric_count is null as is_without_metric
    from priorities_resolved
    left join strategy_versions
        on priorities_resolved.strategy_version = strategy_versions.strategy_version
    left join metric_summary
        on
            priorities_resolved.strategy_version = metric_summary.strategy_version
            and priorities_resolved.priority_id = metric_summary.priority_id
    left join metric_lists
        on
            priorities_resolved.strategy_version = metric_lists.strategy_version
            and priorities_resolved.priority_id = metric_lists.priority_id
    left join domain_lists
        on
            priorities_resolved.strategy_version = domain_lists.strategy_version
            and priorities_resolved.priority_id = domain_lists.priority_id
    left join source_lists
        on
            priorities_resolved.strategy_version = source_lists.strategy_version
            and priorities_resolved.priority_id = source_lists.priority_id
    left join table_summary
        on
            priorities_resolved.strategy_version = table_summary.strategy_version
            and priorities_resolved.priority_id = table_summary.priority_id
    left join failing_sources
        on
            priorities_resolved.strategy_version = failing_sources.strategy_version
            and priorities_resolved.priority_id = failing_sources.priority_id
    left join failing_checks
        on
            priorities_resolved.strategy_version = failing_checks.strategy_version
            and priorities_resolved.priority_id = failing_checks.priority_id
    left join history_shortfalls
        on
            priorities_resolved.strategy_version = history_shortfalls.strategy_version
            and priorities_resolved.priority_id = history_shortfalls.priority_id

),

statuses as (

    select
        resolved.strategy_version,
        resolved.priority_id,
        min_by(coverage_statuses.coverage_status, coverage_statuses.precedence) as coverage_status
    from resolved
    inner join coverage_statuses
        on
            (coverage_statuses.condition = 'no_metric' and resolved.is_without_metric)
            or (coverage_statuses.condition = 'source_at_risk' and resolved.is_at_risk)
            or (coverage_statuses.condition = 'insufficient_history' and resolved.has_insufficient_history)
            or coverage_statuses.condition = 'otherwise'
    group by
        resolved.strategy_version,
        resolved.priority_id

),

final as (

    select
        resolved.strategy_version,
        resolved.is_active_strategy,
        resolved.priority_id,
        resolved.priority_title,
        resolved.level,
        resolved.parent_priority_id,
        resolved.domain,
        resolved.metric_count,
        resolved.primary_metric_count,
        resolved.metric_ids,
        resolved.metric_domains,
        resolved.source_count,
        resolved.sources,
        resolved.latest_period_date,
        resolved.contract_health,
        resolved.is_at_risk,
        resolved.failing_sources,
        resolved.failing_checks,
        resolved.has_insufficient_history,
        resolved.insufficient_history,
        cast(statuses.coverage_status as string) as coverage_status
    from resolved
    inner join statuses
        on
            resolved.strategy_version = statuses.strategy_version
            and resolved.priority_id = statuses.priority_id

)

select * from final
