{#
    The metric_values cells of metrics whose rows record the ethnic group of the people counted,
    split by broad ethnic group: the same sums, values and intervals (macros/metric_statistics.sql),
    one group at a time. Rebuilt whole, like the roll-up it reads.
#}
with

rolled_up as (

    select * from {{ ref('int_metric_rows_by_ethnic_group_rolled_up') }}

),

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

hierarchy as (

    select * from {{ ref('int_organisations_hierarchy') }}

),

period_bridge as (

    select * from {{ ref('int_period_rollup_bridge') }}

),

periods as (

    select distinct
        period_type,
        period_start,
        period_end,
        financial_year
    from period_bridge

),

normal as (

    select {{ ci_z() }} as z

),

cells as (

    {#- additive metrics only: no observations, so no median or mean here #}
    select
        rolled_up.*,
        metric_catalogue.unit,
        metric_catalogue.unit_multiplier,
        metric_catalogue.min_denominator,
        cast(null as double) as observation_count,
        cast(null as double) as observation_sum,
        cast(null as double) as observation_sum_of_squares,
        cast(null as double) as median,
        cast(null as double) as median_ci_lower,
        cast(null as double) as median_ci_upper
    from rolled_up
    inner join metric_catalogue
        on rolled_up.metric_id = metric_catalogue.metric_id

),

final as (

    select
        cast(cells.metric_id as string) as metric_id,
        cast(cells.org_code as string) as org_code,
        cast(cells.org_level as string) as org_level,
        cast(cells.period_type as string) as period_type,
        cast(cells.period_start as date) as period_start,
        cast(cells.ethnic_group as string) as ethnic_group,
        cast(periods.financial_year as string) as financial_year,
        cast(cells.numerator as double) as numerator,
        cast(cells.denominator as double) as denominator,
        cast({{ metric_value('cells') }} as double) as value,
        cast({{ metric_interval('cells', 'lower', 'normal.z') }} as double) as ci_lower,
        cast({{ metric_interval('cells', 'upper', 'normal.z') }} as double) as ci_upper,
        cast(cells.org_view as string) as org_view,
        cast(hierarchy.org_name as string) as org_name,
        cast(periods.period_end as date) as period_end,
        cast(cells.unit as string) as unit,
        coalesce(cells.denominator >= cells.min_denominator, false) as is_published,
        cast(cells.months_reported as integer) as months_reported,
        -- additive metrics only: a mean's or median's figures for funnel plots are never here
        cast(null as double) as standard_error,
        cast(null as double) as median_interpolated
    from cells
    cross join normal
    left join hierarchy
        on cells.org_code = hierarchy.org_code
    left join periods
        on
            cells.period_type = periods.period_type
            and cells.period_start = periods.period_start

)

select * from final
