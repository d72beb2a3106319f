{#
    Adult social care metrics by local authority: the reporting unit of these rows (trust_code holds
    the council's ONS code; the organisation bridge places it under its primary ICB).

    Discharge delays are monthly: discharged_on_ready_date and social_care_delay_days_per_discharge
    by reporting month. ASCOF measures are annual: reablement_still_at_home_91d (2B1) and
    care_user_satisfaction (3A) are dated at the first month of their financial year (April), the
    month their file is named after and landed in, so the year's figure is that month's row (and its
    quarter's and financial year's, which hold no other month), as a quarterly return's quarter sits
    on its first month.

    Incremental: a month reads that month's discharge return and the ASCOF file landed in it.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 0, 'after': 0}},
) }}

with

discharge_delays as (

    select * from {{ ref('stg_adult_social_care__discharge_delays') }}
    where {{ months_recomputed('reporting_month_date') }}

),

outcomes as (

    select * from {{ ref('stg_adult_social_care__outcomes') }}
    where {{ months_recomputed('financial_year_start_date') }}

),

metric_rows as (

    select
        'discharged_on_ready_date' as metric_id,
        la_code,
        reporting_month_date as period_start,
        discharged_on_ready_date as numerator,
        patients_discharged as denominator
    from discharge_delays

    union all

    select
        'social_care_delay_days_per_discharge' as metric_id,
        la_code,
        reporting_month_date as period_start,
        delay_days_social_care as numerator,
        patients_discharged as denominator
    from discharge_delays

    union all

    select
        case measure_id
            when '2B1' then 'reablement_still_at_home_91d'
            when '3A' then 'care_user_satisfaction'
        end as metric_id,
        la_code,
        financial_year_start_date as period_start,
        numerator,
        denominator
    from outcomes

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(la_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(null as integer) as imd_quintile,
        cast(sum(numerator) as double) as numerator,
        cast(sum(denominator) as double) as denominator
    from metric_rows
    group by
        metric_id,
        la_code,
        period_start

)

select * from final
