{#
    Maps the trust code a metric row carries to every organisation it counts towards, in two views
    of the hierarchy. as_recorded: the trust as it was, with its own ICB and region, so a trust that
    merged keeps its past under its own code. current: the trust that carries its activity today
    (following successors through mergers), with that trust's ICB and region.

    A metric row's reporting unit is a trust, or for adult social care a local authority (the levels
    in var reporting_unit_levels): a local authority counts towards its primary ICB, that ICB's region
    and England, at its own level (local_authority) where a trust's rows are at trust level.
#}
with

hierarchy as (

    select * from {{ ref('int_organisations_hierarchy') }}

),

trusts as (

    select
        org_code as trust_code,
        org_level as unit_level,
        current_org_code
    from hierarchy
    where org_level in {{ reporting_unit_levels() }}

),

trust_views as (

    select
        'as_recorded' as org_view,
        trust_code,
        unit_level,
        trust_code as reporting_trust_code
    from trusts

    union all

    select
        'current' as org_view,
        trust_code,
        unit_level,
        current_org_code as reporting_trust_code
    from trusts

),

trust_views_placed as (

    select
        trust_views.org_view,
        trust_views.trust_code,
        trust_views.unit_level,
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
        unit_level as org_level,
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
