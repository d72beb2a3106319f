with

source_revisions as (

    select * from {{ source('joint_registry', 'revisions') }}

),

final as (

    select
        cast(revision_id as string) as revision_id,
        cast(primary_procedure_id as string) as primary_procedure_id,
        cast(primary_procedure_date as date) as primary_procedure_date,
        cast(trust_code as string) as trust_code,
        cast(revision_date as date) as revision_date,
        cast({{ dbt.date_trunc('month', 'revision_date') }} as date) as revision_month_date,
        cast(revision_reason as string) as revision_reason,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_revisions

)

select * from final
