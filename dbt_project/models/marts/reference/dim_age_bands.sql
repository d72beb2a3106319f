with

code_lists as (

    select * from {{ ref('code_lists') }}

),

final as (

    select
        cast(code as string) as age_band,
        cast(label as string) as age_band_label,
        cast(sort_order as integer) as sort_order
    from code_lists
    where code_list = 'patient_age_band'

)

select * from final
