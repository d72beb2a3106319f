with

source_organisations as (

    select * from {{ source('organisations', 'organisations') }}

),

final as (

    select
        cast(org_code as string) as org_code,
        cast(org_name as string) as org_name,
        cast(org_level as string) as org_level,
        cast(org_type as string) as org_type,
        cast(parent_code as string) as parent_code,
        cast(open_date as date) as open_date,
        cast(close_date as date) as close_date,
        cast(successor_code as string) as successor_code,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version,
        close_date is not null as is_closed
    from source_organisations

)

select * from final
