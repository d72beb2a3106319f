{#
    Schemas are exactly the names the folders configure (staging, intermediate, marts, seeds),
    never prefixed with the target schema, so BI users and Dagster find the same names in every
    environment.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
