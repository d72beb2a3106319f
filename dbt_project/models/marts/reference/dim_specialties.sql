{#
    The incident specialties and the treatment functions of the referral to treatment returns in
    one dimension: each treatment function grouped under the incident specialty it falls under, so
    waits and incidents can be read side by side. Incident specialties come first in sort order.
#}
with

code_lists as (

    select * from {{ ref('code_lists') }}

),

specialty_codes as (

    select
        code,
        label,
        sort_order,
        code_list,
        case when code_list = 'specialty' then code else parent_code end as specialty_group,
        case when code_list = 'specialty' then 1 else 2 end as list_order
    from code_lists
    where code_list in ('specialty', 'treatment_function')

),

final as (

    select
        cast(code as string) as specialty,
        cast(label as string) as specialty_label,
        cast(row_number() over (order by list_order, sort_order) as integer) as sort_order,
        cast(code_list as string) as code_list,
        cast(specialty_group as string) as specialty_group
    from specialty_codes

)

select * from final
