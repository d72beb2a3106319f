{#
    dbt tests of a model holding `landed_month` (the staging views of the monthly source tables) read
    only the months that changed. A test wraps the relation it tests in get_where_subquery (dbt's own
    hook for a test's `where` config); this project's version adds, in an incremental build that passes
    `changed_months`, a filter on `landed_month`: the Hive partition the rows were landed into, so DuckDB
    reads only those months' Parquet files. Every other month's rows were tested by the build that
    landed them and have not changed since; a full refresh, or a build without `changed_months`, tests
    every month. Without this, a monthly run would test all history again: at ten years of the
    workforce returns (170M rows) the staging tests alone took several minutes per run.
#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set months = changed_landed_months() -%}
    {%- if months is not none -%}
        {%- do filters.append("landed_month in ('" ~ months | join("', '") ~ "')") -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{% macro changed_landed_months() -%}
    {#- The changed months as 'YYYY-MM' when the test's model has a landed_month column and the build
        is incremental; none otherwise. -#}
    {%- if not execute or flags.FULL_REFRESH or changed_months() is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- if tested is none or 'landed_month' not in tested.columns -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set months = [] -%}
    {%- for month in changed_months() -%}
        {%- do months.append(month[:7]) -%}
    {%- endfor -%}
    {%- do return(months) -%}
{%- endmacro %}
