{#
    Maps the trust code a metric row carries to every organisation it counts towards, in two views
    of the hierarchy. as_recorded: the trust as it was, with its own ICB and region, so a trust that
    merged keeps its past under its own code. current: the trust that carries its activity today
    (following successors through mergers), with that trust's ICB and region.
#}
with

hierarchy as (

    select * from {{ ref('int_organisations_hierarchy') }}

),

trusts as (

    select
        org_code as trust_code,
        current_org_code
    from hierarchy
    where org_level = 'trust'

),

trust_views as (

    select
        'as_recorded' as org_view,
        trust_code,
        trust_code as reporting_trust_code
    from trusts

    union all

    select
        'current' as org_view,
        trust_code,
        current_org_code as reporting_trust_code
    from trusts

),

trust_views_placed as (

    select
        trust_views.org_view,
        trust_views.trust_code,
        trust_views.reporting_trust_code,
        hierarchy.icb_code,
        hierarchy.region_code,
        hierarchy.england_code
    from trust_views
    inner join hierarchy
        on trust_views.reporting_trust_code = hierarchy.org_code

),

final as (

    select
        org_view,
        trust_code,
        'trust' as org_level,
        reporting_trust_code as org_code
    from trust_views_placed

    union all

    select
        org_view,
        trust_code,
        'icb' as org_level,
        icb_code as org_code
    from trust_views_placed

    union all

    select
        org_view,
        trust_code,
        'region' as org_level,
        region_code as org_code
    from trust_views_placed

    union all

    select
        org_view,
        trust_code,
        'england' as org_level,
        england_code as org_code
    from trust_views_placed

)

select * from final
