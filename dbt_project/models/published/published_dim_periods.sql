{#
    marts.dim_periods as published, column by column: a column added to the mart is not published
    until it is listed and described here. It holds the calendar (reference data), so no disclosure
    control applies.
#}
with

dim_periods as (

    select * from {{ ref('dim_periods') }}

),

final as (

    select
        period_start,
        period_end,
        period_label,
        calendar_year,
        calendar_month,
        financial_year,
        financial_year_start_date,
        financial_year_end_date,
        financial_month_number,
        financial_quarter,
        financial_quarter_label,
        quarter_start_date,
        quarter_end_date
    from dim_periods

)

select * from final
