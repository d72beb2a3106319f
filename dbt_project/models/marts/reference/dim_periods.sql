{#
    A fixed monthly calendar (bounds in dbt_project.yml vars) so that every month any source can
    deliver has a row, with the NHS financial year (April to March) beside the calendar.
#}
{%- set calendar_start = modules.datetime.date.fromisoformat(var('calendar_start_date')) -%}
{%- set calendar_end = modules.datetime.date.fromisoformat(var('calendar_end_date')) -%}
{%- set month_count = (calendar_end.year - calendar_start.year) * 12
    + calendar_end.month - calendar_start.month -%}

with

month_numbers as (

    {{ dbt.generate_series(month_count) }}

),

months as (

    select
        cast(
            {{ dbt.dateadd('month', 'generated_number - 1', "cast('" ~ calendar_start ~ "' as date)") }}
            as date
        ) as period_start
    from month_numbers

),

months_numbered as (

    select
        period_start,
        cast(extract(year from period_start) as integer) as calendar_year,
        cast(extract(month from period_start) as integer) as calendar_month
    from months

),

financial_years as (

    select
        period_start,
        calendar_year,
        calendar_month,
        case
            when calendar_month >= 4 then calendar_year
            else calendar_year - 1
        end as financial_year_start_year,
        mod(calendar_month + 8, 12) + 1 as financial_month_number
    from months_numbered

),

financial_labels as (

    select
        period_start,
        calendar_year,
        calendar_month,
        financial_year_start_year,
        financial_month_number,
        cast(floor((financial_month_number - 1) / 3.0) as integer) + 1 as financial_quarter,
        cast(financial_year_start_year as string)
        || '-'
        || lpad(cast(mod(financial_year_start_year + 1, 100) as string), 2, '0') as financial_year
    from financial_years

),

period_bounds as (

    select
        *,
        cast(cast(financial_year_start_year as string) || '-04-01' as date) as financial_year_start_date,
        {%- set months_into_quarter = '3 * (financial_quarter - 1) - financial_month_number + 1' %}
        cast({{ dbt.dateadd('month', months_into_quarter, 'period_start') }} as date) as quarter_start_date
    from financial_labels

),

final as (

    select
        period_start,
        cast({{ dbt.last_day('period_start', 'month') }} as date) as period_end,
        cast(calendar_year as string)
        || '-'
        || lpad(cast(calendar_month as string), 2, '0') as period_label,
        calendar_year,
        calendar_month,
        financial_year,
        financial_year_start_date,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('year', 1, 'financial_year_start_date')) }} as date)
            as financial_year_end_date,
        financial_month_number,
        financial_quarter,
        financial_year || ' Q' || cast(financial_quarter as string) as financial_quarter_label,
        quarter_start_date,
        cast({{ dbt.last_day(dbt.dateadd('month', 2, 'quarter_start_date'), 'month') }} as date)
            as quarter_end_date
    from period_bounds

)

select * from final
