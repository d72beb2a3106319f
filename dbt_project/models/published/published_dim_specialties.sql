{#
    marts.dim_specialties as published, column by column: a column added to the mart is not
    published until it is listed and described here. It holds a code list (reference data), so no
    disclosure control applies.
#}
with

dim_specialties as (

    select * from {{ ref('dim_specialties') }}

),

final as (

    select
        specialty,
        specialty_label,
        sort_order,
        code_list,
        specialty_group
    from dim_specialties

)

select * from final
