with

source_proms as (

    select * from {{ source('joint_registry', 'proms') }}

),

final as (

    select
        cast(procedure_id as string) as procedure_id,
        cast(joint as string) as joint,
        cast(pre_op_score as integer) as pre_op_score,
        cast(post_op_score as integer) as post_op_score,
        cast(post_op_score as integer) - cast(pre_op_score as integer) as score_gain,
        cast(pre_op_date as date) as pre_op_date,
        cast(post_op_date as date) as post_op_date,
        cast({{ dbt.date_trunc('month', 'post_op_date') }} as date) as post_op_month_date,
        cast(post_op_satisfaction as string) as post_op_satisfaction,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_proms

)

select * from final
