with

source_tables as (

    select * from {{ source('quality', 'source_tables') }}

),

typed as (

    select
        cast(source as varchar) as source_name,
        cast(table_name as varchar) as table_name,
        cast(source_family as varchar) as source_family,
        cast(contract as varchar) as contract_name,
        cast(description as varchar) as table_description
    from source_tables

),

final as (

    select * from typed

)

select * from final
