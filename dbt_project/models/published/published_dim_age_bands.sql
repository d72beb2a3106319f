{#
    marts.dim_age_bands as published, column by column: a column added to the mart is not published
    until it is listed and described here. It holds a code list (reference data), so no disclosure
    control applies.
#}
with

dim_age_bands as (

    select * from {{ ref('dim_age_bands') }}

),

final as (

    select
        age_band,
        age_band_label,
        sort_order
    from dim_age_bands

)

select * from final
