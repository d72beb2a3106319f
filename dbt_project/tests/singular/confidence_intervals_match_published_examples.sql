{#
    The interval macros reproduce published worked examples to the four decimals they are printed
    with: Wilson intervals for 81/263, 15/148, 0/20 and 1/29 and Newcombe's method 10 for
    56/70 - 48/80 (Newcombe, Statistics in Medicine 1998, 17:857-872 and 873-890), the exact Poisson
    interval for 10 and 0 events (4.795 to 18.390; 0 to 3.689), and the t interval for the mean of
    1, 2, 3, 4, 5 (3 plus or minus 2.776 x 1.581 / sqrt 5 = 1.0368 to 4.9632). For the t example,
    x1, n1 and x2 hold the count, sum and sum of squares.
#}
{%- set x1, n1, x2, n2 = 'examples.x1', 'examples.n1', 'examples.x2', 'examples.n2' %}
with

normal as (

    select {{ ci_z() }} as z

),

examples as (

    select * from (
        values
        ('wilson', 81.0, 263.0, 0.0, 0.0, 0.2553, 0.3662),
        ('wilson', 15.0, 148.0, 0.0, 0.0, 0.0624, 0.1605),
        ('wilson', 0.0, 20.0, 0.0, 0.0, 0.0000, 0.1611),
        ('wilson', 1.0, 29.0, 0.0, 0.0, 0.0061, 0.1718),
        ('newcombe', 56.0, 70.0, 48.0, 80.0, 0.0524, 0.3339),
        ('poisson', 10.0, 0.0, 0.0, 0.0, 4.7954, 18.3904),
        ('poisson', 0.0, 0.0, 0.0, 0.0, 0.0000, 3.6889),
        ('t', 5.0, 15.0, 55.0, 0.0, 1.0368, 4.9632)
    ) as published (method, x1, n1, x2, n2, lower_expected, upper_expected)  -- noqa: AL05

),

computed as (

    select
        examples.method,
        examples.x1,
        examples.n1,
        examples.x2,
        examples.n2,
        examples.lower_expected,
        examples.upper_expected,
        case examples.method
            when 'wilson' then {{ wilson_lower(x1, n1, 'normal.z') }}
            when 'newcombe'
                then {{ newcombe_lower(x1, n1, x2, n2, 'normal.z') }}
            when 'poisson' then {{ poisson_lower(x1) }}
            when 't'
                then examples.n1 / examples.x1 - {{ t_half_width(x1, n1, x2) }}
        end as lower_computed,
        case examples.method
            when 'wilson' then {{ wilson_upper(x1, n1, 'normal.z') }}
            when 'newcombe'
                then {{ newcombe_upper(x1, n1, x2, n2, 'normal.z') }}
            when 'poisson' then {{ poisson_upper(x1) }}
            when 't'
                then examples.n1 / examples.x1 + {{ t_half_width(x1, n1, x2) }}
        end as upper_computed
    from examples
    cross join normal

),

final as (

    select *
    from computed
    where
        lower_computed is null
        or upper_computed is null
        or abs(lower_computed - lower_expected) > 0.00005
        or abs(upper_computed - upper_expected) > 0.00005

)

select * from final
