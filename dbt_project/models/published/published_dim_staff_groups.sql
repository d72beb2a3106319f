{#
    marts.dim_staff_groups as published, column by column: a column added to the mart is not
    published until it is listed and described here. It holds a code list (reference data), so no
    disclosure control applies.
#}
with

dim_staff_groups as (

    select * from {{ ref('dim_staff_groups') }}

),

final as (

    select
        staff_group,
        staff_group_label,
        sort_order
    from dim_staff_groups

)

select * from final
