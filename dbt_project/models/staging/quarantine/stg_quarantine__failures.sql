with

source_failures as (

    select * from {{ source('quarantine', 'failures') }}

),

typed as (

    select
        cast(source as string) as source_name,
        cast(table_name as string) as table_name,
        cast(source_file as string) as source_file,
        cast(row_number as bigint) as source_row_number,
        cast(column_name as string) as column_name,
        cast(check_name as string) as check_name,
        cast(severity as string) as severity,
        cast(failure_value as string) as failure_value,
        cast(contract_version as string) as contract_version,
        cast(original_row as string) as original_row,
        severity != 'minor' as is_row_held
    from source_failures

),

final as (

    select * from typed

)

select * from final
