{#
    What differs between the engines the project builds on: DuckDB (the embedded default, target
    `dev`) and Spark (target `spark`, docs/spark.md). Everything else is the same SQL on both.
#}

{#
    The landed sources as relations the engine can name. DuckDB reads each source's files where
    it is named, through dbt-duckdb's `external_location` (a read_parquet of the landed files);
    on Spark an on-run-start hook makes each source an external table over its landed Parquet
    (meta `landed_path`: a folder, whose Hive partitions `month=...` are read as a column; with
    meta `landed_recursive`, every Parquet file below it, without partition columns), under a
    schema named after the source, as dbt-spark names a source relation. Files landed under different contract versions are merged by column name (a column a
    file lacks reads as null), as DuckDB's union_by_name does. The table keeps the schema, so a
    query lists the files but reads no footers; it is made again at every run, so a new contract
    version's columns appear.
#}
{% macro create_landed_sources() %}
    {{ return(adapter.dispatch('create_landed_sources', 'nqs')()) }}
{% endmacro %}

{% macro default__create_landed_sources() %}
    {{ return('') }}
{% endmacro %}

{% macro spark__create_landed_sources() %}
    {%- if execute -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- set path = (node.meta or node.config.meta or {}).get('landed_path') -%}
            {%- if path -%}
                {%- set path = path | replace('{name}', node.name) -%}
                {%- set relation = node.schema ~ '.' ~ node.identifier -%}
                {%- do run_query('create schema if not exists ' ~ node.schema) -%}
                {%- do run_query('drop table if exists ' ~ relation) -%}
                {%- set recursive = (node.meta or node.config.meta or {}).get('landed_recursive', false) -%}
                {%- do run_query(
                    'create table ' ~ relation ~ " using parquet options (path '" ~ path
                    ~ "', mergeSchema 'true'" ~ (", recursiveFileLookup 'true'" if recursive else '') ~ ')'
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{#
    Whether incremental models are built incrementally. On DuckDB they are (delete+insert of the
    months and periods recomputed: macros/incremental_months.sql, macros/incremental_rollups.sql).
    Spark's adapter has no delete+insert, and deleting rows needs a table format such as Delta: on
    Spark every incremental model is rebuilt whole, as a table (the incremental materialization
    below), and the bookkeeping of recomputed periods is skipped.
#}
{% macro builds_incrementally() %}
    {{ return(adapter.dispatch('builds_incrementally', 'nqs')()) }}
{% endmacro %}

{% macro default__builds_incrementally() %}
    {{ return(true) }}
{% endmacro %}

{% macro spark__builds_incrementally() %}
    {{ return(false) }}
{% endmacro %}

{% materialization incremental, adapter='spark' %}
    {{ return(materialization_table_spark()) }}
{% endmaterialization %}


{#- dbt's listagg on Spark ignores its order (with a warning); Spark 4 orders it within group. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with a limit is not used on Spark") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}


{#
    Seeds on Spark's session method: dbt-spark passes seed values as parameters, which its session
    cursor pastes into the SQL unescaped (a quote in a definition breaks the statement, an empty
    cell becomes the text 'None'). Here each value is a literal: null, a number as written, or
    quoted text with its quotes and backslashes escaped.
#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_seed_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string) | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}


{#- Whether text contains a match of a regular expression (anchor it with ^ and $ for a whole match). -#}
{% macro matches_pattern(value, pattern) %}
    {{ return(adapter.dispatch('matches_pattern', 'nqs')(value, pattern)) }}
{% endmacro %}

{% macro default__matches_pattern(value, pattern) -%}
    regexp_matches({{ value }}, {{ pattern }})
{%- endmacro %}

{% macro spark__matches_pattern(value, pattern) -%}
    regexp_like({{ value }}, {{ pattern }})
{%- endmacro %}
