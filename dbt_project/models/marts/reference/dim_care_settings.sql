with

code_lists as (

    select * from {{ ref('code_lists') }}

),

final as (

    select
        cast(code as varchar) as care_setting,
        cast(label as varchar) as care_setting_label,
        cast(sort_order as integer) as sort_order
    from code_lists
    where code_list = 'care_setting'

)

select * from final
