with

source_procedures as (

    select * from {{ source('joint_registry', 'procedures') }}

),

final as (

    select
        cast(procedure_id as string) as procedure_id,
        cast(trust_code as string) as trust_code,
        cast(site_code as string) as site_code,
        cast(nhs_number_hash as string) as nhs_number_hash,
        cast(procedure_date as date) as procedure_date,
        cast({{ dbt.date_trunc('month', 'procedure_date') }} as date) as procedure_month_date,
        cast(joint as string) as joint,
        cast(age as integer) as age,
        cast(sex as string) as sex,
        cast(imd_quintile as integer) as imd_quintile,
        cast(asa_grade as integer) as asa_grade,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_procedures

)

select * from final
