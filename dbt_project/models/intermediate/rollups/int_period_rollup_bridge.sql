{# Maps each month to the three periods it belongs to: itself, its financial quarter and year. #}
with

periods as (

    select * from {{ ref('dim_periods') }}

),

final as (

    select
        period_start as month_start_date,
        'month' as period_type,
        period_start,
        period_end,
        financial_year
    from periods

    union all

    select
        period_start as month_start_date,
        'quarter' as period_type,
        quarter_start_date as period_start,
        quarter_end_date as period_end,
        financial_year
    from periods

    union all

    select
        period_start as month_start_date,
        'financial_year' as period_type,
        financial_year_start_date as period_start,
        financial_year_end_date as period_end,
        financial_year
    from periods

)

select * from final
