{#
    Value, confidence interval and publication flag of every rolled-up cell (all quintiles together
    and each quintile), by the unit the catalogue gives the metric (macros/metric_statistics.sql).
    Gap metrics (unit gap) are added for every cell of their base metric: the base metric's value in
    deprivation quintile 1 minus its value in quintile 5, with Newcombe's interval; null where either
    quintile has no denominator. A gap is published when both quintiles reach its minimum denominator.

    Medians come from the observations' roll-up, or from the bands' for metrics counted in bands
    (int_metric_bands_rolled_up): the two hold different metrics, with the same columns.

    Incremental: the periods the roll-ups recomputed (and, for a gap metric, those of its base
    metric) are deleted and computed again, every cell of each (macros/incremental_rollups.sql).
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['metric_id', 'period_type', 'period_start'],
    pre_hook="{{ delete_periods_pending(catalogue=ref('metric_catalogue')) }}",
    post_hook="{{ recompute_periods_pending(catalogue=ref('metric_catalogue')) }}",
) }}
with

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

{% if not recomputes_every_month() -%}
periods_recomputed as (

    {{ periods_pending(catalogue=ref('metric_catalogue')) }}

),

{% endif -%}
rows_rolled_up as (

    select rolled_up.* from {{ ref('int_metric_rows_rolled_up') }} as rolled_up
    {{ in_periods_recomputed('rolled_up') }}

),

observations_rolled_up as (

    select rolled_up.* from {{ ref('int_metric_observations_rolled_up') }} as rolled_up
    {{ in_periods_recomputed('rolled_up') }}

    union all

    select rolled_up.* from {{ ref('int_metric_bands_rolled_up') }} as rolled_up
    {{ in_periods_recomputed('rolled_up') }}

),

normal as (

    select {{ ci_z() }} as z

),

cells_joined as (

    select
        observations_rolled_up.observation_count,
        observations_rolled_up.observation_sum,
        observations_rolled_up.observation_sum_of_squares,
        observations_rolled_up.median,
        observations_rolled_up.median_ci_lower,
        observations_rolled_up.median_ci_upper,
        observations_rolled_up.median_interpolated,
        observations_rolled_up.median_standard_error,
        coalesce(rows_rolled_up.metric_id, observations_rolled_up.metric_id) as metric_id,
        coalesce(rows_rolled_up.org_view, observations_rolled_up.org_view) as org_view,
        coalesce(rows_rolled_up.org_level, observations_rolled_up.org_level) as org_level,
        coalesce(rows_rolled_up.org_code, observations_rolled_up.org_code) as org_code,
        coalesce(rows_rolled_up.period_type, observations_rolled_up.period_type) as period_type,
        coalesce(rows_rolled_up.period_start, observations_rolled_up.period_start) as period_start,
        coalesce(rows_rolled_up.imd_quintile, observations_rolled_up.imd_quintile) as imd_quintile,
        coalesce(
            rows_rolled_up.is_all_quintiles, observations_rolled_up.is_all_quintiles
        ) as is_all_quintiles,
        coalesce(rows_rolled_up.numerator, observations_rolled_up.observation_sum) as numerator,
        coalesce(rows_rolled_up.denominator, observations_rolled_up.observation_count) as denominator,
        coalesce(
            rows_rolled_up.months_reported, observations_rolled_up.months_reported
        ) as months_reported
    from rows_rolled_up
    full outer join observations_rolled_up
        on
            rows_rolled_up.metric_id = observations_rolled_up.metric_id
            and rows_rolled_up.org_view = observations_rolled_up.org_view
            and rows_rolled_up.org_code = observations_rolled_up.org_code
            and rows_rolled_up.period_type = observations_rolled_up.period_type
            and rows_rolled_up.period_start = observations_rolled_up.period_start
            and rows_rolled_up.imd_quintile is not distinct from observations_rolled_up.imd_quintile
            and rows_rolled_up.is_all_quintiles = observations_rolled_up.is_all_quintiles

),

cells as (

    select
        cells_joined.*,
        metric_catalogue.unit,
        metric_catalogue.unit_multiplier,
        metric_catalogue.min_denominator
    from cells_joined
    inner join metric_catalogue
        on cells_joined.metric_id = metric_catalogue.metric_id

),

cell_values as (

    select
        cells.metric_id,
        cells.org_view,
        cells.org_level,
        cells.org_code,
        cells.period_type,
        cells.period_start,
        cells.imd_quintile,
        cells.is_all_quintiles,
        cells.unit,
        cells.numerator,
        cells.denominator,
        {{ metric_value('cells') }} as value,
        {{ metric_interval('cells', 'lower', 'normal.z') }} as ci_lower,
        {{ metric_interval('cells', 'upper', 'normal.z') }} as ci_upper,
        coalesce(cells.denominator >= cells.min_denominator, false) as is_published,
        cells.months_reported,
        {{ metric_standard_error('cells') }} as standard_error,
        cells.median_interpolated * cells.unit_multiplier as median_interpolated
    from cells
    cross join normal

),

gap_metrics as (

    select
        metric_id,
        base_metric_id,
        unit,
        unit_multiplier,
        min_denominator
    from metric_catalogue
    where unit = 'gap'

),

gap_cells as (

    select
        gap_metrics.metric_id,
        base_cells.org_view,
        base_cells.org_level,
        base_cells.org_code,
        base_cells.period_type,
        base_cells.period_start,
        gap_metrics.unit,
        gap_metrics.unit_multiplier,
        gap_metrics.min_denominator,
        base_cells.months_reported,
        coalesce(most_deprived.numerator, 0) as most_deprived_numerator,
        coalesce(most_deprived.denominator, 0) as most_deprived_denominator,
        coalesce(least_deprived.numerator, 0) as least_deprived_numerator,
        coalesce(least_deprived.denominator, 0) as least_deprived_denominator
    from gap_metrics
    inner join cells as base_cells
        on
            gap_metrics.base_metric_id = base_cells.metric_id
            and base_cells.is_all_quintiles
    left join cells as most_deprived
        on
            base_cells.metric_id = most_deprived.metric_id
            and base_cells.org_view = most_deprived.org_view
            and base_cells.org_code = most_deprived.org_code
            and base_cells.period_type = most_deprived.period_type
            and base_cells.period_start = most_deprived.period_start
            and not most_deprived.is_all_quintiles
            and most_deprived.imd_quintile = 1
    left join cells as least_deprived
        on
            base_cells.metric_id = least_deprived.metric_id
            and base_cells.org_view = least_deprived.org_view
            and base_cells.org_code = least_deprived.org_code
            and base_cells.period_type = least_deprived.period_type
            and base_cells.period_start = least_deprived.period_start
            and not least_deprived.is_all_quintiles
            and least_deprived.imd_quintile = 5

),

gap_values as (

    select
        gap_cells.metric_id,
        gap_cells.org_view,
        gap_cells.org_level,
        gap_cells.org_code,
        gap_cells.period_type,
        gap_cells.period_start,
        cast(null as integer) as imd_quintile,
        true as is_all_quintiles,
        gap_cells.unit,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        {{ gap_value('gap_cells') }} as value,
        {{ gap_interval('gap_cells', 'lower', 'normal.z') }} as ci_lower,
        {{ gap_interval('gap_cells', 'upper', 'normal.z') }} as ci_upper,
        least(gap_cells.most_deprived_denominator, gap_cells.least_deprived_denominator)
        >= gap_cells.min_denominator as is_published,
        gap_cells.months_reported,
        cast(null as double) as standard_error,
        cast(null as double) as median_interpolated
    from gap_cells
    cross join normal

),

final as (

    select * from cell_values
    union all
    select * from gap_values

)

select * from final
