with

source_procedures as (

    select * from {{ source('joint_registry', 'procedures') }}

),

final as (

    select
        cast(procedure_id as varchar) as procedure_id,
        cast(trust_code as varchar) as trust_code,
        cast(site_code as varchar) as site_code,
        cast(nhs_number_hash as varchar) as nhs_number_hash,
        cast(procedure_date as date) as procedure_date,
        cast({{ dbt.date_trunc('month', 'procedure_date') }} as date) as procedure_month_date,
        cast(joint as varchar) as joint,
        cast(age as integer) as age,
        cast(sex as varchar) as sex,
        cast(imd_quintile as integer) as imd_quintile,
        cast(asa_grade as integer) as asa_grade,
        cast(month as varchar) as landed_month,
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as varchar) as contract_version
    from source_procedures

)

select * from final
