"""One rule for a critical failure and one list of coverage statuses: dbt and Python agree on real builds.

The rule's parameters and the statuses are seeds (seeds/critical_failure_rule.csv,
seeds/coverage_statuses.csv). dbt applies them in marts.data_quality_results and
marts.priority_coverage; Python (`nqs.coverage`) applies them to landing's check results for the
Dagster priority assets and their `contract_health` checks. Here both answer on the session's sample
build (tests/test_isolation.py does the same on a build with a refused file).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
from conftest import Build

from nqs.catalogue import load_all_strategies
from nqs.coverage import (
    CONDITIONS,
    contract_health,
    coverage_status,
    coverage_statuses,
    priority_risks,
    refusing_severity,
)


def _mart(build_db: Path) -> dict[tuple[str, str], tuple[bool, set[str], str]]:
    with duckdb.connect(str(build_db), read_only=True) as db:
        rows = db.execute(
            "select strategy_version, priority_id, is_at_risk, failing_checks, coverage_status "
            "from marts.priority_coverage"
        ).fetchall()
    return {
        (version, priority): (at_risk, set(checks.split("; ")) if checks else set(), status)
        for version, priority, at_risk, checks, status in rows
    }


def _python(landed_dir: Path) -> dict[tuple[str, str], tuple[bool, set[str], str]]:
    """The same answers from nqs.coverage; every metric counted as having values, as the mart does."""
    health = contract_health(landed_dir)
    found = {}
    for strategy in load_all_strategies():
        risks = priority_risks(strategy, health)
        for priority in strategy.priorities:
            metric_ids = strategy.all_metrics_for(priority.priority_id)
            reasons = risks[priority.priority_id]
            status = coverage_status(metric_ids, set(metric_ids), reasons)
            found[(strategy.version, priority.priority_id)] = (bool(reasons), set(reasons), status)
    return found


def _dagster(dagster_home: Path) -> tuple[dict[str, str], dict[str, tuple[bool, str]]]:
    """The last run's priority coverage statuses and contract_health results, by priority."""
    statuses: dict[str, str] = {}
    checks: dict[str, tuple[bool, str]] = {}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is None:
                continue
            if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                materialization = event.step_materialization_data.materialization
                if materialization.asset_key.path[0] == "priorities":
                    status = materialization.metadata["coverage_status"].value
                    statuses[materialization.asset_key.path[-1]] = status
            elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.event_specific_data
                if evaluation.check_name == "contract_health":
                    checks[evaluation.asset_key.path[-1]] = (evaluation.passed, evaluation.description or "")
    return statuses, checks


def assert_sql_and_python_agree(data_dir: Path) -> None:
    """marts.priority_coverage, nqs.coverage and the last Dagster run say the same of every priority."""
    build_db = data_dir / "build" / "warehouse.duckdb"
    mart = _mart(build_db)
    python = _python(data_dir / "landed")
    assert set(mart) == set(python)
    disagree = {key: (mart[key], python[key]) for key in mart if mart[key] != python[key]}
    assert disagree == {}, "priority_coverage (first) and nqs.coverage (second) disagree"

    # the flag dbt computes is exactly the rows landing wrote for refused files
    with duckdb.connect(str(build_db), read_only=True) as db:
        flagged = db.execute(
            "select count(*) filter (where is_critical_failure), "
            "count(*) filter (where is_critical_failure != (check_name like 'critical:%')), "
            "count(*) filter (where is_critical_failure != (severity = ?)) "
            "from marts.data_quality_results",
            [refusing_severity()],
        ).fetchone()
    assert flagged[1:] == (0, 0)

    statuses, checks = _dagster(data_dir / "dagster_home")
    active = next(s for s in load_all_strategies() if s.is_active)
    assert set(checks) == {p.priority_id for p in active.priorities}
    for priority_id, (passed, description) in checks.items():
        at_risk, failing, status = mart[(active.version, priority_id)]
        assert passed is not at_risk, priority_id
        assert set(description.split("; ")) - {""} == failing, priority_id
        if priority_id in statuses and statuses[priority_id] != "metrics without data":
            assert statuses[priority_id] == status, priority_id


def test_the_seeds_define_every_status_and_the_rule():
    statuses = coverage_statuses()
    assert [s.precedence for s in statuses] == sorted({s.precedence for s in statuses})
    assert {s.condition for s in statuses} == set(CONDITIONS)
    assert statuses[-1].condition == "otherwise"
    assert [s.coverage_status for s in statuses if s.needs_metric_values] == ["metrics without data"]
    assert refusing_severity() == "critical"


def test_coverage_status_takes_the_first_condition_that_holds():
    assert coverage_status([], set(), ["incidents/events: no file loaded"]) == "no metric"
    assert coverage_status(["a", "b"], set(), ["incidents/events: no file loaded"]) == "metrics at risk"
    assert coverage_status(["a", "b"], {"a"}) == "metrics without data"
    assert coverage_status(["a", "b"], {"a", "b"}, []) == "covered"


def test_dbt_and_python_agree_on_the_sample_build(sample_build: Build):
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    assert_sql_and_python_agree(sample_build.data_dir)
