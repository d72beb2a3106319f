{#
    marts.dim_ethnic_groups as published, column by column: a column added to the mart is not
    published until it is listed and described here. It holds a code list (reference data), so no
    disclosure control applies.
#}
with

dim_ethnic_groups as (

    select * from {{ ref('dim_ethnic_groups') }}

),

final as (

    select
        ethnic_group,
        ethnic_group_label,
        sort_order
    from dim_ethnic_groups

)

select * from final
