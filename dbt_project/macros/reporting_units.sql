{% macro reporting_unit_levels() %}
    {#- The levels metric rows are recorded at (var reporting_unit_levels: trusts, and local
        authorities for adult social care) as a SQL list: `('trust', 'local_authority')`. -#}
    ('{{ var("reporting_unit_levels") | join("', '") }}')
{%- endmacro %}
