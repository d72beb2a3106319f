{#
    The value of a metric and its confidence interval from its summed numerator and denominator
    (and, for medians and means, its observations), by the unit the catalogue gives it. One
    definition for metric_values and metric_values_by_deprivation. `cell` is the alias of a relation
    with unit, unit_multiplier, numerator, denominator, observation_count, observation_sum,
    observation_sum_of_squares, median, median_ci_lower, median_ci_upper and median_standard_error;
    `z` the normal quantile.
#}

{% macro metric_value(cell) -%}
    case
        when {{ cell }}.unit = 'count' then {{ cell }}.numerator * {{ cell }}.unit_multiplier
        when {{ cell }}.unit = 'median' then {{ cell }}.median * {{ cell }}.unit_multiplier
        when {{ cell }}.denominator != 0
            then {{ cell }}.numerator / {{ cell }}.denominator * {{ cell }}.unit_multiplier
    end
{%- endmacro %}

{% macro metric_interval(cell, bound, z) -%}
    {%- set sign = '-' if bound == 'lower' else '+' -%}
    case
        when {{ cell }}.unit = 'proportion'
            then {{ wilson_lower(cell ~ '.numerator', cell ~ '.denominator', z) if bound == 'lower'
                else wilson_upper(cell ~ '.numerator', cell ~ '.denominator', z) }}
                * {{ cell }}.unit_multiplier
        when {{ cell }}.unit = 'count'
            then {{ poisson_lower(cell ~ '.numerator') if bound == 'lower'
                else poisson_upper(cell ~ '.numerator') }}
                * {{ cell }}.unit_multiplier
        when {{ cell }}.unit in ('rate_per_1000', 'ratio', 'standardised_ratio') and {{ cell }}.denominator > 0
            then {{ poisson_lower(cell ~ '.numerator') if bound == 'lower'
                else poisson_upper(cell ~ '.numerator') }}
                / {{ cell }}.denominator * {{ cell }}.unit_multiplier
        when {{ cell }}.unit = 'mean' and {{ cell }}.denominator != 0
            then ({{ cell }}.numerator / {{ cell }}.denominator {{ sign }} {{ t_half_width(
                cell ~ '.observation_count', cell ~ '.observation_sum', cell ~ '.observation_sum_of_squares'
            ) }}) * {{ cell }}.unit_multiplier
        when {{ cell }}.unit = 'median'
            then {{ cell }}.median_ci_{{ bound }} * {{ cell }}.unit_multiplier
    end
{%- endmacro %}

{#
    The standard error of a mean (the standard deviation of its observations over the square root of
    their number) or a median (the rolled-up asymptotic one, int_metric_observations_rolled_up), in
    the metric's unit; null for other units. Funnel plots of means and medians compare with it.
#}
{% macro metric_standard_error(cell) -%}
    case
        when {{ cell }}.unit = 'mean' and {{ cell }}.observation_count >= 2
            then sqrt(greatest(
                ({{ cell }}.observation_sum_of_squares
                - {{ cell }}.observation_sum * {{ cell }}.observation_sum / {{ cell }}.observation_count)
                / ({{ cell }}.observation_count - 1),
                0
            ) / {{ cell }}.observation_count) * {{ cell }}.unit_multiplier
        when {{ cell }}.unit = 'median'
            then {{ cell }}.median_standard_error * {{ cell }}.unit_multiplier
    end
{%- endmacro %}

{#
    A deprivation gap: the base metric's value in quintile 1 minus quintile 5, and Newcombe's
    interval, from `cell`'s most_deprived_numerator, most_deprived_denominator,
    least_deprived_numerator, least_deprived_denominator and unit_multiplier; null where either
    quintile has no denominator. One definition for the marts and the published values.
#}
{% macro gap_value(cell) -%}
    case
        when {{ cell }}.most_deprived_denominator > 0 and {{ cell }}.least_deprived_denominator > 0
            then (
                {{ cell }}.most_deprived_numerator / {{ cell }}.most_deprived_denominator
                - {{ cell }}.least_deprived_numerator / {{ cell }}.least_deprived_denominator
            ) * {{ cell }}.unit_multiplier
    end
{%- endmacro %}

{% macro gap_interval(cell, bound, z) -%}
    {%- set args = [
        cell ~ '.most_deprived_numerator', cell ~ '.most_deprived_denominator',
        cell ~ '.least_deprived_numerator', cell ~ '.least_deprived_denominator', z
    ] -%}
    {{ newcombe_lower(*args) if bound == 'lower' else newcombe_upper(*args) }} * {{ cell }}.unit_multiplier
{%- endmacro %}
