{#
    marts.dim_organisations as published, column by column: a column added to the mart is not
    published until it is listed and described here. It holds the organisation hierarchy (reference
    data), so no disclosure control applies.
#}
with

dim_organisations as (

    select * from {{ ref('dim_organisations') }}

),

final as (

    select
        org_code,
        org_name,
        org_level,
        org_type,
        parent_code,
        icb_code,
        icb_name,
        region_code,
        region_name,
        open_date,
        close_date,
        is_closed,
        successor_code,
        current_org_code,
        current_org_name,
        merger_steps,
        trust_code,
        trust_name,
        trust_type,
        peer_group,
        england_code
    from dim_organisations

)

select * from final
