"""A source refused at landing stops only itself: unrelated sources still build, nothing is published.

One real rebuild of the session's good sample after a month of incidents loses a required column:
the build fails with a one-line message; the incidents models and everything built on them are
skipped, while every other source's models, the quarantine and the data-quality results are built.
"""

from __future__ import annotations

import dagster as dg
import duckdb
from conftest import DROPPED_COLUMN, REFUSED_SOURCE, RefusedBuild, sha256
from test_coverage import assert_sql_and_python_agree

from contracts.sources import SOURCE_TABLES, tables_for_source
from nqs.catalogue import load_strategy
from nqs.releases import current_release, release_ids


def _build_db(build: RefusedBuild) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(build.build_db), read_only=True)


def test_the_build_fails_with_a_one_line_message_naming_source_file_and_column(refused_build: RefusedBuild):
    assert refused_build.exit_code != 0
    failures = [line for line in refused_build.output.splitlines() if line.startswith("FAILED")]
    assert len(failures) == 1, refused_build.output[-3000:]
    line = failures[0]
    assert REFUSED_SOURCE in line and refused_build.broken_file.name in line and DROPPED_COLUMN in line
    assert "Traceback" not in refused_build.output


def test_the_previous_warehouse_stays_published(refused_build: RefusedBuild):
    """A refused build moves nothing: no release is staged, `current` names the same release, whose
    file is unchanged, and `data/warehouse.duckdb` still leads to it."""
    releases = refused_build.data_dir / "releases"
    assert (release_ids(releases), current_release(releases)) == refused_build.releases_before
    assert not [p for p in releases.iterdir() if p.name.startswith(".")]
    assert sha256(refused_build.warehouse) == refused_build.published_before
    assert sha256(refused_build.data_dir / "warehouse.duckdb") == refused_build.published_before
    assert "previously published warehouse was kept" in refused_build.output


def test_other_sources_staging_models_are_rebuilt_and_the_refused_ones_are_not(refused_build: RefusedBuild):
    with _build_db(refused_build) as db:
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
    with _build_db(refused_build) as db:
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
        dg.AssetKey(["published", "release"]),
        dg.AssetKey(["published", "board_report"]),
        dg.AssetKey(["published", "current"]),
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
