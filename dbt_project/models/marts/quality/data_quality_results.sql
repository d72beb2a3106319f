with

check_results as (

    select * from {{ ref('stg_quality__check_results') }}

),

source_tables as (

    select distinct
        source as source_name,
        table_name,
        source_family
    from {{ ref('source_tables') }}

),

scored as (

    select
        check_results.source_name,
        check_results.table_name,
        source_tables.source_family,
        check_results.source_file,
        check_results.file_period,
        check_results.contract_version,
        check_results.check_name,
        check_results.column_name,
        check_results.category,
        check_results.severity,
        check_results.rows_checked,
        check_results.rows_failed,
        check_results.loaded_at,
        check_results.is_critical_failure,
        cast(check_results.rows_failed as double)
        / nullif(check_results.rows_checked, 0) as failure_rate,
        case
            when check_results.rows_failed > 0 or check_results.is_critical_failure then 'failed'
            else 'passed'
        end as status
    from check_results
    left join source_tables
        on
            check_results.source_name = source_tables.source_name
            and check_results.table_name = source_tables.table_name

),

final as (

    select
        cast(source_name as string) as source,
        cast(table_name as string) as table_name,
        cast(source_family as string) as source_family,
        cast(source_file as string) as source_file,
        cast(file_period as date) as file_period,
        cast(contract_version as string) as contract_version,
        cast(check_name as string) as check_name,
        cast(column_name as string) as column_name,
        cast(category as string) as category,
        cast(severity as string) as severity,
        cast(rows_checked as bigint) as rows_checked,
        cast(rows_failed as bigint) as rows_failed,
        cast(failure_rate as double) as failure_rate,
        cast(status as string) as status,
        cast(loaded_at as timestamp) as loaded_at,
        cast(is_critical_failure as boolean) as is_critical_failure
    from scored

)

select * from final
