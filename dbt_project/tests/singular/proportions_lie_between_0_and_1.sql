{# A metric whose unit is a proportion counts a subset of its denominator, so its value lies in [0, 1]. #}
with

metric_values as (

    select * from {{ ref('metric_values') }}

),

metric_catalogue as (

    select * from {{ ref('dim_metrics') }}

),

final as (

    select
        metric_values.metric_id,
        metric_values.org_code,
        metric_values.period_start,
        metric_values.value
    from metric_values
    inner join metric_catalogue
        on metric_values.metric_id = metric_catalogue.metric_id
    where
        metric_catalogue.unit = 'proportion'
        and (metric_values.value < 0 or metric_values.value > 1)

)

select * from final
