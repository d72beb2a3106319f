"""A metric that cannot be computed yet for lack of history is reported, never a failed build.

The one-year build (twelve months; the stability index and the revisions within a year need thirteen,
`history_months_required` in seeds/metric_catalogue.csv) must publish, and say so in
marts.priority_coverage, in Dagster (a warning on the metric's `has_values` check, the priorities'
coverage status) and in the `nqs build` summary. The 24-month sample build reports the same metrics
as covered.
"""

from __future__ import annotations

import dagster as dg
import duckdb
from conftest import ONE_YEAR_MONTHS, Build
from test_coverage import assert_sql_and_python_agree, last_run_outcomes

from nqs.catalogue import load_strategy

#: the metrics needing a year's follow-up, and the months they need
YEAR_FOLLOW_UP = {
    "staff_stability_index": 13,
    "revision_within_1y": 13,
    "revision_within_1y_deprivation_gap": 13,
}
SHORTFALLS = {m: f"{m} needs {n} months of history, has {ONE_YEAR_MONTHS}" for m, n in YEAR_FOLLOW_UP.items()}


def _coverage(build: Build) -> dict[str, tuple[str, bool, str | None]]:
    """The active strategy's priorities in the published warehouse: status, lacks history, which metrics."""
    rows = build.query(
        "select priority_id, coverage_status, has_insufficient_history, insufficient_history "
        "from marts.priority_coverage where is_active_strategy"
    )
    return {priority: (status, lacking, which) for priority, status, lacking, which in rows}


def _last_run(build: Build) -> tuple[dict[str, dict], dict[str, dg.AssetCheckEvaluation]]:
    """The last run's priority materialisation metadata and metric `has_values` checks, by name."""
    priorities, checks = last_run_outcomes(build.data_dir / "dagster_home")
    return priorities, {
        name: evaluation for (check, name), evaluation in checks.items() if check == "has_values"
    }


def _priorities_of(metric_ids: set[str]) -> set[str]:
    """Every priority of the active strategy evidenced by one of these metrics, directly or below it."""
    strategy = load_strategy()
    return {
        p.priority_id
        for p in strategy.priorities
        if set(strategy.all_metrics_for(p.priority_id)) & metric_ids
    }


def test_the_one_year_build_publishes(one_year_build: Build):
    assert one_year_build.exit_code == 0, one_year_build.output[-4000:]
    assert "Build success." in one_year_build.stdout
    assert one_year_build.warehouse.exists()
    with duckdb.connect(str(one_year_build.build_db), read_only=True) as db:
        months = db.execute(
            "select count(distinct period_start) from marts.metric_values where period_type = 'month'"
        ).fetchone()[0]
    assert months == ONE_YEAR_MONTHS


def test_priorities_of_a_metric_without_a_year_of_history_are_insufficient_history(one_year_build: Build):
    coverage = _coverage(one_year_build)
    lacking = _priorities_of(set(YEAR_FOLLOW_UP))
    assert lacking
    assert {p for p, (_, has, _) in coverage.items() if has} == lacking
    for priority in lacking:
        status, _, which = coverage[priority]
        assert status == "insufficient history", priority
        expected = {s for m, s in SHORTFALLS.items() if priority in _priorities_of({m})}
        assert set(which.split("; ")) == expected, priority
    assert {p for p, (s, _, _) in coverage.items() if s == "covered"} == _priorities_of(
        {m.metric_id for m in load_strategy().metrics}
    ) - lacking


def test_dagster_warns_on_metrics_without_history_and_agrees_with_the_mart(one_year_build: Build):
    priorities, checks = _last_run(one_year_build)
    assert set(checks) == {m.metric_id for m in load_strategy().metrics}
    for metric_id, shortfall in SHORTFALLS.items():
        check = checks[metric_id]
        assert not check.passed, metric_id
        assert check.severity == dg.AssetCheckSeverity.WARN, metric_id
        assert check.metadata["insufficient_history"].value == shortfall
        assert check.metadata["history_months_required"].value == YEAR_FOLLOW_UP[metric_id]
        assert check.metadata["history_months_available"].value == ONE_YEAR_MONTHS
        assert check.description == f"insufficient history: {shortfall}"
    for metric_id, check in checks.items():
        if metric_id not in SHORTFALLS:
            assert check.passed, metric_id
            assert check.metadata["insufficient_history"].value == "none"
    coverage = _coverage(one_year_build)
    assert {p: m["coverage_status"] for p, m in priorities.items()} == {
        p: s for p, (s, _, _) in coverage.items()
    }
    assert_sql_and_python_agree(one_year_build.data_dir)


def test_the_summary_warns_of_each_metric_without_enough_history(one_year_build: Build):
    out = one_year_build.stdout
    assert f"Insufficient history ({len(SHORTFALLS)} metrics)" in out
    warnings = [line.strip() for line in out.splitlines() if line.strip().startswith("WARNING")]
    assert warnings == [f"WARNING {s}" for _, s in sorted(SHORTFALLS.items())]
    checks = out.split("Checks:")[1]
    metrics = next(line for line in checks.splitlines() if line.strip().startswith("metrics"))
    passed = len(load_strategy().metrics) - len(SHORTFALLS)
    assert metrics.split()[1:] == [str(passed), "passed", str(len(SHORTFALLS)), "warnings", "0", "failed"]
    assert "FAILED" not in out


def test_with_two_years_the_same_metrics_are_covered(sample_build: Build):
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    coverage = _coverage(sample_build)
    assert not any(has for _, has, _ in coverage.values())
    assert {coverage[p][0] for p in _priorities_of(set(YEAR_FOLLOW_UP))} == {"covered"}
    with_values = {
        m
        for (m,) in sample_build.query(
            "select distinct metric_id from marts.metric_values"
            " where org_level = 'trust' and value is not null"
        )
    }
    assert set(YEAR_FOLLOW_UP) <= with_values
    _, checks = _last_run(sample_build)
    assert all(checks[m].passed for m in YEAR_FOLLOW_UP)
    assert "Insufficient history" not in sample_build.stdout
