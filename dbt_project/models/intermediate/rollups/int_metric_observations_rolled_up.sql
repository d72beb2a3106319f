{#
    Medians and the sums behind means at every level and period, from the observations themselves
    (a median of medians is not a median). Observations are first counted by value per trust and
    month, so rolling up sums counts rather than copying every observation 24 times. The median is
    the middle order statistic (the mean of the two middle ones for an even count); its interval is
    the distribution-free one between order statistics r and n - r + 1, r being the binomial
    (n, 1/2) quantile at half the significance level, null when n is too small for one.

    For funnel plots, which compare a median with its standard error, the median and the quantiles
    either side of it (0.5 -/+ var median_density_bandwidth) are also interpolated: observations that
    are all whole numbers (days, minutes; to 6 decimals, as minutes computed from hours are) are
    grouped data, each whole number v standing for [v - 1/2, v + 1/2), so the quantile p is
    v - 1/2 + (p n - observations below v) / observations at v (a median of whole numbers otherwise
    moves in whole steps, far more than its standard error in a large trust); other observations keep
    the order statistic. The median's standard error is the asymptotic one, 1 / (2 f(median) sqrt(n)),
    with the density at the median f estimated by Siddiqui's difference quotient,
    2h / (Q(0.5 + h) - Q(0.5 - h)).

    Incremental: the months int_metric_observations recomputes (its window per metric) give the
    periods recomputed here, each from the observations of all its months (macros/incremental_rollups.sql).
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['metric_id', 'period_type', 'period_start'],
    post_hook="{{ delete_emptied_periods() }}",
) }}
{%- set tail = (1 - var('confidence_level')) / 2 -%}
{%- set bandwidth = var('median_density_bandwidth') -%}
with

observations as (

    select * from {{ ref('int_metric_observations') }}
    -- in a window of a long history's full refresh, the months to the window's last
    where {{ months_rebuilt('period_start') }}

),

organisation_bridge as (

    select * from {{ ref('int_organisation_rollup_bridge') }}

),

period_bridge as (

    select * from {{ ref('int_period_rollup_bridge') }}

),

{% if not recomputes_every_month() -%}
{%- set windows = recompute_window_of('int_metric_observations') %}

months_recomputed as (

    {% for metric_id in windows | sort -%}
    select
        '{{ metric_id }}' as metric_id,
        month_start_date as period_start
    from period_bridge
    where
        period_type = 'month'
        and {{ months_recomputed('month_start_date', window=windows[metric_id]) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

periods_recomputed as (

    {{ periods_of_months('months_recomputed', 'period_bridge') }}

),

months_read as (

    select distinct
        periods_recomputed.metric_id,
        period_bridge.month_start_date
    from periods_recomputed
    inner join period_bridge
        on
            periods_recomputed.period_type = period_bridge.period_type
            and periods_recomputed.period_start = period_bridge.period_start

),

{% endif -%}

value_counts as (

    select
        observations.metric_id,
        observations.trust_code,
        observations.period_start,
        observations.imd_quintile,
        observations.observation,
        count(*) as observation_count
    from observations
    {% if not recomputes_every_month() -%}
    inner join months_read
        on
            observations.metric_id = months_read.metric_id
            and observations.period_start = months_read.month_start_date
    {% endif -%}
    where observations.observation is not null
    group by
        observations.metric_id,
        observations.trust_code,
        observations.period_start,
        observations.imd_quintile,
        observations.observation

),

value_counts_placed as (

    select
        value_counts.metric_id,
        organisation_bridge.org_view,
        organisation_bridge.org_level,
        organisation_bridge.org_code,
        period_bridge.period_type,
        period_bridge.period_start,
        value_counts.imd_quintile,
        value_counts.period_start as month_start_date,
        value_counts.observation,
        value_counts.observation_count
    from value_counts
    inner join organisation_bridge
        on value_counts.trust_code = organisation_bridge.trust_code
    inner join period_bridge
        on value_counts.period_start = period_bridge.month_start_date
    {{ join_periods_recomputed('value_counts', 'period_bridge') }}

),

value_counts_by_quintile as (

    select
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        false as is_all_quintiles,
        month_start_date,
        observation,
        observation_count
    from value_counts_placed

    union all

    select
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        cast(null as integer) as imd_quintile,
        true as is_all_quintiles,
        month_start_date,
        observation,
        observation_count
    from value_counts_placed

),

value_counts_rolled_up as (

    select
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles,
        observation,
        sum(observation_count) as observation_count
    from value_counts_by_quintile
    group by
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles,
        observation

),

months_observed as (

    select
        metric_id,
        org_view,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles,
        count(distinct month_start_date) as months_reported
    from value_counts_by_quintile
    group by
        metric_id,
        org_view,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles

),

value_counts_accumulated as (

    select
        *,
        sum(observation_count) over (
            partition by
                metric_id, org_view, org_code, period_type, period_start, imd_quintile, is_all_quintiles
            order by observation
            rows between unbounded preceding and current row
        ) as cumulative_count
    from value_counts_rolled_up

),

cells as (

    select
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles,
        sum(observation_count) as observation_count,
        sum(observation_count * observation) as observation_sum,
        sum(observation_count * observation * observation) as observation_sum_of_squares,
        bool_and(round(observation, 6) = round(observation)) as is_whole_numbers
    from value_counts_rolled_up
    group by
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles

),

cells_ranked as (

    select
        *,
        cast(floor((observation_count + 1) / 2.0) as bigint) as lower_middle_rank,
        cast(ceil((observation_count + 1) / 2.0) as bigint) as upper_middle_rank,
        cast(binomial_quantile({{ tail }}, observation_count, 0.5) as bigint) as interval_rank,
        observation_count + 1
        - cast(binomial_quantile({{ tail }}, observation_count, 0.5) as bigint) as upper_interval_rank
    from cells

),

order_statistics as (

    select
        cells_ranked.metric_id,
        cells_ranked.org_view,
        cells_ranked.org_code,
        cells_ranked.period_type,
        cells_ranked.period_start,
        cells_ranked.imd_quintile,
        cells_ranked.is_all_quintiles,
        min(value_counts_accumulated.observation) filter (
            where value_counts_accumulated.cumulative_count >= cells_ranked.lower_middle_rank
        ) as lower_middle_observation,
        min(value_counts_accumulated.observation) filter (
            where value_counts_accumulated.cumulative_count >= cells_ranked.upper_middle_rank
        ) as upper_middle_observation,
        min(value_counts_accumulated.observation) filter (
            where value_counts_accumulated.cumulative_count >= cells_ranked.interval_rank
        ) as interval_lower_observation,
        min(value_counts_accumulated.observation) filter (
            where value_counts_accumulated.cumulative_count >= cells_ranked.upper_interval_rank
        ) as interval_upper_observation
    from cells_ranked
    inner join value_counts_accumulated
        on {{ same_rolled_up_cell('cells_ranked', 'value_counts_accumulated') }}
    group by
        cells_ranked.metric_id,
        cells_ranked.org_view,
        cells_ranked.org_code,
        cells_ranked.period_type,
        cells_ranked.period_start,
        cells_ranked.imd_quintile,
        cells_ranked.is_all_quintiles

),

quantile_positions as (

    select
        cells_ranked.metric_id,
        cells_ranked.org_view,
        cells_ranked.org_code,
        cells_ranked.period_type,
        cells_ranked.period_start,
        cells_ranked.imd_quintile,
        cells_ranked.is_all_quintiles,
        cells_ranked.is_whole_numbers,
        probabilities.probability,
        probabilities.probability * cells_ranked.observation_count as quantile_position
    from cells_ranked
    cross join (
        values (0.5 - {{ bandwidth }}), (0.5), (0.5 + {{ bandwidth }})
    ) as probabilities (probability)

),

quantile_steps as (

    select
        quantile_positions.metric_id,
        quantile_positions.org_view,
        quantile_positions.org_code,
        quantile_positions.period_type,
        quantile_positions.period_start,
        quantile_positions.imd_quintile,
        quantile_positions.is_all_quintiles,
        quantile_positions.is_whole_numbers,
        quantile_positions.probability,
        quantile_positions.quantile_position,
        min(value_counts_accumulated.observation) filter (
            where value_counts_accumulated.cumulative_count >= quantile_positions.quantile_position
        ) as quantile_observation,
        coalesce(max(value_counts_accumulated.cumulative_count) filter (
            where value_counts_accumulated.cumulative_count < quantile_positions.quantile_position
        ), 0) as count_below,
        min(value_counts_accumulated.cumulative_count) filter (
            where value_counts_accumulated.cumulative_count >= quantile_positions.quantile_position
        ) as count_to
    from quantile_positions
    inner join value_counts_accumulated
        on {{ same_rolled_up_cell('quantile_positions', 'value_counts_accumulated') }}
    group by all

),

quantiles_interpolated as (

    select
        metric_id,
        org_view,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles,
        max(quantile) filter (where probability < 0.5) as lower_quantile,
        max(quantile) filter (where probability = 0.5) as middle_quantile,
        max(quantile) filter (where probability > 0.5) as upper_quantile
    from (
        select
            *,
            case
                when is_whole_numbers
                    then
                        round(quantile_observation) - 0.5
                        + (quantile_position - count_below) / (count_to - count_below)
                else quantile_observation
            end as quantile
        from quantile_steps
    ) as quantile_values
    group by
        metric_id,
        org_view,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles

),

final as (

    select
        cast(cells_ranked.metric_id as string) as metric_id,
        cast(cells_ranked.org_view as string) as org_view,
        cast(cells_ranked.org_level as string) as org_level,
        cast(cells_ranked.org_code as string) as org_code,
        cast(cells_ranked.period_type as string) as period_type,
        cast(cells_ranked.period_start as date) as period_start,
        cast(cells_ranked.imd_quintile as integer) as imd_quintile,
        cast(cells_ranked.is_all_quintiles as boolean) as is_all_quintiles,
        cast(cells_ranked.observation_count as double) as observation_count,
        cast(cells_ranked.observation_sum as double) as observation_sum,
        cast(cells_ranked.observation_sum_of_squares as double) as observation_sum_of_squares,
        cast(months_observed.months_reported as integer) as months_reported,
        cast(
            (order_statistics.lower_middle_observation + order_statistics.upper_middle_observation) / 2.0
            as double
        ) as median,
        cast(
            case when cells_ranked.interval_rank >= 1 then order_statistics.interval_lower_observation end
            as double
        ) as median_ci_lower,
        cast(
            case when cells_ranked.interval_rank >= 1 then order_statistics.interval_upper_observation end
            as double
        ) as median_ci_upper,
        cast(
            case
                when cells_ranked.is_whole_numbers then quantiles_interpolated.middle_quantile
                else
                    (order_statistics.lower_middle_observation + order_statistics.upper_middle_observation)
                    / 2.0
            end as double
        ) as median_interpolated,
        cast(
            case
                when
                    cells_ranked.observation_count >= 2
                    and quantiles_interpolated.upper_quantile > quantiles_interpolated.lower_quantile
                    then
                        (quantiles_interpolated.upper_quantile - quantiles_interpolated.lower_quantile)
                        / ({{ 4 * bandwidth }} * sqrt(cells_ranked.observation_count))
            end as double
        ) as median_standard_error
    from cells_ranked
    inner join order_statistics
        on {{ same_rolled_up_cell('cells_ranked', 'order_statistics') }}
    inner join months_observed
        on {{ same_rolled_up_cell('cells_ranked', 'months_observed') }}
    inner join quantiles_interpolated
        on {{ same_rolled_up_cell('cells_ranked', 'quantiles_interpolated') }}

    {% if not recomputes_every_month() -%}
    union all

    {{ period_markers('periods_recomputed', [
        'metric_id', 'org_view', 'org_level', 'org_code', 'period_type', 'period_start', 'imd_quintile',
        'is_all_quintiles', 'observation_count', 'observation_sum', 'observation_sum_of_squares',
        'months_reported', 'median', 'median_ci_lower', 'median_ci_upper', 'median_interpolated',
        'median_standard_error',
    ]) }}
    {%- endif %}

)

select * from final
