with

source_check_results as (

    select * from {{ source('quality', 'check_results') }}

),

typed as (

    select
        cast(source as varchar) as source_name,
        cast(table_name as varchar) as table_name,
        cast(source_file as varchar) as source_file,
        cast(file_period as date) as file_period,
        cast(contract_version as varchar) as contract_version,
        cast(check_name as varchar) as check_name,
        cast(column_name as varchar) as column_name,
        cast(category as varchar) as category,
        cast(severity as varchar) as severity,
        cast(rows_checked as bigint) as rows_checked,
        cast(rows_failed as bigint) as rows_failed,
        cast(loaded_at as timestamp) as loaded_at,
        starts_with(cast(check_name as varchar), 'critical:') as is_whole_file_check
    from source_check_results

),

final as (

    select * from typed

)

select * from final
