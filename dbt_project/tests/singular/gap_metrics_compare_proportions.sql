{# A gap metric's Newcombe interval is for a difference of proportions: its base must be one. #}
with

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

final as (

    select
        gaps.metric_id,
        gaps.base_metric_id,
        bases.unit as base_unit
    from metric_catalogue as gaps
    left join metric_catalogue as bases
        on gaps.base_metric_id = bases.metric_id
    where
        gaps.unit = 'gap'
        and (bases.unit is null or bases.unit != 'proportion')

)

select * from final
