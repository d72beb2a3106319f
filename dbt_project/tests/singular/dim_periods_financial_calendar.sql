{#
    The NHS financial year runs April to March: March 2025 is 2024-25 Q4, April 2025 is 2025-26 Q1.
#}
with

periods as (

    select * from {{ ref('dim_periods') }}

),

expected as (

    select
        cast('2025-03-01' as date) as period_start,
        '2024-25' as financial_year,
        4 as financial_quarter,
        12 as financial_month_number,
        cast('2025-03-31' as date) as period_end
    union all
    select
        cast('2025-04-01' as date) as period_start,
        '2025-26' as financial_year,
        1 as financial_quarter,
        1 as financial_month_number,
        cast('2025-04-30' as date) as period_end
    union all
    select
        cast('2024-02-01' as date) as period_start,
        '2023-24' as financial_year,
        4 as financial_quarter,
        11 as financial_month_number,
        cast('2024-02-29' as date) as period_end
    union all
    select
        cast('2025-09-01' as date) as period_start,
        '2025-26' as financial_year,
        2 as financial_quarter,
        6 as financial_month_number,
        cast('2025-09-30' as date) as period_end

),

final as (

    select expected.*
    from expected
    left join periods
        on expected.period_start = periods.period_start
    where
        periods.period_start is null
        or periods.financial_year != expected.financial_year
        or periods.financial_quarter != expected.financial_quarter
        or periods.financial_month_number != expected.financial_month_number
        or periods.period_end != expected.period_end

)

select * from final
