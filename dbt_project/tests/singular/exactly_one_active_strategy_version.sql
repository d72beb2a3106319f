{#
    Reporting follows one strategy version; none or two active versions (or NQS_STRATEGY_VERSION
    naming a version the seed does not hold) would make lineage ambiguous.
#}
with

strategy_versions as (

    select * from {{ ref('int_strategy_versions_resolved') }}

),

final as (

    select count(*) as active_version_count
    from strategy_versions
    where is_active
    having count(*) != 1

)

select * from final
