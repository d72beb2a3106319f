with

source_vacancies as (

    select * from {{ source('workforce', 'vacancies') }}

),

final as (

    select
        cast(trust_code as string) as trust_code,
        cast({{ dbt.date_trunc('month', 'reporting_month') }} as date) as reporting_month_date,
        cast(staff_group as string) as staff_group,
        cast(establishment_fte as double) as establishment_fte,
        cast(vacancy_fte as double) as vacancy_fte,
        cast(bank_fte as double) as bank_fte,
        cast(agency_fte as double) as agency_fte,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_vacancies

)

select * from final
