"""dbt source definitions written from the contract registry, so dbt reads exactly what landing writes.

One `_<source>__sources.yml` per source folder, under `dbt_project/models/staging/<source>/`: every
landed column of every contract version of each table, with its type and the description the
contract gives it, then the lineage columns landing adds. Files landed under different versions
differ in columns, so each table is read with `union_by_name` (a column a file lacks reads as null).
Landing writes each monthly table's files in Hive partitions by month (`month=YYYY-MM/`), read with
`hive_partitioning`: the partition is the column `month`, and a filter on it reads only that month's
files (the staging models pass it on as `landed_month`, which an incremental build's tests filter
on: macros/tests_on_changed_months.sql). A source whose tables are not monthly (organisations: one
flat file) is read without partitions.
`external_location` is how DuckDB reads a source (dbt-duckdb's); `landed_path` is the same folder for
any other engine: on Spark, a view over its Parquet (dbt_project/macros/engines.sql), files merged by
column name and the Hive partition `month` read as a column, as DuckDB reads them.
`nqs regenerate` writes the files; a test fails when the committed ones differ.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from contracts.sources import SourceTable, source_description, sources, tables_for_source
from contracts.versions import column_dtype
from nqs.codegen import header
from nqs.landing.paths import is_monthly

HEADER = f"# {header('the contract registry (contracts/sources.py)')}\n"
#: Where landing's parquet lies, as dbt resolves it (NQS_LANDED_DIR in a build).
LANDED_LOCATION = "{{ env_var('NQS_LANDED_DIR', '../data/landed') }}"
#: The lineage columns landing adds to every accepted row, documented once in _landing__docs.md.
LINEAGE_COLUMNS = {
    "_source_file": ("string", "{{ doc('landed_source_file') }}"),
    "_row_number": ("bigint", "{{ doc('landed_row_number') }}"),
    "_contract_version": ("string", "{{ doc('landed_contract_version') }}"),
}
#: The Hive partition column of a monthly table's landed files, added from the path.
PARTITION_COLUMNS = {"month": ("string", "{{ doc('landed_month') }}")}
_SQL_TYPES = {
    "String": "string",
    "Boolean": "boolean",
    "Date": "date",
    "Datetime": "timestamp",
    "Int64": "bigint",
    "Int32": "integer",
    "Float64": "double",
}


def sql_type(dtype: pl.DataType) -> str:
    """The DuckDB type landing's parquet column has for a contract type."""
    return _SQL_TYPES[dtype.__class__.__name__]


def _quoted(text: str) -> str:
    """A YAML scalar (JSON strings are valid double-quoted YAML)."""
    return json.dumps(" ".join(text.split()), ensure_ascii=False)


def landed_column_docs(table: SourceTable) -> list[tuple[str, str, str]]:
    """(landed column, sql type, description) for every column any version of `table` lands."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for entry in reversed(table.versions):
        for column in entry.columns:
            if column in seen:
                continue
            seen.add(column)
            description = entry.model.to_schema().columns[column].description or ""
            dtype = sql_type(column_dtype(entry.model, column))
            delivered = [v.version for v in table.versions if column in v.columns]
            if len(delivered) < len(table.versions):
                description += (
                    f" Delivered under {', '.join(delivered)} only; null in rows landed under other versions."
                )
            if column in table.identifier_columns:
                description = (
                    f"Keyed hash (hex HMAC-SHA256) of `{column}`, made at landing; the raw value never "
                    f"reaches the warehouse. {column}: {description}"
                )
                column, dtype = f"{column}_hash", "string"
            rows.append((column, dtype, description))
    return rows


def _table_yaml(table: SourceTable) -> list[str]:
    versions = ", ".join(
        f"{v.version} ({v.model.__name__}" + (f", from {v.valid_from.isoformat()})" if v.valid_from else ")")
        for v in table.versions
    )
    description = f"{table.description} Accepted rows only; contract versions: {versions}."
    lines = [
        f"      - name: {table.table}",
        f"        description: {_quoted(description)}",
        "        config:",
        "          meta:",
        f"            contract: {table.model.__name__}",
        f"            contract_versions: [{', '.join(v.version for v in table.versions)}]",
        f"            natural_key: [{', '.join(table.key_columns)}]",
        "        columns:",
    ]
    for column, dtype, description in landed_column_docs(table):
        lines += [
            f"          - name: {column}",
            f"            data_type: {dtype}",
            f"            description: {_quoted(description)}",
        ]
    partitions = PARTITION_COLUMNS if is_monthly(table) else {}
    for column, (dtype, description) in (LINEAGE_COLUMNS | partitions).items():
        lines += [
            f"          - name: {column}",
            f"            data_type: {dtype}",
            f'            description: "{description}"',
        ]
    return lines


def sources_yaml(source: str) -> str:
    """The whole `_<source>__sources.yml` of one source folder."""
    partitioned = all(is_monthly(table) for table in tables_for_source(source))
    hive = "true, hive_types_autocast = false" if partitioned else "false"
    location = (
        f"read_parquet('{LANDED_LOCATION}/{source}/{{name}}/**/*.parquet', "
        f"union_by_name = true, hive_partitioning = {hive})"
    )
    lines = [
        "sources:",
        f"  - name: {source}",
        f"    description: {_quoted(source_description(source))}",
        "    config:",
        "      meta:",
        f"        external_location: {_quoted(location)}",
        f"        landed_path: {_quoted(f'{LANDED_LOCATION}/{source}/{{name}}')}",
        "    tables:",
    ]
    for table in tables_for_source(source):
        lines += _table_yaml(table)
    return HEADER + "\n".join(lines) + "\n"


def sources_path(dbt_project_dir: Path, source: str) -> Path:
    return dbt_project_dir / "models" / "staging" / source / f"_{source}__sources.yml"


def generated_sources(dbt_project_dir: Path) -> dict[Path, str]:
    """Every generated source file: path -> text."""
    return {sources_path(dbt_project_dir, source): sources_yaml(source) for source in sources()}
