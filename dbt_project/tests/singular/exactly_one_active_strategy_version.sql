{# Reporting follows one strategy version; none or two active versions would make lineage ambiguous. #}
with

strategy_versions as (

    select * from {{ ref('strategy_versions') }}

),

final as (

    select count(*) as active_version_count
    from strategy_versions
    where status = 'active'
    having count(*) != 1

)

select * from final
