"""The Dagster code location loads; its graph reads file -> contract -> staging -> metric -> priority."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from contracts.sources import SOURCE_TABLES
from nqs.catalogue import load_strategy
from nqs.dbt_manifest import CROSS_SOURCE_STEP, UNSOURCED_STEP, source_step_name
from orchestration.lib.warehouse import BUILD_DB_TAG

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


def test_landing_always_records_quarantine_and_check_results_but_may_skip_accepted_rows(asset_graph):
    _, graph = asset_graph
    results = dg.AssetKey(["marts", "data_quality_results"])
    quarantine = dg.AssetKey(["marts", "quarantined_rows"])
    for table in SOURCE_TABLES:
        landed = dg.AssetKey(["landed", table.source, table.table])
        checks = dg.AssetKey(["landed", "check_results", table.source, table.table])
        assert _spec(graph, landed).skippable  # a refused table is not materialised
        assert not _spec(graph, checks).skippable
        assert checks in _ancestors(graph, results) and landed not in _ancestors(graph, results)
        assert landed not in _ancestors(graph, quarantine)


def _spec(graph, key: dg.AssetKey) -> dg.AssetSpec:
    return next(spec for spec in graph.get(key).assets_def.specs if spec.key == key)


def _ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    found, todo = set(), [key]
    while todo:
        for parent in _upstream(graph, todo.pop()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


def test_dbt_steps_follow_the_landed_sources_upstream_of_each_model(asset_graph):
    """A model reading no landed data, one source, or several runs in the matching step."""
    defs, graph = asset_graph
    landed = {dg.AssetKey(["landed", t.source, t.table]): t.source for t in SOURCE_TABLES}
    steps = {}
    for assets_def in graph.assets_defs:
        if not assets_def.is_executable:
            continue
        name = assets_def.node_def.name
        if not name.startswith("dbt_"):
            continue
        assert assets_def.node_def.tags.get(BUILD_DB_TAG), f"{name} opens the build database untagged"
        for key in assets_def.keys:
            sources = {landed[k] for k in _ancestors(graph, key) if k in landed}
            expected = (
                UNSOURCED_STEP
                if not sources
                else source_step_name(next(iter(sources)))
                if len(sources) == 1
                else CROSS_SOURCE_STEP
            )
            assert name == expected, f"{key.to_user_string()} reads {sorted(sources)} but runs in {name}"
            steps.setdefault(name, set()).add(key)
    assert {source_step_name(t.source) for t in SOURCE_TABLES} | {UNSOURCED_STEP, CROSS_SOURCE_STEP} == set(
        steps
    )
    for key in ["data_quality_results", "quarantined_rows", "metric_catalogue"]:
        assert dg.AssetKey(["marts", key]) in steps[UNSOURCED_STEP]
    assert dg.AssetKey(["marts", "metric_values"]) in steps[CROSS_SOURCE_STEP]


def test_a_test_over_models_of_several_steps_runs_in_the_last_of_them(asset_graph):
    """metric_values' relationship to dim_organisations runs with metric_values, after both are built."""
    from nqs.dbt_manifest import dbt_steps

    cross = next(step for step in dbt_steps() if step.name == CROSS_SOURCE_STEP)
    organisations = next(step for step in dbt_steps() if step.name == source_step_name("organisations"))
    relationship = [s for s in cross.selectors if "metric_values_org_code" in s and "dim_organisations" in s]
    assert relationship, cross.selectors
    assert not [s for s in organisations.selectors if "metric_values" in s]


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


@pytest.mark.slow  # a fresh `dg` process loads the whole code location: 20 s and more
def test_dg_check_defs_passes():
    dg_cli = Path(sys.executable).with_name("dg")
    assert dg_cli.is_file(), f"no dg next to {sys.executable}: is dagster-dg-cli installed?"
    done = subprocess.run([str(dg_cli), "check", "defs"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
