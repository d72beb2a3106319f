with

source_check_results as (

    select * from {{ source('quality', 'check_results') }}

),

critical_failure_rule as (

    select cast(value as string) as refusing_severity
    from {{ ref('critical_failure_rule') }}
    where parameter = 'refusing_severity'

),

typed as (

    select
        cast(source_check_results.source as string) as source_name,
        cast(source_check_results.table_name as string) as table_name,
        cast(source_check_results.source_file as string) as source_file,
        cast(source_check_results.file_period as date) as file_period,
        cast(source_check_results.contract_version as string) as contract_version,
        cast(source_check_results.check_name as string) as check_name,
        cast(source_check_results.column_name as string) as column_name,
        cast(source_check_results.category as string) as category,
        cast(source_check_results.severity as string) as severity,
        cast(source_check_results.rows_checked as bigint) as rows_checked,
        cast(source_check_results.rows_failed as bigint) as rows_failed,
        cast(source_check_results.loaded_at as timestamp) as loaded_at,
        coalesce(
            cast(source_check_results.severity as string) = critical_failure_rule.refusing_severity, false
        ) as is_critical_failure
    from source_check_results
    cross join critical_failure_rule

),

final as (

    select * from typed

)

select * from final
