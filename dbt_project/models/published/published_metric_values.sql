{#
    metric_values as published to BI users: every figure below national level under statistical
    disclosure control, values recomputed from the controlled figures.
#}
with

metric_values as (

    select * from {{ ref('metric_values') }}

),

catalogue as (

    select * from {{ ref('published_metric_catalogue') }}

),

final as (

    select
        metric_values.metric_id,
        metric_values.org_view,
        metric_values.org_level,
        metric_values.org_code,
        metric_values.org_name,
        metric_values.period_type,
        metric_values.period_start,
        metric_values.period_end,
        metric_values.financial_year,
        metric_values.unit,
        cast(case when metric_values.numerator = floor(metric_values.numerator) then metric_values.numerator end as bigint) as numerator,
        cast(case when metric_values.denominator = floor(metric_values.denominator) then metric_values.denominator end as bigint) as denominator,
        case when metric_values.numerator != floor(metric_values.numerator) then metric_values.numerator end as numerator_amount,
        case when metric_values.denominator != floor(metric_values.denominator) then metric_values.denominator end as denominator_amount,
        metric_values.value,
        metric_values.ci_lower,
        metric_values.ci_upper,
        false as is_suppressed,
        cast(metric_values.value as varchar) as value_display,
        metric_values.is_published,
        metric_values.months_reported,
        coalesce(metric_values.period_end <= last_day(catalogue.latest_complete_month), false) as is_latest_complete_period
    from metric_values
    left join catalogue
        on metric_values.metric_id = catalogue.metric_id

)

select * from final
