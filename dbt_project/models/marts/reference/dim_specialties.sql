with

code_lists as (

    select * from {{ ref('code_lists') }}

),

final as (

    select
        cast(code as varchar) as specialty,
        cast(label as varchar) as specialty_label,
        cast(sort_order as integer) as sort_order
    from code_lists
    where code_list = 'specialty'

)

select * from final
