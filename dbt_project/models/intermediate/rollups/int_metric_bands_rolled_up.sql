{#
    Medians of banded counts at every level and period, from the band counts summed there (a
    median of medians is not a median): for each cell, the band counts of its trusts and months are
    added up, and the median is interpolated within the band that holds it, as NHS England computes
    the median wait of the RTT returns: from + (n / 2 - pathways in earlier bands) / pathways in the
    band x band width, n the pathways counted. The interval interpolates the order statistics r and
    n - r + 1 the same way (r the binomial (n, 1/2) quantile at half the significance level, each
    order statistic at the middle of its place in the band: position r - 1/2), null when n is too
    small for one. A position in the open top band takes the band's lower bound. The sum and sum of
    squares count each observation at its band's midpoint (the open band at its lower bound): the
    mean they give is an estimate, published for reference beside the median. The median's
    standard error, for funnel plots, is Siddiqui's from the quantiles 0.5 -/+ var
    median_density_bandwidth interpolated the same way (as int_metric_observations_rolled_up's).

    Incremental: the months int_metric_bands recomputes (its window per metric) give the periods
    recomputed here, each from the bands of all its months (macros/incremental_rollups.sql).
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

bands as (

    select * from {{ ref('int_metric_bands') }}
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
{%- set windows = recompute_window_of('int_metric_bands') %}

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

{% endif -%}

bands_placed as (

    select
        bands.metric_id,
        organisation_bridge.org_view,
        organisation_bridge.org_level,
        organisation_bridge.org_code,
        period_bridge.period_type,
        period_bridge.period_start,
        bands.imd_quintile,
        bands.period_start as month_start_date,
        bands.band_from,
        bands.band_to,
        bands.band_count
    from bands
    inner join organisation_bridge
        on bands.trust_code = organisation_bridge.trust_code
    inner join period_bridge
        on bands.period_start = period_bridge.month_start_date
    {{ join_periods_recomputed('bands', 'period_bridge') }}

),

bands_by_quintile as (

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
        band_from,
        band_to,
        band_count
    from bands_placed

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
        band_from,
        band_to,
        band_count
    from bands_placed

),

bands_rolled_up as (

    select
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles,
        band_from,
        band_to,
        sum(band_count) as band_count,
        coalesce((band_from + band_to) / 2.0, band_from) as band_midpoint
    from bands_by_quintile
    group by
        metric_id,
        org_view,
        org_level,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles,
        band_from,
        band_to

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
    from bands_by_quintile
    group by
        metric_id,
        org_view,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles

),

bands_accumulated as (

    select
        *,
        sum(band_count) over (
            partition by
                metric_id, org_view, org_code, period_type, period_start, imd_quintile, is_all_quintiles
            order by band_from
            rows between unbounded preceding and current row
        ) as cumulative_count
    from bands_rolled_up

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
        sum(band_count) as observation_count,
        sum(band_count * band_midpoint) as observation_sum,
        sum(band_count * band_midpoint * band_midpoint) as observation_sum_of_squares
    from bands_rolled_up
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
        cast(binomial_quantile({{ tail }}, observation_count, 0.5) as bigint) as interval_rank
    from cells

),

positions as (

    -- the position in the cell's ordered counts of each statistic: the median, the interval's order
    -- statistics (when n allows one) and the quantiles either side of the median for its standard error
    select
        cells_ranked.metric_id,
        cells_ranked.org_view,
        cells_ranked.org_code,
        cells_ranked.period_type,
        cells_ranked.period_start,
        cells_ranked.imd_quintile,
        cells_ranked.is_all_quintiles,
        wanted.statistic,
        case wanted.statistic
            when 'median' then cells_ranked.observation_count / 2.0
            when 'lower' then cells_ranked.interval_rank - 0.5
            when 'upper' then cells_ranked.observation_count - cells_ranked.interval_rank + 0.5
            when 'density_lower' then cells_ranked.observation_count * {{ 0.5 - bandwidth }}
            when 'density_upper' then cells_ranked.observation_count * {{ 0.5 + bandwidth }}
        end as band_position
    from cells_ranked
    cross join (
        values ('median'), ('lower'), ('upper'), ('density_lower'), ('density_upper')
    ) as wanted (statistic)
    where wanted.statistic not in ('lower', 'upper') or cells_ranked.interval_rank >= 1

),

positions_banded as (

    -- the band holding each position: the first whose cumulative count reaches it
    select
        positions.metric_id,
        positions.org_view,
        positions.org_code,
        positions.period_type,
        positions.period_start,
        positions.imd_quintile,
        positions.is_all_quintiles,
        positions.statistic,
        positions.band_position,
        bands_accumulated.band_from,
        bands_accumulated.band_to,
        bands_accumulated.band_count,
        bands_accumulated.cumulative_count - bands_accumulated.band_count as count_before
    from positions
    inner join bands_accumulated
        on
            positions.metric_id = bands_accumulated.metric_id
            and positions.org_view = bands_accumulated.org_view
            and positions.org_code = bands_accumulated.org_code
            and positions.period_type = bands_accumulated.period_type
            and positions.period_start = bands_accumulated.period_start
            and positions.imd_quintile is not distinct from bands_accumulated.imd_quintile
            and positions.is_all_quintiles = bands_accumulated.is_all_quintiles
            and positions.band_position > bands_accumulated.cumulative_count - bands_accumulated.band_count
            and positions.band_position <= bands_accumulated.cumulative_count

),

positions_valued as (

    select
        *,
        case
            when band_to is null then band_from
            else band_from + (band_position - count_before) / band_count * (band_to - band_from)
        end as band_value
    from positions_banded

),

interpolated as (

    select
        metric_id,
        org_view,
        org_code,
        period_type,
        period_start,
        imd_quintile,
        is_all_quintiles,
        max(case when statistic = 'median' then band_value end) as median,
        max(case when statistic = 'lower' then band_value end) as median_ci_lower,
        max(case when statistic = 'upper' then band_value end) as median_ci_upper,
        max(case when statistic = 'density_lower' then band_value end) as density_lower,
        max(case when statistic = 'density_upper' then band_value end) as density_upper
    from positions_valued
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
        cast(interpolated.median as double) as median,
        cast(interpolated.median_ci_lower as double) as median_ci_lower,
        cast(interpolated.median_ci_upper as double) as median_ci_upper,
        cast(interpolated.median as double) as median_interpolated,
        cast(
            case
                when
                    cells_ranked.observation_count >= 2
                    and interpolated.density_upper > interpolated.density_lower
                    then
                        (interpolated.density_upper - interpolated.density_lower)
                        / ({{ 4 * bandwidth }} * sqrt(cells_ranked.observation_count))
            end as double
        ) as median_standard_error
    from cells_ranked
    inner join interpolated
        on
            cells_ranked.metric_id = interpolated.metric_id
            and cells_ranked.org_view = interpolated.org_view
            and cells_ranked.org_code = interpolated.org_code
            and cells_ranked.period_type = interpolated.period_type
            and cells_ranked.period_start = interpolated.period_start
            and cells_ranked.imd_quintile is not distinct from interpolated.imd_quintile
            and cells_ranked.is_all_quintiles = interpolated.is_all_quintiles
    inner join months_observed
        on
            cells_ranked.metric_id = months_observed.metric_id
            and cells_ranked.org_view = months_observed.org_view
            and cells_ranked.org_code = months_observed.org_code
            and cells_ranked.period_type = months_observed.period_type
            and cells_ranked.period_start = months_observed.period_start
            and cells_ranked.imd_quintile is not distinct from months_observed.imd_quintile
            and cells_ranked.is_all_quintiles = months_observed.is_all_quintiles

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
