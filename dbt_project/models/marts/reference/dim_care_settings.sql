with

code_lists as (

    select * from {{ ref('code_lists') }}

),

final as (

    select
        cast(code as string) as care_setting,
        cast(label as string) as care_setting_label,
        cast(sort_order as integer) as sort_order
    from code_lists
    where code_list = 'care_setting'

)

select * from final
