"""One rule for a critical failure and one list of coverage statuses: dbt and Python agree on real builds.

The rule's parameters and the statuses are seeds (seeds/critical_failure_rule.csv,
seeds/coverage_statuses.csv). dbt applies them in marts.data_quality_results and
marts.priority_coverage; Python (`nqs.coverage`) applies them to landing's check results for the
Dagster priority assets and their `contract_health` checks. Here both answer on the session's sample
build (tests/test_isolation.py does the same on a build with a refused file, and
tests/test_insufficient_history.py on a build too short for the metrics needing a year's follow-up).
The history each metric has against what it needs is compared the same way.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from conftest import Build

from nqs.catalogue import Metric, load_all_strategies, load_metrics
from nqs.coverage import (
    CONDITIONS,
    TableHealth,
    contract_health,
    coverage_status,
    coverage_statuses,
    lacking_history,
    metric_histories,
    priority_risks,
    refusing_severity,
)

#: per (strategy version, priority): at risk, failing checks, history shortfalls, coverage status
Answers = dict[tuple[str, str], tuple[bool, set[str], set[str], str]]


def _split(text: str | None) -> set[str]:
    return set(text.split("; ")) if text else set()


def _mart(build_db: Path) -> Answers:
    with duckdb.connect(str(build_db), read_only=True) as db:
        rows = db.execute(
            "select strategy_version, priority_id, is_at_risk, failing_checks, insufficient_history, "
            "coverage_status from marts.priority_coverage"
        ).fetchall()
    return {
        (version, priority): (at_risk, _split(checks), _split(history), status)
        for version, priority, at_risk, checks, history, status in rows
    }


def _python(landed_dir: Path) -> Answers:
    """The same answers from nqs.coverage; every metric counted as having values, as the mart does."""
    health = contract_health(landed_dir)
    histories = metric_histories(load_metrics(), health)
    lacking = lacking_history(histories)
    found = {}
    for strategy in load_all_strategies():
        risks = priority_risks(strategy, health)
        for priority in strategy.priorities:
            metric_ids = strategy.all_metrics_for(priority.priority_id)
            reasons = risks[priority.priority_id]
            shortfalls = {s for m in metric_ids if (s := histories[m].shortfall)}
            status = coverage_status(metric_ids, set(metric_ids), reasons, lacking)
            found[(strategy.version, priority.priority_id)] = (
                bool(reasons),
                set(reasons),
                shortfalls,
                status,
            )
    return found


def _mart_histories(build_db: Path) -> dict[str, tuple[int, int, bool, str | None]]:
    with duckdb.connect(str(build_db), read_only=True) as db:
        rows = db.execute(
            "select metric_id, history_months_required, history_months_available, has_sufficient_history, "
            "history_shortfall from intermediate.int_metric_histories_measured"
        ).fetchall()
    return {metric_id: tuple(rest) for metric_id, *rest in rows}


def last_run_outcomes(
    dagster_home: Path,
) -> tuple[dict[str, dict], dict[tuple[str, str], dg.AssetCheckEvaluation]]:
    """The last run's priority materialisation metadata by priority, and its asset check evaluations by
    (check name, asset name)."""
    priorities: dict[str, dict] = {}
    checks: dict[tuple[str, str], dg.AssetCheckEvaluation] = {}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is None:
                continue
            if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                materialization = event.step_materialization_data.materialization
                if materialization.asset_key.path[0] == "priorities":
                    metadata = {k: v.value for k, v in materialization.metadata.items()}
                    priorities[materialization.asset_key.path[-1]] = metadata
            elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.event_specific_data
                checks[(evaluation.check_name, evaluation.asset_key.path[-1])] = evaluation
    return priorities, checks


def _dagster(dagster_home: Path) -> tuple[dict[str, str], dict[str, tuple[bool, str]]]:
    """The last run's priority coverage statuses and contract_health results, by priority."""
    priorities, checks = last_run_outcomes(dagster_home)
    statuses = {priority: metadata["coverage_status"] for priority, metadata in priorities.items()}
    health = {
        name: (evaluation.passed, evaluation.description or "")
        for (check, name), evaluation in checks.items()
        if check == "contract_health"
    }
    return statuses, health


def assert_sql_and_python_agree(data_dir: Path) -> None:
    """marts.priority_coverage, nqs.coverage and the last Dagster run say the same of every priority."""
    build_db = data_dir / "build" / "warehouse.duckdb"
    mart = _mart(build_db)
    python = _python(data_dir / "landed")
    assert set(mart) == set(python)
    disagree = {key: (mart[key], python[key]) for key in mart if mart[key] != python[key]}
    assert disagree == {}, "priority_coverage (first) and nqs.coverage (second) disagree"
    python_histories = {
        m: (h.months_required, h.months_available, h.is_sufficient, h.shortfall)
        for m, h in metric_histories(load_metrics(), contract_health(data_dir / "landed")).items()
    }
    assert _mart_histories(build_db) == python_histories

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
        at_risk, failing, _, status = mart[(active.version, priority_id)]
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
    assert (
        coverage_status(["a", "b"], set(), ["incidents/events: no file loaded"], {"a"}) == "metrics at risk"
    )
    assert coverage_status(["a", "b"], {"a"}, [], {"b"}) == "insufficient history"
    assert coverage_status(["a", "b"], {"a"}) == "metrics without data"
    assert coverage_status(["a", "b"], {"a", "b"}, [], {"c"}) == "covered"


def test_a_metric_has_the_history_of_its_shortest_monthly_source_table():
    def table(source: str, name: str, first: date | None, latest: date | None, monthly: bool = True):
        return TableHealth(source, name, 1, (), first, latest, monthly)

    health = {
        ("organisations", "organisations"): table("organisations", "organisations", None, None, False),
        ("workforce", "staff_months"): table("workforce", "staff_months", date(2025, 4, 1), date(2026, 3, 1)),
        ("joint_registry", "procedures"): table(
            "joint_registry", "procedures", date(2025, 4, 1), date(2026, 4, 1)
        ),
        ("joint_registry", "revisions"): table(
            "joint_registry", "revisions", date(2025, 5, 1), date(2026, 4, 1)
        ),
        ("hip_fracture_audit", "episodes"): TableHealth("hip_fracture_audit", "episodes", 0, ()),
    }

    def metric(metric_id: str, sources: tuple[str, ...], required: int) -> Metric:
        return Metric(metric_id, "", "", "", "", "", "", sources, required)

    histories = metric_histories(
        [
            metric("staff_stability_index", ("workforce",), 13),
            metric("vacancy_rate", ("workforce", "organisations"), 1),
            metric("revision_within_1y", ("joint_registry",), 13),
            metric("hip_30day_mortality", ("hip_fracture_audit",), 2),
        ],
        health,
    )
    assert {m: (h.months_required, h.months_available) for m, h in histories.items()} == {
        "staff_stability_index": (13, 12),
        "vacancy_rate": (1, 12),
        "revision_within_1y": (13, 12),
        "hip_30day_mortality": (2, 0),
    }
    assert (
        histories["staff_stability_index"].shortfall
        == "staff_stability_index needs 13 months of history, has 12"
    )
    assert histories["vacancy_rate"].shortfall is None
    assert lacking_history(histories) == {
        "staff_stability_index",
        "revision_within_1y",
        "hip_30day_mortality",
    }


def test_the_catalogue_says_which_metrics_need_more_than_a_month():
    needs = {m.metric_id: m.history_months_required for m in load_metrics() if m.history_months_required > 1}
    assert needs == {
        "staff_stability_index": 13,
        "revision_within_1y": 13,
        "revision_within_1y_deprivation_gap": 13,
        "hip_30day_mortality": 2,
        "hip_30day_mortality_smr": 2,
        "hip_30day_mortality_deprivation_gap": 2,
        "neonatal_death_rate": 2,
    }


def test_dbt_and_python_agree_on_the_sample_build(sample_build: Build):
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    assert_sql_and_python_agree(sample_build.data_dir)


def test_the_build_summary_reports_every_strategy_version(sample_build: Build):
    """The active version's coverage from the priority assets, and each other version's (the draft) from
    marts.priority_coverage, counted the same way."""
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    counts = sample_build.query(
        "select strategy_version, is_active_strategy, coverage_status, count(*) "
        "from marts.priority_coverage group by all"
    )
    for version, active, status, count in counts:
        line = r"^Priorities \(\d+\): " if active else rf"^  {version} \(not active, \d+\): "
        assert re.search(rf"{line}.*\b{count} {status}\b", sample_build.stdout, re.M), (version, status)
    assert any(not active for _, active, _, _ in counts)
