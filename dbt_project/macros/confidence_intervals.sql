{#
    Confidence intervals at the project's confidence_level (dbt_project.yml), as SQL expressions.
    Arguments are SQL expressions; numerators and denominators are counts (possibly fractional, as
    for full-time-equivalent days). chi_square_quantile, student_t_quantile and normal_quantile are
    registered by the dbt profile's plugin (nqs/sql_functions.py), so only table models may use them.
#}

{% macro ci_tail() -%}
    {{ (1 - var('confidence_level')) / 2 }}
{%- endmacro %}

{# The standard normal quantile for a two-sided interval, 1.96 at 95%. #}
{% macro ci_z() -%}
    normal_quantile(1 - {{ ci_tail() }})
{%- endmacro %}

{# Wilson score interval for the proportion x / n; null when n is 0. #}
{% macro wilson_lower(x, n, z) -%}
    case
        when ({{ n }}) > 0
            then (
                ({{ x }}) / ({{ n }}) + ({{ z }}) * ({{ z }}) / (2 * ({{ n }}))
                - ({{ z }}) * sqrt(greatest(
                    ({{ x }}) / ({{ n }}) * (1 - ({{ x }}) / ({{ n }})) / ({{ n }})
                    + ({{ z }}) * ({{ z }}) / (4 * ({{ n }}) * ({{ n }})),
                    0
                ))
            ) / (1 + ({{ z }}) * ({{ z }}) / ({{ n }}))
    end
{%- endmacro %}

{% macro wilson_upper(x, n, z) -%}
    case
        when ({{ n }}) > 0
            then (
                ({{ x }}) / ({{ n }}) + ({{ z }}) * ({{ z }}) / (2 * ({{ n }}))
                + ({{ z }}) * sqrt(greatest(
                    ({{ x }}) / ({{ n }}) * (1 - ({{ x }}) / ({{ n }})) / ({{ n }})
                    + ({{ z }}) * ({{ z }}) / (4 * ({{ n }}) * ({{ n }})),
                    0
                ))
            ) / (1 + ({{ z }}) * ({{ z }}) / ({{ n }}))
    end
{%- endmacro %}

{# Exact (Garwood) Poisson interval for an observed count x: chi-square quantiles over 2. #}
{% macro poisson_lower(x) -%}
    case
        when ({{ x }}) = 0 then 0.0
        when ({{ x }}) > 0 then chi_square_quantile({{ ci_tail() }}, 2 * ({{ x }})) / 2
    end
{%- endmacro %}

{% macro poisson_upper(x) -%}
    case
        when ({{ x }}) >= 0 then chi_square_quantile(1 - {{ ci_tail() }}, 2 * ({{ x }}) + 2) / 2
    end
{%- endmacro %}

{#
    Half the width of the Student t interval for a mean from n observations with sum s and sum of
    squares ss (sample standard deviation with n - 1); null below two observations.
#}
{% macro t_half_width(n, s, ss) -%}
    case
        when ({{ n }}) >= 2
            then student_t_quantile(1 - {{ ci_tail() }}, ({{ n }}) - 1)
                * sqrt(greatest((({{ ss }}) - ({{ s }}) * ({{ s }}) / ({{ n }})) / (({{ n }}) - 1), 0) / ({{ n }}))
    end
{%- endmacro %}

{#
    Newcombe's hybrid score interval (his method 10) for the difference of proportions
    x1 / n1 - x2 / n2, from the two Wilson intervals; null when either denominator is 0.
#}
{% macro newcombe_lower(x1, n1, x2, n2, z) -%}
    case
        when ({{ n1 }}) > 0 and ({{ n2 }}) > 0
            then ({{ x1 }}) / ({{ n1 }}) - ({{ x2 }}) / ({{ n2 }}) - sqrt(
                power(({{ x1 }}) / ({{ n1 }}) - {{ wilson_lower(x1, n1, z) }}, 2)
                + power({{ wilson_upper(x2, n2, z) }} - ({{ x2 }}) / ({{ n2 }}), 2)
            )
    end
{%- endmacro %}

{% macro newcombe_upper(x1, n1, x2, n2, z) -%}
    case
        when ({{ n1 }}) > 0 and ({{ n2 }}) > 0
            then ({{ x1 }}) / ({{ n1 }}) - ({{ x2 }}) / ({{ n2 }}) + sqrt(
                power({{ wilson_upper(x1, n1, z) }} - ({{ x1 }}) / ({{ n1 }}), 2)
                + power(({{ x2 }}) / ({{ n2 }}) - {{ wilson_lower(x2, n2, z) }}, 2)
            )
    end
{%- endmacro %}
