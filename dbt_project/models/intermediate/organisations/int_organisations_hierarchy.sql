{#
    Places every organisation in the reporting hierarchy site > trust > ICB > region > England,
    adding England (the national total) as an organisation of its own. A local authority sits under
    its primary ICB (local authority > ICB > region > England), so its figures roll up through that
    ICB. A closed organisation keeps the parents it had; the organisation carrying its activity
    today (current_org_code) has its own.
#}
with

organisations_mapped as (

    select * from {{ ref('int_organisations_mapped') }}

),

sites as (

    select
        org_code,
        parent_code as trust_code
    from organisations_mapped
    where org_level = 'site'

),

trusts as (

    select
        org_code as trust_code,
        org_type as trust_type,
        parent_code as icb_code
    from organisations_mapped
    where org_level = 'trust'

),

icbs as (

    select
        org_code as icb_code,
        parent_code as region_code
    from organisations_mapped
    where org_level = 'icb'

),

with_trust as (

    select
        organisations_mapped.*,
        case
            when organisations_mapped.org_level = 'trust' then organisations_mapped.org_code
            when organisations_mapped.org_level = 'site' then sites.trust_code
        end as trust_code
    from organisations_mapped
    left join sites
        on organisations_mapped.org_code = sites.org_code

),

with_icb as (

    select
        with_trust.*,
        trusts.trust_type,
        case
            when with_trust.org_level = 'icb' then with_trust.org_code
            when with_trust.org_level = 'local_authority' then with_trust.parent_code
            else trusts.icb_code
        end as icb_code
    from with_trust
    left join trusts
        on with_trust.trust_code = trusts.trust_code

),

with_region as (

    select
        with_icb.*,
        case
            when with_icb.org_level = 'region' then with_icb.org_code
            else icbs.region_code
        end as region_code
    from with_icb
    left join icbs
        on with_icb.icb_code = icbs.icb_code

),

england as (

    select
        '{{ var("england_org_code") }}' as org_code,
        '{{ var("england_org_name") }}' as org_name,
        'england' as org_level,
        'england' as org_type,
        cast(null as string) as parent_code,
        cast(null as date) as open_date,
        cast(null as date) as close_date,
        false as is_closed,
        cast(null as string) as successor_code,
        '{{ var("england_org_code") }}' as current_org_code,
        '{{ var("england_org_name") }}' as current_org_name,
        0 as merger_steps,
        cast(null as string) as trust_code,
        cast(null as string) as trust_type,
        cast(null as string) as icb_code,
        cast(null as string) as region_code

),

final as (

    select
        org_code,
        org_name,
        org_level,
        org_type,
        case
            when org_level = 'region' then '{{ var("england_org_code") }}'
            else parent_code
        end as parent_code,
        open_date,
        close_date,
        is_closed,
        successor_code,
        current_org_code,
        current_org_name,
        merger_steps,
        trust_code,
        trust_type,
        icb_code,
        region_code,
        '{{ var("england_org_code") }}' as england_code
    from with_region

    union all

    select
        org_code,
        org_name,
        org_level,
        org_type,
        parent_code,
        open_date,
        close_date,
        is_closed,
        successor_code,
        current_org_code,
        current_org_name,
        merger_steps,
        trust_code,
        trust_type,
        icb_code,
        region_code,
        org_code as england_code
    from england

)

select * from final
