{#
    How many months of history each metric has, against the months the catalogue says it needs
    (history_months_required). A source table's history is the months from the earliest to the
    latest month its loaded files cover, both included (a file refused as a whole covers nothing; one
    delivered with no row still covers its month); a table whose files cover no month
    (organisations) has none to count. A
    metric's history is the shortest among the source tables behind it. A metric with less history
    than it needs cannot be computed yet: priority_coverage reports it as insufficient history and
    the catalogue test does not expect values from it. nqs.coverage applies the same rule to the
    check results landing wrote, for Dagster.
#}
with

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

source_tables as (

    select * from {{ ref('source_tables') }}

),

data_quality_results as (

    select * from {{ ref('data_quality_results') }}

),

file_results as (

    select
        source,
        table_name,
        source_file,
        file_period,
        max(case when is_critical_failure then 1 else 0 end) as is_critical_failure
    from data_quality_results
    group by
        source,
        table_name,
        source_file,
        file_period

),

loaded_files as (

    select * from file_results
    where is_critical_failure = 0

),

table_periods as (

    select
        source_tables.source,
        source_tables.table_name,
        count(loaded_files.source_file) as files_loaded,
        count(loaded_files.file_period) as files_with_period,
        min(loaded_files.file_period) as first_period_date,
        max(loaded_files.file_period) as latest_period_date
    from source_tables
    left join loaded_files
        on
            source_tables.source = loaded_files.source
            and source_tables.table_name = loaded_files.table_name
    group by
        source_tables.source,
        source_tables.table_name

),

table_histories as (

    select
        source,
        table_name,
        case
            when files_with_period = 0 then 0
            else
                1 + {{ dbt.datediff('first_period_date', 'latest_period_date', 'month') }}  -- noqa: LT05
        end as history_months
    from table_periods
    -- a table whose files cover no month has no history to count; one with no file has none at all
    where files_loaded = 0 or files_with_period > 0

),

metric_histories as (

    select
        metric_catalogue.metric_id,
        metric_catalogue.history_months_required,
        coalesce(min(table_histories.history_months), 0) as history_months_available
    from metric_catalogue
    left join table_histories
        on ' ' || metric_catalogue.sources || ' ' like '% ' || table_histories.source || ' %'
    group by
        metric_catalogue.metric_id,
        metric_catalogue.history_months_required

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(history_months_required as integer) as history_months_required,
        cast(history_months_available as integer) as history_months_available,
        history_months_available >= history_months_required as has_sufficient_history,
        case
            when history_months_available < history_months_required
                then
                    metric_id || ' needs ' || cast(history_months_required as string)
                    || ' months of history, has ' || cast(history_months_available as string)
        end as history_shortfall
    from metric_histories

)

select * from final
