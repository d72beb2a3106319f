{#
    marts.dim_deprivation_quintiles as published, column by column: a column added to the mart is
    not published until it is listed and described here. It holds a code list (reference data), so
    no disclosure control applies.
#}
with

dim_deprivation_quintiles as (

    select * from {{ ref('dim_deprivation_quintiles') }}

),

final as (

    select
        imd_quintile,
        imd_quintile_label,
        sort_order
    from dim_deprivation_quintiles

)

select * from final
