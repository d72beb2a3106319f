{#
    Follows each organisation's chain of successors (a trust that merged into one that later merged
    again) to the organisation that carries its activity today. The depth guard stops a malformed
    cycle in the reference data from looping forever.
#}
with recursive

organisations as (

    select * from {{ ref('stg_organisations__organisations') }}

),

successor_chain as (

    select
        org_code,
        org_code as current_org_code,
        0 as merger_steps
    from organisations

    union all

    select
        successor_chain.org_code,
        organisations.successor_code as current_org_code,
        successor_chain.merger_steps + 1 as merger_steps
    from successor_chain
    inner join organisations
        on successor_chain.current_org_code = organisations.org_code
    where
        organisations.successor_code is not null
        and organisations.successor_code != organisations.org_code
        and successor_chain.merger_steps < 20

),

last_successor as (

    select
        org_code,
        current_org_code,
        merger_steps,
        row_number() over (
            partition by org_code
            order by merger_steps desc
        ) as step_rank
    from successor_chain

),

final as (

    select
        organisations.org_code,
        organisations.org_name,
        organisations.org_level,
        organisations.org_type,
        organisations.parent_code,
        organisations.open_date,
        organisations.close_date,
        organisations.is_closed,
        organisations.successor_code,
        last_successor.current_org_code,
        current_organisations.org_name as current_org_name,
        last_successor.merger_steps
    from organisations
    inner join last_successor
        on
            organisations.org_code = last_successor.org_code
            and last_successor.step_rank = 1
    left join organisations as current_organisations
        on last_successor.current_org_code = current_organisations.org_code

)

select * from final
