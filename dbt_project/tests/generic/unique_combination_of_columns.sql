{#
    Fails for every combination of the given columns that occurs more than once: the key test for
    models whose grain is several columns (no dbt packages are used, so this stands in for
    dbt_utils.unique_combination_of_columns).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

grouped as (

    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}

),

final as (

    select * from grouped
    where row_count > 1

)

select * from final

{% endtest %}
