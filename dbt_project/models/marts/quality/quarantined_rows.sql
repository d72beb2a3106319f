with

quarantine_failures as (

    select * from {{ ref('stg_quarantine__failures') }}

),

final as (

    select
        cast(source_name as string) as source_name,
        cast(table_name as string) as table_name,
        cast(source_file as string) as source_file,
        cast(source_row_number as bigint) as source_row_number,
        cast(column_name as string) as column_name,
        cast(check_name as string) as check_name,
        cast(severity as string) as severity,
        cast(is_row_held as boolean) as is_row_held,
        cast(failure_value as string) as failure_value,
        cast(contract_version as string) as contract_version,
        cast(original_row as string) as original_row
    from quarantine_failures

)

select * from final
