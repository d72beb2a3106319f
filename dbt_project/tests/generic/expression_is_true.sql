{#
    Fails for every row where the SQL expression is not true (false or null): states an invariant of
    a model, such as `denominator >= 0`, next to the model.
#}
{% test expression_is_true(model, expression) %}

with

final as (

    select * from {{ model }}
    where not coalesce({{ expression }}, false)

)

select * from final

{% endtest %}
