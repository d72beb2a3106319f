{#
    The Friends and Family Test shares count every response of the month in the setting, "don't
    know" included (NHS England's percentage positive). Complaints are quarterly: a quarter's row is
    attributed to its first month (quarter_start_date), so its month row holds the whole quarter and
    its financial quarter and year rows are exact. The rate per 1,000 occupied bed days divides a
    quarter's complaints by the occupied bed days of its three months, only for trusts with a bed
    return for each of them: a trust without overnight beds (an ambulance trust) has no exposure, and
    a quarter short of a month would be divided by too few bed days.

    Incremental: a month of FFT or complaints reads that month only; a quarter's complaint rate reads
    the bed returns of its three months, so a changed month recomputes the two months before it.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 0, 'after': 2}},
) }}

with

friends_and_family as (

    select * from {{ ref('stg_patient_experience__friends_and_family') }}
    where {{ months_recomputed('reporting_month_date') }}

),

complaints as (

    select * from {{ ref('stg_patient_experience__complaints') }}
    where {{ months_recomputed('quarter_start_date') }}

),

occupancy as (

    select * from {{ ref('stg_bed_availability__occupancy') }}
    where {{ months_read('reporting_month_date') }}

),

fft_trust_months as (

    select
        trust_code,
        reporting_month_date as period_start,
        setting,
        sum(very_good + good) as positive_responses,
        sum(responses) as responses
    from friends_and_family
    group by
        trust_code,
        reporting_month_date,
        setting

),

complaint_trust_quarters as (

    select
        trust_code,
        quarter_start_date as period_start,
        sum(complaints_received) as complaints_received,
        sum(complaints_resolved) as complaints_resolved,
        sum(upheld + partially_upheld) as complaints_upheld
    from complaints
    group by
        trust_code,
        quarter_start_date

),

bed_trust_quarters as (

    select
        complaint_trust_quarters.trust_code,
        complaint_trust_quarters.period_start,
        sum(occupancy.occupied_bed_days) as occupied_bed_days
    from complaint_trust_quarters
    inner join occupancy
        on
            complaint_trust_quarters.trust_code = occupancy.trust_code
            and complaint_trust_quarters.period_start <= occupancy.reporting_month_date
            and {{ dbt.dateadd('month', 3, 'complaint_trust_quarters.period_start') }}
            > occupancy.reporting_month_date
    group by
        complaint_trust_quarters.trust_code,
        complaint_trust_quarters.period_start
    having count(distinct occupancy.reporting_month_date) = 3

),

metric_rows as (

    select
        'fft_inpatient_positive' as metric_id,
        trust_code,
        period_start,
        positive_responses as numerator,
        responses as denominator
    from fft_trust_months
    where setting = 'inpatient'

    union all

    select
        'fft_ae_positive' as metric_id,
        trust_code,
        period_start,
        positive_responses as numerator,
        responses as denominator
    from fft_trust_months
    where setting = 'emergency_department'

    union all

    select
        'complaints_per_1000_bed_days' as metric_id,
        complaint_trust_quarters.trust_code,
        complaint_trust_quarters.period_start,
        complaint_trust_quarters.complaints_received as numerator,
        bed_trust_quarters.occupied_bed_days as denominator
    from complaint_trust_quarters
    inner join bed_trust_quarters
        on
            complaint_trust_quarters.trust_code = bed_trust_quarters.trust_code
            and complaint_trust_quarters.period_start = bed_trust_quarters.period_start

    union all

    select
        'complaints_upheld_share' as metric_id,
        trust_code,
        period_start,
        complaints_upheld as numerator,
        complaints_resolved as denominator
    from complaint_trust_quarters

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(trust_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(null as integer) as imd_quintile,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from metric_rows

)

select * from final
