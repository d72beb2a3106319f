with

source_births as (

    select * from {{ source('maternity', 'births') }}

),

final as (

    select
        cast(birth_id as string) as birth_id,
        cast(delivery_id as string) as delivery_id,
        cast(birth_order as integer) as birth_order,
        cast(trust_code as string) as trust_code,
        cast(site_code as string) as site_code,
        cast(mother_nhs_number_hash as string) as mother_nhs_number_hash,
        cast(mother_age as integer) as mother_age,
        cast(mother_ethnic_category as string) as mother_ethnic_category,
        cast(imd_quintile as integer) as imd_quintile,
        cast(delivery_date as date) as delivery_date,
        cast({{ dbt.date_trunc('month', 'delivery_date') }} as date) as delivery_month_date,
        cast(gestation_weeks as integer) as gestation_weeks,
        cast(gestation_days as integer) as gestation_days,
        cast(gestation_weeks * 7 + gestation_days as integer) as gestation_total_days,
        cast(delivery_mode as string) as delivery_mode,
        cast(birth_outcome as string) as birth_outcome,
        cast(birthweight_g as integer) as birthweight_g,
        cast(baby_death_date as date) as baby_death_date,
        {{ dbt.datediff('delivery_date', 'baby_death_date', 'day') }}
            as days_birth_to_death,
        cast(perineal_trauma as string) as perineal_trauma,
        cast(blood_loss_ml as integer) as blood_loss_ml,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_births

)

select * from final
