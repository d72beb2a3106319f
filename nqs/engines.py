"""The build's tables as the Python steps read and write them, on either engine, through Arrow.

dbt builds into DuckDB (the embedded default, `NQS_ENGINE=duckdb`) or into Spark (`NQS_ENGINE=spark`,
docs/spark.md). The steps after dbt (the metric and priority assets, the statistics, the checks,
publishing) never open an engine's files: `open_build(settings)` gives a `BuildTables`, which answers
a query with an Arrow table (or a stream of Arrow batches, for tables copied whole) and writes Arrow
tables back with their comments. The queries are the SQL both engines read alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from nqs.settings import DUCKDB, SPARK, Settings

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Comments:
    """A table's description and its columns' descriptions, written with the table."""

    table: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)


def duckdb_literal(text: str) -> str:
    """A string literal of DuckDB's SQL (a quote doubled)."""
    return "'" + text.replace("'", "''") + "'"


def spark_literal(text: str) -> str:
    """A string literal of Spark's SQL (quotes and backslashes escaped with a backslash)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class BuildTables(ABC):
    """The tables dbt built, read and written through Arrow."""

    engine: str

    @abstractmethod
    def arrow(self, sql: str) -> pa.Table:
        """The rows of a query, whole."""

    def batches(self, sql: str) -> pa.RecordBatchReader:
        """The rows of a query as a stream of batches (a table copied whole is never held at once)."""
        return self.arrow(sql).to_reader()

    def rows(self, sql: str) -> list[tuple]:
        """The rows of a small query as Python tuples."""
        table = self.arrow(sql)
        return (
            list(zip(*(column.to_pylist() for column in table.columns), strict=True))
            if table.num_columns
            else []
        )

    @abstractmethod
    def tables(self, schema: str) -> list[str]:
        """Tables and views of `schema`, sorted."""

    @abstractmethod
    def comments(self, schema: str) -> list[tuple[str, str | None, str]]:
        """(table, column or None for the table, text) of every comment in `schema`."""

    @abstractmethod
    def replace(self, schema: str, tables: Mapping[str, pa.Table], comments: Mapping[str, Comments]) -> None:
        """Create or replace each table of `schema` with its comments."""


class DuckDBTables(BuildTables):
    """The DuckDB build file, through one connection with the build's settings."""

    engine = DUCKDB

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._db = connection

    def arrow(self, sql: str) -> pa.Table:
        return self._db.sql(sql).to_arrow_table()

    def batches(self, sql: str) -> pa.RecordBatchReader:
        # a cursor of its own: a stream read in part leaves the connection busy until it is closed
        return self._db.cursor().sql(sql).to_arrow_reader()

    def tables(self, schema: str) -> list[str]:
        rows = self._db.execute(
            """
            select table_name from duckdb_tables()
            where database_name = current_database() and schema_name = ?
            union
            select view_name from duckdb_views()
            where database_name = current_database() and schema_name = ? and not internal
            order by 1
            """,
            [schema, schema],
        ).fetchall()
        return [name for (name,) in rows]

    def comments(self, schema: str) -> list[tuple[str, str | None, str]]:
        return self._db.execute(
            """
            select table_name, null, comment from duckdb_tables()
            where database_name = current_database() and schema_name = ? and comment is not null
            union all
            select table_name, column_name, comment from duckdb_columns()
            where database_name = current_database() and schema_name = ? and comment is not null
            """,
            [schema, schema],
        ).fetchall()

    def replace(self, schema: str, tables: Mapping[str, pa.Table], comments: Mapping[str, Comments]) -> None:
        """In one transaction: every table is replaced, or none."""
        self._db.execute("begin transaction")
        try:
            for name, data in tables.items():
                self._db.register("_frame", data)
                self._db.execute(f"create or replace table {schema}.{name} as select * from _frame")  # noqa: S608
                self._db.unregister("_frame")
                _comment(self._db.execute, schema, name, comments.get(name))
            self._db.execute("commit")
        except Exception:
            self._db.execute("rollback")
            raise


class SparkTables(BuildTables):
    """Spark's catalogue of the build, through a Spark session (nqs.spark_session)."""

    engine = SPARK

    def __init__(self, session: Any) -> None:
        self._spark = session

    def arrow(self, sql: str) -> pa.Table:
        return self._spark.sql(sql).toArrow()

    def tables(self, schema: str) -> list[str]:
        return sorted(t.name for t in self._spark.catalog.listTables(schema) if not t.isTemporary)

    def comments(self, schema: str) -> list[tuple[str, str | None, str]]:
        found: list[tuple[str, str | None, str]] = []
        for table in self._spark.catalog.listTables(schema):
            if table.isTemporary:
                continue
            if table.description:
                found.append((table.name, None, table.description))
            found += [
                (table.name, c.name, c.description)
                for c in self._spark.catalog.listColumns(f"{schema}.{table.name}")
                if c.description
            ]
        return found

    def replace(self, schema: str, tables: Mapping[str, pa.Table], comments: Mapping[str, Comments]) -> None:
        """Table by table: Parquet tables of Spark's own catalogue have no transactions.

        A column's comment is written with the table, in its schema: the local metastore cannot alter
        a column to a comment longer than 256 characters, but keeps a table's schema, comments
        included, in Spark's own properties when the table is created."""
        self._spark.sql(f"create schema if not exists {schema}")
        for name, data in tables.items():
            frame = self._spark.createDataFrame(data)
            described = comments.get(name, Comments())
            for column, text in described.columns.items():
                frame = frame.withMetadata(column, {"comment": text})
            frame.write.mode("overwrite").format("parquet").saveAsTable(f"{schema}.{name}")
            if described.table:
                self._spark.sql(f"comment on table {schema}.{name} is {spark_literal(described.table)}")


def _comment(execute: Any, schema: str, table: str, comments: Comments | None) -> None:
    """Comments on a DuckDB table and its columns."""
    if comments is None:
        return
    if comments.table:
        execute(f"comment on table {schema}.{table} is {duckdb_literal(comments.table)}")
    for column, text in comments.columns.items():
        execute(f"comment on column {schema}.{table}.{column} is {duckdb_literal(text)}")


@contextmanager
def open_build(settings: Settings, *, write: bool = False) -> Iterator[BuildTables]:
    """The build's tables on the engine of NQS_ENGINE; read only unless `write`."""
    if settings.engine == SPARK:
        from nqs.spark_session import spark_session

        with spark_session(settings) as session:
            yield SparkTables(session)
        return
    with settings.connect(settings.build_db, read_only=not write) as db:
        yield DuckDBTables(db)
