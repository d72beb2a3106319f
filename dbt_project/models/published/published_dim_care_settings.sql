{#
    marts.dim_care_settings as published, column by column: a column added to the mart is not
    published until it is listed and described here. It holds a code list (reference data), so no
    disclosure control applies.
#}
with

dim_care_settings as (

    select * from {{ ref('dim_care_settings') }}

),

final as (

    select
        care_setting,
        care_setting_label,
        sort_order
    from dim_care_settings

)

select * from final
