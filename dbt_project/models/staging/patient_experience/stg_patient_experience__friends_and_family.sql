with

source_friends_and_family as (

    select * from {{ source('patient_experience', 'friends_and_family') }}

),

final as (

    select
        cast(trust_code as string) as trust_code,
        cast({{ dbt.date_trunc('month', 'reporting_month') }} as date) as reporting_month_date,
        cast(setting as string) as setting,
        cast(eligible as bigint) as eligible,
        cast(responses as bigint) as responses,
        cast(very_good as bigint) as very_good,
        cast(good as bigint) as good,
        cast(neither_good_nor_poor as bigint) as neither_good_nor_poor,
        cast(poor as bigint) as poor,
        cast(very_poor as bigint) as very_poor,
        cast(dont_know as bigint) as dont_know,
        cast(month as string) as landed_month,
        cast(_source_file as string) as source_file,
        cast(_row_number as bigint) as source_row_number,
        cast(_contract_version as string) as contract_version
    from source_friends_and_family

)

select * from final
