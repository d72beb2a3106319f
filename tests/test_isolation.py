"""A source refused at landing stops only itself: unrelated sources still build, nothing is published.

One real rebuild of the session's good sample after a month of incidents loses a required column:
the build fails with a one-line message; the incidents models and everything built on them are
skipped, while every other source's models, the quarantine and the data-quality results are built.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from conftest import Build, run_nqs
from test_coverage import assert_sql_and_python_agree

from contracts.sources import SOURCE_TABLES, tables_for_source
from nqs.catalogue import load_strategy

pytestmark = pytest.mark.slow

REFUSED_SOURCE = "incidents"
DROPPED_COLUMN = "degree_of_harm"


@dataclass
class RefusedBuild:
    data_dir: Path
    exit_code: int
    stdout: str
    broken_file: Path
    published_before: str
    materialized: set[dg.AssetKey]

    def build_db(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.data_dir / "build" / "warehouse.duckdb"), read_only=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _materialized_in_last_run(dagster_home: Path) -> set[dg.AssetKey]:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        return {r.dagster_event.asset_key for r in records}


@pytest.fixture(scope="module")
def refused_build(sample_build: Build, tmp_path_factory: pytest.TempPathFactory) -> RefusedBuild:
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    data_dir = tmp_path_factory.mktemp("refused") / "data"
    shutil.copytree(sample_build.data_dir, data_dir)
    # Drop every staging view, so the ones present after the rebuild are the ones it rebuilt.
    with duckdb.connect(str(data_dir / "build" / "warehouse.duckdb")) as db:
        for (view,) in db.execute(
            "select view_name from duckdb_views() where schema_name = 'staging' and not internal"
        ).fetchall():
            db.execute(f'drop view staging."{view}"')
    published_before = _sha256(data_dir / "warehouse.duckdb")
    broken = sorted((data_dir / "sources" / REFUSED_SOURCE).glob("events_*.csv"))[3]
    pl.read_csv(broken, infer_schema=False).drop(DROPPED_COLUMN).write_csv(broken)

    done = run_nqs("build", data_dir=data_dir)

    return RefusedBuild(
        data_dir=data_dir,
        exit_code=done.returncode,
        stdout=done.stdout + done.stderr,
        broken_file=broken,
        published_before=published_before,
        materialized=_materialized_in_last_run(data_dir / "dagster_home"),
    )


def test_the_build_fails_with_a_one_line_message_naming_source_file_and_column(refused_build: RefusedBuild):
    assert refused_build.exit_code != 0
    failures = [line for line in refused_build.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failures) == 1, refused_build.stdout[-3000:]
    line = failures[0]
    assert REFUSED_SOURCE in line and refused_build.broken_file.name in line and DROPPED_COLUMN in line
    assert "Traceback" not in refused_build.stdout


def test_the_previous_warehouse_stays_published(refused_build: RefusedBuild):
    assert _sha256(refused_build.data_dir / "warehouse.duckdb") == refused_build.published_before
    assert "previously published warehouse was kept" in refused_build.stdout


def test_other_sources_staging_models_are_rebuilt_and_the_refused_ones_are_not(refused_build: RefusedBuild):
    with refused_build.build_db() as db:
        views = {
            v
            for (v,) in db.execute(
                "select view_name from duckdb_views() where schema_name = 'staging'"
            ).fetchall()
        }
    for table in SOURCE_TABLES:
        model = f"stg_{table.source}__{table.table}"
        if table.source == REFUSED_SOURCE:
            assert model not in views, f"{model} was rebuilt although its source was refused"
        else:
            assert model in views, f"{model} was not rebuilt"


def test_data_quality_results_record_the_critical_failure(refused_build: RefusedBuild):
    relative = f"{REFUSED_SOURCE}/{refused_build.broken_file.name}"
    with refused_build.build_db() as db:
        rows = db.execute(
            """
            select check_name, column_name, severity, status, source_family
            from marts.data_quality_results
            where source_file = ?
            """,
            [relative],
        ).fetchall()
        other_sources = db.execute(
            "select count(distinct source) from marts.data_quality_results where source != ?",
            [REFUSED_SOURCE],
        ).fetchone()[0]
    assert rows == [("critical:missing_column", DROPPED_COLUMN, "critical", "failed", "incident")]
    assert other_sources == len({t.source for t in SOURCE_TABLES}) - 1


def test_the_event_log_shows_what_was_built_and_what_was_skipped(refused_build: RefusedBuild):
    materialized = refused_build.materialized
    refused = tables_for_source(REFUSED_SOURCE)
    strategy = load_strategy()
    skipped = [
        *(dg.AssetKey(["landed", t.source, t.table]) for t in refused),
        *(dg.AssetKey(["staging", f"stg_{t.source}__{t.table}"]) for t in refused),
        dg.AssetKey(["marts", "metric_values"]),
        *(dg.AssetKey(["metrics", m.metric_id]) for m in strategy.metrics),
        *(dg.AssetKey(["priorities", p.priority_id]) for p in strategy.priorities),
        dg.AssetKey(["published", "warehouse"]),
    ]
    assert not [k for k in skipped if k in materialized]
    built = [
        *(dg.AssetKey(["landed", "quarantine", t.source, t.table]) for t in SOURCE_TABLES),
        *(dg.AssetKey(["landed", "check_results", t.source, t.table]) for t in SOURCE_TABLES),
        *(dg.AssetKey(["landed", t.source, t.table]) for t in SOURCE_TABLES if t.source != REFUSED_SOURCE),
        *(
            dg.AssetKey(["staging", f"stg_{t.source}__{t.table}"])
            for t in SOURCE_TABLES
            if t.source != REFUSED_SOURCE
        ),
        dg.AssetKey(["marts", "data_quality_results"]),
        dg.AssetKey(["marts", "quarantined_rows"]),
    ]
    assert not [k for k in built if k not in materialized]


def test_dbt_and_python_name_the_same_priorities_at_risk(refused_build: RefusedBuild):
    """priority_coverage, nqs.coverage and the contract_health checks agree on the refused source."""
    assert_sql_and_python_agree(refused_build.data_dir)
