{#
    The weekly bands of a waiting-times source table, read from its dbt source: the source YAML is
    generated from the contract (contracts/referral_to_treatment.py), so the band layout is declared
    once, there. A band column is named gt_<from>_to_<to>_weeks (waited more than <from> and up to
    <to> weeks) or gt_<from>_weeks (the open band). A unit test, which has no graph, gives the bands
    it uses as a macro override (`overrides: macros: week_bands: [[column, from, to], ...]`).
#}

{% macro week_bands(source_name, table_name) %}
    {#- [(column, weeks from, weeks to or none)] in the source's column order; empty while parsing. -#}
    {%- set bands = [] -%}
    {%- if execute -%}
        {%- set unique_id = 'source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name -%}
        {%- set node = (graph.get('sources') or {}).get(unique_id) -%}
        {%- if node is none -%}
            {{ exceptions.raise_compiler_error("no dbt source " ~ unique_id ~ " in the graph to read its bands from") }}
        {%- endif -%}
        {%- for column in node.columns if modules.re.match('^gt_[0-9]+(_to_[0-9]+)?_weeks$', column) -%}
            {%- set parts = column.split('_') -%}
            {%- do bands.append((column, parts[1] | int, parts[3] | int if parts | length == 5 else none)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(bands) }}
{% endmacro %}
