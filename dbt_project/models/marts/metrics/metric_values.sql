{#
    Every metric is computed the same way from its numerator and denominator (summed over
    deprivation quintiles to the whole trust), with the multiplier taken from the catalogue, so a
    change of definition is a change to the seed. Trusts are reported under the code they had at the time; dim_organisations maps them to successors.
#}
with

metrics_incidents as (

    select * from {{ ref('int_metrics__incidents') }}

),

metrics_hip_fracture_audit as (

    select * from {{ ref('int_metrics__hip_fracture_audit') }}

),

metrics_stroke_audit as (

    select * from {{ ref('int_metrics__stroke_audit') }}

),

metrics_joint_registry as (

    select * from {{ ref('int_metrics__joint_registry') }}

),

metrics_workforce as (

    select * from {{ ref('int_metrics__workforce') }}

),

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

periods as (

    select * from {{ ref('dim_periods') }}

),

metrics_unioned as (

    select * from metrics_incidents
    union all
    select * from metrics_hip_fracture_audit
    union all
    select * from metrics_stroke_audit
    union all
    select * from metrics_joint_registry
    union all
    select * from metrics_workforce

),

trust_months as (

    select
        metric_id,
        trust_code,
        period_start,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from metrics_unioned
    group by
        metric_id,
        trust_code,
        period_start

),

final as (

    select
        cast(trust_months.metric_id as varchar) as metric_id,
        cast(trust_months.trust_code as varchar) as org_code,
        cast('trust' as varchar) as org_level,
        cast('month' as varchar) as period_type,
        cast(trust_months.period_start as date) as period_start,
        cast(periods.financial_year as varchar) as financial_year,
        cast(trust_months.numerator as double) as numerator,
        cast(trust_months.denominator as double) as denominator,
        cast(
            case
                when trust_months.denominator != 0
                    then
                        trust_months.numerator
                        / trust_months.denominator
                        * metric_catalogue.unit_multiplier
            end as double
        ) as value
    from trust_months
    left join metric_catalogue
        on trust_months.metric_id = metric_catalogue.metric_id
    left join periods
        on trust_months.period_start = periods.period_start

)

select * from final
