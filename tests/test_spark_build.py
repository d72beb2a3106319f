"""The same dbt project on Spark gives the same numbers as on DuckDB.

The sample build's landed Parquet is built again with `dbt build --target spark` (every model, seed
and dbt test, on a local PySpark: nqs/spark_session.py), and the marts it writes (Parquet under
Spark's warehouse folder) are compared with the DuckDB build's cell by cell: every column that is
not a double exactly, doubles (values, intervals, standard errors) to 1e-9 relative.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from nqs.dbt_manifest import load_manifest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(
        shutil.which("java") is None,
        reason="no Java runtime: `make java` installs Debian's openjdk-17-jre-headless (as root)",
    ),
]

RELATIVE_TOLERANCE = 1e-9


def _metric_marts() -> list[str]:
    """The tables dbt builds in the metrics folder of the marts, from the manifest."""
    return sorted(
        node["alias"] or node["name"]
        for node in load_manifest()["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1:3] == ["marts", "metrics"]
    )


@pytest.fixture(scope="module")
def spark_build(sample_build, tmp_path_factory) -> Path:
    """Spark's warehouse folder after `dbt build --target spark` on the sample build's landed files."""
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    spark_dir = tmp_path_factory.mktemp("spark")
    env = {
        **os.environ,
        "NQS_DATA_DIR": str(sample_build.data_dir),
        "NQS_LANDED_DIR": str(sample_build.data_dir / "landed"),
        "NQS_SPARK_DIR": str(spark_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "nqs.spark_session", "build", "--target", "spark"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    words = ("ERROR", "FAIL", "Done.")
    summary = [line for line in done.stdout.splitlines() if any(word in line for word in words)]
    assert done.returncode == 0, "\n".join(summary[-40:]) or done.stderr[-3000:]
    return spark_dir / "warehouse"


def test_spark_builds_every_model_and_passes_every_test(spark_build):
    """dbt exits 0 only when every model, seed and test of the project passed on Spark."""
    assert (spark_build / "marts.db" / "metric_values").is_dir()


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


@pytest.mark.parametrize("table", _metric_marts())
def test_spark_metric_marts_equal_duckdb(spark_build, sample_build, table):
    """Same rows, same columns; every cell equal (counts and text exactly, doubles to 1e-9 relative)."""
    with duckdb.connect() as db:
        db.execute(f"attach '{sample_build.build_db}' as duck (read_only)")
        db.execute(f"create view duck_rows as select * from duck.marts.{table}")
        files = spark_build / "marts.db" / table / "*.parquet"
        db.execute(f"create view spark_rows as select * from read_parquet('{files}')")
        columns = db.execute("select column_name, column_type from (describe duck_rows)").fetchall()
        spark_columns = [row[0] for row in db.execute("describe spark_rows").fetchall()]
        assert [name for name, _ in columns] == spark_columns
        doubles = [name for name, dtype in columns if dtype in ("DOUBLE", "FLOAT")]
        exact = [name for name, _ in columns if name not in doubles]
        rows = [db.execute(f"select count(*) from {side}_rows").fetchone()[0] for side in ("duck", "spark")]
        assert rows[0] == rows[1] and rows[0] > 0, f"{table}: {rows[0]} rows on DuckDB, {rows[1]} on Spark"
        differing = _differing_cells(db, exact, doubles)
        assert not differing, f"{table}: cells differing between DuckDB and Spark, per column: {differing}"
