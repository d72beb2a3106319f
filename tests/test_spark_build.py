"""The same build on Spark gives the same numbers as on DuckDB.

`spark_build` (tests/conftest.py) builds the sample build's sources from nothing with
`NQS_ENGINE=spark nqs build`: the same Dagster build, landing the same Parquet, every dbt step on the
`spark` target (every model, seed and dbt test on a local PySpark: nqs/spark_session.py), and the
Python steps (metrics, statistics, publishing) reading Spark's tables through Arrow (nqs.engines).
Its tables are compared with the DuckDB build's cell by cell: every column that is not a double
exactly, doubles (values, intervals, standard errors) to 1e-9 relative. The metric marts are read
from Spark's own files; the published tables from the release the Spark build published.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from nqs.dbt_manifest import load_manifest
from nqs.releases import RELEASE_TABLE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(
        shutil.which("java") is None,
        reason="no Java runtime: `make java` installs Debian's openjdk-17-jre-headless (as root)",
    ),
]

RELATIVE_TOLERANCE = 1e-9
#: Columns saying when a build ran, not what it computed: each build has its own.
BUILD_TIMES = {"data_quality_results": ["loaded_at"]}


def _metric_marts() -> list[str]:
    """The tables dbt builds in the metrics folder of the marts, from the manifest."""
    return sorted(
        node["alias"] or node["name"]
        for node in load_manifest()["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1:3] == ["marts", "metrics"]
    )


def _published_tables(warehouse: Path) -> list[str]:
    """Every table of a release's schema `published` but the release's own record (its id and time)."""
    with duckdb.connect(str(warehouse), read_only=True) as db:
        rows = db.execute(
            "select table_name from duckdb_tables() where schema_name = 'published' order by 1"
        ).fetchall()
    return [name for (name,) in rows if name != RELEASE_TABLE]


@pytest.fixture(scope="module")
def spark_warehouse(spark_build) -> Path:
    """Spark's warehouse folder (`<schema>.db/<table>/`, Parquet) after the Spark build succeeded."""
    assert spark_build.exit_code == 0, spark_build.output[-4000:]
    return spark_build.data_dir / "spark" / "warehouse"


def test_the_spark_build_runs_every_dbt_step_on_spark_and_publishes(spark_build, spark_warehouse):
    """`nqs build` exits 0 only when every model, seed and dbt test passed; its tables are Spark's."""
    assert (spark_warehouse / "marts.db" / "metric_values").is_dir()
    assert not (spark_build.data_dir / "build" / "warehouse.duckdb").exists()
    log = (spark_build.data_dir / "build" / "last_run.log").read_text()
    assert "nqs-dbt-spark build" in log and "--target spark" in log
    assert spark_build.warehouse.is_file()


def _differing_cells(db: duckdb.DuckDBPyConnection, exact: list[str], doubles: list[str]) -> dict[str, int]:
    """Per column, the cells of `duck_rows` and `spark_rows` that differ, rows paired in one order."""
    order = ", ".join(f'"{name}"' for name in exact + doubles)
    checks = [f'd."{name}" is not distinct from s."{name}"' for name in exact] + [
        f'(d."{name}" is null and s."{name}" is null) or abs(d."{name}" - s."{name}") '
        f'<= {RELATIVE_TOLERANCE} * greatest(abs(d."{name}"), abs(s."{name}"))'
        for name in doubles
    ]
    counts = ", ".join(f"count(*) filter (where not coalesce({check}, false))" for check in checks)
    found = db.execute(
        f"""
        select {counts}
        from (select *, row_number() over (order by {order}) as row_index from duck_rows) as d
        inner join (select *, row_number() over (order by {order}) as row_index from spark_rows) as s
            using (row_index)
        """
    ).fetchone()
    return {name: count for name, count in zip(exact + doubles, found, strict=True) if count}


def _assert_equal(db: duckdb.DuckDBPyConnection, table: str) -> None:
    """`duck_rows` and `spark_rows`: same columns, same rows, every cell equal."""
    columns = db.execute("select column_name, column_type from (describe duck_rows)").fetchall()
    spark_columns = [row[0] for row in db.execute("describe spark_rows").fetchall()]
    assert [name for name, _ in columns] == spark_columns
    doubles = [name for name, dtype in columns if dtype in ("DOUBLE", "FLOAT")]
    exact = [name for name, _ in columns if name not in doubles]
    rows = [db.execute(f"select count(*) from {side}_rows").fetchone()[0] for side in ("duck", "spark")]
    assert rows[0] == rows[1], f"{table}: {rows[0]} rows on DuckDB, {rows[1]} on Spark"
    differing = _differing_cells(db, exact, doubles)
    assert not differing, f"{table}: cells differing between DuckDB and Spark, per column: {differing}"


@pytest.mark.parametrize("table", _metric_marts())
def test_spark_metric_marts_equal_duckdb(spark_warehouse, sample_build, table):
    """Same rows, same columns; every cell equal (counts and text exactly, doubles to 1e-9 relative)."""
    with duckdb.connect() as db:
        db.execute(f"attach '{sample_build.build_db}' as duck (read_only)")
        db.execute(f"create view duck_rows as select * from duck.marts.{table}")
        files = spark_warehouse / "marts.db" / table / "*.parquet"
        db.execute(f"create view spark_rows as select * from read_parquet('{files}')")
        assert db.execute("select count(*) from duck_rows").fetchone()[0] > 0
        _assert_equal(db, table)


def test_spark_release_equals_duckdb_release(spark_build, sample_build):
    """Every table of the release BI users read (but the release's own record), from each build: the
    same tables, every cell equal (but the time each build landed its files), the statistics computed
    from Spark's tables (read through Arrow) included."""
    assert spark_build.exit_code == 0, spark_build.output[-4000:]
    tables = _published_tables(sample_build.warehouse)
    assert _published_tables(spark_build.warehouse) == tables
    with duckdb.connect() as db:
        db.execute(f"attach '{sample_build.warehouse}' as duck (read_only)")
        db.execute(f"attach '{spark_build.warehouse}' as spark (read_only)")
        failures = {}
        for table in tables:
            own = ", ".join(BUILD_TIMES.get(table, []))
            columns = f"* exclude ({own})" if own else "*"
            db.execute(f"create or replace view duck_rows as select {columns} from duck.published.{table}")
            db.execute(f"create or replace view spark_rows as select {columns} from spark.published.{table}")
            try:
                _assert_equal(db, table)
            except AssertionError as failure:
                failures[table] = str(failure)
    assert not failures, failures
