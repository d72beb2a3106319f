{#
    The maternity metrics' rows, by the mother's deprivation quintile and broad ethnic group: the one
    place they are defined. int_metrics__maternity sums them over ethnic groups for metric_values
    and metric_values_by_deprivation; int_metric_rows_by_ethnic_group_rolled_up sums them over
    quintiles for metric_values_by_ethnicity.

    Baby measures count every baby; the mother's (mode of delivery, perineal trauma, blood loss)
    count each delivery once, on its first baby's row (birth_order 1).

    Incremental: a month reads that month's births only.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_start',
    meta={'recompute_window': {'before': 0, 'after': 0}},
) }}

with

births as (

    select * from {{ ref('stg_maternity__births') }}
    where {{ months_recomputed('delivery_month_date') }}

),

ethnic_categories as (

    select * from {{ ref('ethnic_categories') }}

),

births_measured as (

    select
        births.trust_code,
        births.delivery_month_date as period_start,
        births.imd_quintile,
        ethnic_categories.ethnic_group,
        births.birth_outcome = 'stillbirth' as is_stillbirth,
        births.birth_outcome = 'live_birth' as is_live_birth,
        births.birth_outcome = 'live_birth' and births.days_birth_to_death <= 27 as is_neonatal_death,
        births.birth_outcome = 'live_birth' and births.gestation_weeks < 37 as is_preterm_live_birth,
        births.birth_order = 1 as is_delivery,
        births.birth_order = 1
        and births.delivery_mode in ('planned_caesarean', 'emergency_caesarean') as is_caesarean_delivery,
        births.birth_order = 1
        and births.delivery_mode in ('spontaneous_vaginal', 'instrumental')
        and births.perineal_trauma is not null as is_vaginal_delivery_assessed,
        births.birth_order = 1
        and births.perineal_trauma in ('third_degree', 'fourth_degree') as is_third_or_fourth_degree_tear,
        births.birth_order = 1 and births.blood_loss_ml >= 1500 as is_haemorrhage_1500ml
    from births
    left join ethnic_categories
        on births.mother_ethnic_category = ethnic_categories.ethnic_category

),

trust_months as (

    select
        trust_code,
        period_start,
        imd_quintile,
        ethnic_group,
        count(*) as birth_count,
        count(*) filter (where is_stillbirth) as stillbirth_count,
        count(*) filter (where is_live_birth) as live_birth_count,
        count(*) filter (where is_neonatal_death) as neonatal_death_count,
        count(*) filter (where is_preterm_live_birth) as preterm_live_birth_count,
        count(*) filter (where is_delivery) as delivery_count,
        count(*) filter (where is_caesarean_delivery) as caesarean_delivery_count,
        count(*) filter (where is_vaginal_delivery_assessed) as vaginal_delivery_count,
        count(*) filter (where is_third_or_fourth_degree_tear) as tear_count,
        count(*) filter (where is_haemorrhage_1500ml) as haemorrhage_count
    from births_measured
    group by
        trust_code,
        period_start,
        imd_quintile,
        ethnic_group

),

metric_rows as (

    select
        'stillbirth_rate' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        ethnic_group,
        stillbirth_count as numerator,
        birth_count as denominator
    from trust_months

    union all

    select
        'neonatal_death_rate' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        ethnic_group,
        neonatal_death_count as numerator,
        live_birth_count as denominator
    from trust_months

    union all

    select
        'preterm_birth_share' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        ethnic_group,
        preterm_live_birth_count as numerator,
        live_birth_count as denominator
    from trust_months

    union all

    select
        'caesarean_birth_share' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        ethnic_group,
        caesarean_delivery_count as numerator,
        delivery_count as denominator
    from trust_months

    union all

    select
        'perineal_tear_3rd_4th_share' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        ethnic_group,
        tear_count as numerator,
        vaginal_delivery_count as denominator
    from trust_months

    union all

    select
        'pph_1500ml_share' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        ethnic_group,
        haemorrhage_count as numerator,
        delivery_count as denominator
    from trust_months

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(trust_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(imd_quintile as integer) as imd_quintile,
        cast(ethnic_group as string) as ethnic_group,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from metric_rows

)

select * from final
