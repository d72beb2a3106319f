"""The Dagster code location loads; its graph reads file -> contract -> staging -> metric -> priority."""

from __future__ import annotations

import subprocess
from pathlib import Path

import dagster as dg
import pytest

from contracts.sources import SOURCE_TABLES
from orchestration.lib.catalogue import load_strategy

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def asset_graph():
    from orchestration.definitions import defs

    return defs, defs.resolve_asset_graph()


def _upstream(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    return graph.get(key).parent_keys


def test_every_source_table_lands_through_its_contract(asset_graph):
    defs, graph = asset_graph
    for table in SOURCE_TABLES:
        landed = dg.AssetKey(["landed", table.source, table.table])
        assert dg.AssetKey(["source_files", table.source, table.table]) in _upstream(graph, landed)
        checks = {k.name for k in graph.get_check_keys_for_assets({landed})}
        assert {"contract", "rows_reconcile"} <= checks
        staging = dg.AssetKey(["staging", f"stg_{table.source}__{table.table}"])
        assert landed in _upstream(graph, staging), f"{staging} does not read {landed}"


def test_priorities_sit_downstream_of_their_metrics(asset_graph):
    _, graph = asset_graph
    strategy = load_strategy()
    assert strategy.mapping, "the active strategy maps no metric"
    for metric_id, priority_id, _ in strategy.mapping:
        assert dg.AssetKey(["metrics", metric_id]) in _upstream(
            graph, dg.AssetKey(["priorities", priority_id])
        )
    for metric in strategy.metrics:
        assert dg.AssetKey(["marts", "metric_values"]) in _upstream(
            graph, dg.AssetKey(["metrics", metric.metric_id])
        )


def test_dbt_tests_are_asset_checks(asset_graph):
    _, graph = asset_graph
    checks = graph.get_check_keys_for_assets({dg.AssetKey(["marts", "metric_values"])})
    assert any("not_null" in key.name or "unique" in key.name for key in checks)


def test_monthly_schedule_exists_and_is_off(asset_graph):
    defs, _ = asset_graph
    schedule = defs.resolve_schedule_def("monthly_refresh")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule.split()[2] != "*", "should run once a month"


def test_dg_check_defs_passes():
    dg_cli = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "dg"
    done = subprocess.run([str(dg_cli), "check", "defs"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
