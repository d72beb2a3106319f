with

code_lists as (

    select * from {{ ref('code_lists') }}

),

final as (

    select
        cast(code as string) as staff_group,
        cast(label as string) as staff_group_label,
        cast(sort_order as integer) as sort_order
    from code_lists
    where code_list = 'staff_group'

)

select * from final
