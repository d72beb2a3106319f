"""BI clients as they connect: SQLAlchemy with duckdb-engine (how Superset and Metabase reach DuckDB).

On the session's sample build, through a read-only engine on the current release: the inspector lists
the published tables and their columns (what a BI tool shows when adding a dataset), counts come back
as integers, and the typical dashboard queries give the same answers as the Parquet export read with
DuckDB (what Power BI and the open-data publication read).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import Build
from sqlalchemy import create_engine, inspect, text

from nqs.releases import PARTITIONED_TABLES

METRIC = "incident_reporting_rate"
#: Dashboard queries; `{name}` stands for a published table, read from the release or from its export.
DASHBOARD_QUERIES = {
    "a metric's latest complete month for every trust, with intervals": """
        select org_code, period_start, numerator, denominator, value, ci_lower, ci_upper,
            value_display, is_suppressed
        from {metric_values}
        where metric_id = :metric and org_level = 'trust' and org_view = 'current'
            and period_type = 'month' and is_latest_complete_period
        order by org_code, period_start
    """,
    "priority coverage of the active strategy": """
        select priority_id, priority_title, coverage_status, metric_count, latest_period_date
        from {priority_coverage}
        where is_active_strategy
        order by priority_id
    """,
    "active alerts": """
        select alert_id, metric_id, org_code, kind, severity, first_raised, last_seen, value, message
        from {alerts}
        where status = 'active'
        order by alert_id
    """,
}


@pytest.fixture(scope="module")
def release(sample_build: Build) -> Path:
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    return sample_build.warehouse.parent.resolve()


def _export(release: Path, table: str) -> str:
    parquet = release / "exports" / "parquet"
    if table in PARTITIONED_TABLES:
        return f"read_parquet('{parquet / table}/**/*.parquet', hive_partitioning = true)"
    return f"read_parquet('{parquet / f'{table}.parquet'}')"


def _tables(sql: str) -> list[str]:
    return [name for name in ("metric_values", "priority_coverage", "alerts") if f"{{{name}}}" in sql]


def test_the_inspector_lists_every_published_table_and_its_columns(release: Path):
    engine = create_engine(f"duckdb:///{release}/warehouse.duckdb", connect_args={"read_only": True})
    try:
        inspector = inspect(engine)
        tables = inspector.get_table_names(schema="published")
        columns = {t: {c["name"]: c for c in inspector.get_columns(t, schema="published")} for t in tables}
        assert inspector.get_view_names(schema="published") == []
    finally:
        engine.dispose()
    with duckdb.connect(str(release / "warehouse.duckdb"), read_only=True) as db:
        expected = db.execute(
            "select table_name, count(*) from duckdb_columns() where schema_name = 'published' group by 1"
        ).fetchall()
    assert {t: len(c) for t, c in columns.items()} == dict(expected)
    assert {"metric_values", "priority_coverage", "alerts", "release", "release_sources"} <= set(tables)
    for name in ("numerator", "denominator"):
        assert columns["metric_values"][name]["type"].python_type is int, name  # shown as 12, not 12.0


@pytest.mark.parametrize("question", DASHBOARD_QUERIES)
def test_dashboard_queries_answer_as_the_parquet_export(release: Path, question: str):
    sql = DASHBOARD_QUERIES[question]
    names = _tables(sql)
    engine = create_engine(f"duckdb:///{release}/warehouse.duckdb", connect_args={"read_only": True})
    try:
        with engine.connect() as connection:
            (release_id,) = connection.execute(text("select release_id from published.release")).one()
            from_release = connection.execute(
                text(sql.format(**{n: f"published.{n}" for n in names})), {"metric": METRIC}
            ).all()
    finally:
        engine.dispose()
    assert release_id == release.name
    with duckdb.connect() as db:
        exported = sql.format(**{n: _export(release, n) for n in names})
        parameters = {"metric": METRIC} if ":metric" in sql else {}
        from_export = db.execute(exported.replace(":metric", "$metric"), parameters).fetchall()
    assert from_release, question  # the sample has an answer to every question
    assert [tuple(row) for row in from_release] == from_export


# ---- the README's examples, as written ------------------------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_examples() -> list[tuple[str, list[str]]]:
    """(name, argv) of every Python block and every `.venv/bin/python -c` command of the README."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    commands = [line for line in re.findall(r"^\.venv/bin/python -c .*$", text, flags=re.MULTILINE)]
    return [(f"python block {i}", [sys.executable, "-c", b]) for i, b in enumerate(blocks, 1)] + [
        (command, ["bash", "-c", command]) for command in commands
    ]


def test_the_readme_has_analyst_examples():
    names = [name for name, _ in _readme_examples()]
    assert len(names) >= 4 and any("published.release" in n for n in names), names


def test_the_readme_analyst_examples_run_as_written(sample_build: Build, tmp_path: Path):
    """Each example runs from a folder whose `data/` is the sample build's and `.venv` the project's."""
    (tmp_path / "data").symlink_to(sample_build.data_dir)
    (tmp_path / ".venv").symlink_to(README.parent / ".venv")
    for name, argv in _readme_examples():
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.strip(), f"{name}:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, name


def test_the_readme_superset_uri_connects_read_only(sample_build: Build):
    (uri,) = set(re.findall(r"`(duckdb:////srv/nqs/data/[^`]*)`", README.read_text(encoding="utf-8")))
    engine = create_engine(uri.replace("/srv/nqs/data", str(sample_build.data_dir)))
    try:
        with engine.connect() as connection:
            (release_id,) = connection.execute(text("select release_id from published.release")).one()
            with pytest.raises(Exception, match="read-only"):
                connection.execute(text("create table published.scratch (x integer)"))
    finally:
        engine.dispose()
    assert release_id == sample_build.warehouse.parent.resolve().name
