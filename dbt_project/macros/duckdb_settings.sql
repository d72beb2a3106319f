{#
    The DuckDB settings dbt's own connection runs with, as one JSON line:
    `dbt run-operation duckdb_settings`. The profile sets them from Settings.duckdb_config
    (nqs/settings.py); tests/test_duckdb_settings.py checks they arrive.
#}

{% macro duckdb_settings() %}
    {% set names = ["memory_limit", "threads", "temp_directory", "preserve_insertion_order"] %}
    {% set query %}
        select {% for name in names %}current_setting('{{ name }}')::varchar as {{ name }}{{ ", " if not loop.last }}{% endfor %}
    {% endset %}
    {% set row = run_query(query).rows[0] %}
    {% set settings = {} %}
    {% for name in names %}{% do settings.update({name: row[name]}) %}{% endfor %}
    {{ print("duckdb_settings " ~ tojson(settings)) }}
{% endmacro %}
