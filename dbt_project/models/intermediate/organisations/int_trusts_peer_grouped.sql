{#
    Acute trusts are compared with acute trusts of similar size: small, medium and large are the
    thirds of acute trusts by average monthly staff headcount (ESR) over the months they reported.
    Every other trust is peered with trusts of its own type.
#}
with

organisations_mapped as (

    select * from {{ ref('int_organisations_mapped') }}

),

staff_months as (

    select * from {{ ref('stg_workforce__staff_months') }}

),

trusts as (

    select
        org_code as trust_code,
        org_type as trust_type
    from organisations_mapped
    where org_level = 'trust'

),

monthly_headcounts as (

    select
        trust_code,
        reporting_month_date,
        count(*) as headcount
    from staff_months
    group by
        trust_code,
        reporting_month_date

),

trust_headcounts as (

    select
        trust_code,
        avg(headcount) as average_headcount
    from monthly_headcounts
    group by trust_code

),

acute_thirds as (

    select
        trusts.trust_code,
        trust_headcounts.average_headcount,
        ntile(3) over (order by trust_headcounts.average_headcount) as size_third
    from trusts
    inner join trust_headcounts
        on trusts.trust_code = trust_headcounts.trust_code
    where trusts.trust_type = 'acute'

),

final as (

    select
        trusts.trust_code,
        trusts.trust_type,
        trust_headcounts.average_headcount,
        case
            when trusts.trust_type != 'acute' then trusts.trust_type
            when acute_thirds.size_third = 1 then 'acute_small'
            when acute_thirds.size_third = 2 then 'acute_medium'
            when acute_thirds.size_third = 3 then 'acute_large'
            else 'acute_unknown_size'
        end as peer_group
    from trusts
    left join trust_headcounts
        on trusts.trust_code = trust_headcounts.trust_code
    left join acute_thirds
        on trusts.trust_code = acute_thirds.trust_code

)

select * from final
