{#
    One row per observation of a median or mean metric (metric_id, trust_code, period_start,
    imd_quintile, observation). No metric records observations yet, so the model is empty, typed.
#}
with

final as (

    select
        cast(null as varchar) as metric_id,
        cast(null as varchar) as trust_code,
        cast(null as date) as period_start,
        cast(null as integer) as imd_quintile,
        cast(null as double) as observation
    where false

)

select * from final
