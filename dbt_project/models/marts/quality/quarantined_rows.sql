with

quarantine_failures as (

    select * from {{ ref('stg_quarantine__failures') }}

),

final as (

    select
        cast(source_name as varchar) as source_name,
        cast(table_name as varchar) as table_name,
        cast(source_file as varchar) as source_file,
        cast(source_row_number as bigint) as source_row_number,
        cast(column_name as varchar) as column_name,
        cast(check_name as varchar) as check_name,
        cast(severity as varchar) as severity,
        cast(is_row_held as boolean) as is_row_held,
        cast(failure_value as varchar) as failure_value,
        cast(contract_version as varchar) as contract_version,
        cast(original_row as varchar) as original_row
    from quarantine_failures

)

select * from final
