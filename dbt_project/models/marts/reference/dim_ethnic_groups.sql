with

ethnic_categories as (

    select * from {{ ref('ethnic_categories') }}

),

final as (

    select distinct
        cast(ethnic_group as string) as ethnic_group,
        cast(ethnic_group_label as string) as ethnic_group_label,
        cast(ethnic_group_sort_order as integer) as sort_order
    from ethnic_categories

)

select * from final
