{#
    Every check of every landed file, as landing recorded it, with the source family from the
    registry. A check failed when it failed any row or when it is a whole-file (critical) check.
#}
with

check_results as (

    select * from {{ source('landing_checks', 'results') }}

),

source_tables as (

    select * from {{ ref('source_tables') }}

),

final as (

    select  -- noqa: ST06 (the published column order)
        cast(check_results.source as varchar) as source,  -- noqa: RF04
        cast(check_results.table_name as varchar) as table_name,
        cast(source_tables.source_family as varchar) as source_family,
        cast(check_results.source_file as varchar) as source_file,
        cast(check_results.file_period as date) as file_period,
        cast(check_results.contract_version as varchar) as contract_version,
        cast(check_results.check_name as varchar) as check_name,
        cast(check_results.column_name as varchar) as column_name,
        cast(check_results.category as varchar) as category,
        cast(check_results.severity as varchar) as severity,
        cast(check_results.rows_checked as bigint) as rows_checked,
        cast(check_results.rows_failed as bigint) as rows_failed,
        cast(check_results.rows_failed as double)
        / nullif(check_results.rows_checked, 0) as failure_rate,
        cast(
            case
                when check_results.rows_failed > 0 or check_results.check_name like 'critical:%'
                    then 'failed'
                else 'passed'
            end as varchar
        ) as status,
        cast(check_results.loaded_at as timestamp) as loaded_at
    from check_results
    left join source_tables
        on
            check_results.source = source_tables.source
            and check_results.table_name = source_tables.table_name
            and check_results.contract_version = source_tables.contract_version

)

select * from final
