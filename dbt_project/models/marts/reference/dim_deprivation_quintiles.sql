with

code_lists as (

    select * from {{ ref('code_lists') }}

),

final as (

    select
        cast(code as integer) as imd_quintile,
        cast(label as string) as imd_quintile_label,
        cast(sort_order as integer) as sort_order
    from code_lists
    where code_list = 'imd_quintile'

)

select * from final
