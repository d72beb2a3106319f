{#
    The organisation hierarchy site > trust > ICB > region > England, with each organisation's
    ancestors as columns. A merged trust keeps its own row, parents and history; current_org_code
    names the organisation that carries its activity today.
#}
with

hierarchy as (

    select * from {{ ref('int_organisations_hierarchy') }}

),

peer_groups as (

    select * from {{ ref('int_trusts_peer_grouped') }}

),

names as (

    select
        org_code,
        org_name
    from hierarchy

),

final as (

    select
        cast(hierarchy.org_code as string) as org_code,
        cast(hierarchy.org_name as string) as org_name,
        cast(hierarchy.org_level as string) as org_level,
        cast(hierarchy.org_type as string) as org_type,
        cast(hierarchy.parent_code as string) as parent_code,
        cast(hierarchy.icb_code as string) as icb_code,
        cast(icbs.org_name as string) as icb_name,
        cast(hierarchy.region_code as string) as region_code,
        cast(regions.org_name as string) as region_name,
        cast(hierarchy.open_date as date) as open_date,
        cast(hierarchy.close_date as date) as close_date,
        cast(hierarchy.is_closed as boolean) as is_closed,
        cast(hierarchy.successor_code as string) as successor_code,
        cast(hierarchy.current_org_code as string) as current_org_code,
        cast(hierarchy.current_org_name as string) as current_org_name,
        cast(hierarchy.merger_steps as integer) as merger_steps,
        cast(hierarchy.trust_code as string) as trust_code,
        cast(trusts.org_name as string) as trust_name,
        cast(hierarchy.trust_type as string) as trust_type,
        cast(peer_groups.peer_group as string) as peer_group,
        cast(hierarchy.england_code as string) as england_code
    from hierarchy
    left join names as trusts
        on hierarchy.trust_code = trusts.org_code
    left join names as icbs
        on hierarchy.icb_code = icbs.org_code
    left join names as regions
        on hierarchy.region_code = regions.org_code
    left join peer_groups
        on hierarchy.trust_code = peer_groups.trust_code

)

select * from final
