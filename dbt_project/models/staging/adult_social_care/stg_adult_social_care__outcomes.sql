{#
    ASCOF measures are annual: a row covers a financial year, and its file is named (and landed)
    after the year's first month, April: financial_year_start_date, the month the figures are dated
    at downstream.
#}
with

source_outcomes as (

    select * from {{ source('adult_social_care', 'outcomes') }}

),

final as (

    select
        cast(la_code as string) as la_code,
        cast(financial_year_start as date) as financial_year_start_date,
        cast(measure_id as string) as measure_id,
        cast(numerator as bigint) as numerator,
        cast(denominator as bigint) as denominator,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_outcomes

)

select * from final
