with

organisations_mapped as (

    select * from {{ ref('int_organisations_mapped') }}

),

reporting_organisations as (

    select * from organisations_mapped
    where org_level in ('region', 'icb', 'trust')

),

with_icb as (

    select
        reporting_organisations.*,
        case
            when reporting_organisations.org_level = 'icb' then reporting_organisations.org_code
            when reporting_organisations.org_level = 'trust' then reporting_organisations.parent_code
        end as icb_code
    from reporting_organisations

),

with_region as (

    select
        with_icb.*,
        icbs.org_name as icb_name,
        case
            when with_icb.org_level = 'region' then with_icb.org_code
            else icbs.parent_code
        end as region_code
    from with_icb
    left join organisations_mapped as icbs
        on with_icb.icb_code = icbs.org_code

),

final as (

    select
        cast(with_region.org_code as varchar) as org_code,
        cast(with_region.org_name as varchar) as org_name,
        cast(with_region.org_level as varchar) as org_level,
        cast(with_region.org_type as varchar) as org_type,
        cast(with_region.parent_code as varchar) as parent_code,
        cast(with_region.icb_code as varchar) as icb_code,
        cast(with_region.icb_name as varchar) as icb_name,
        cast(with_region.region_code as varchar) as region_code,
        cast(regions.org_name as varchar) as region_name,
        cast(with_region.open_date as date) as open_date,
        cast(with_region.close_date as date) as close_date,
        cast(with_region.is_closed as boolean) as is_closed,
        cast(with_region.successor_code as varchar) as successor_code,
        cast(with_region.current_org_code as varchar) as current_org_code,
        cast(with_region.current_org_name as varchar) as current_org_name,
        cast(with_region.merger_steps as integer) as merger_steps
    from with_region
    left join organisations_mapped as regions
        on with_region.region_code = regions.org_code

)

select * from final
