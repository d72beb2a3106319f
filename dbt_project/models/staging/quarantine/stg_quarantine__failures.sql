with

source_failures as (

    select * from {{ source('quarantine', 'failures') }}

),

typed as (

    select
        cast(source as varchar) as source_name,
        cast(table_name as varchar) as table_name,
        cast(source_file as varchar) as source_file,
        cast(row_number as bigint) as source_row_number,
        cast(column_name as varchar) as column_name,
        cast(check_name as varchar) as check_name,
        cast(severity as varchar) as severity,
        cast(failure_value as varchar) as failure_value,
        cast(contract_version as varchar) as contract_version,
        cast(original_row as varchar) as original_row,
        severity != 'minor' as is_row_held
    from source_failures

),

final as (

    select * from typed

)

select * from final
