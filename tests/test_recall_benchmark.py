"""The recall benchmark's computation: planted worse trusts found, other trusts flagged, per metric."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import Build

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "recall_benchmark.py"


def _module():
    spec = importlib.util.spec_from_file_location("recall_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


recall = _module()


def _funnels(rows: list[tuple[str, str, bool, str | None]], direction: str = "decrease") -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "metric_id": metric,
                "org_code": org,
                "period_label": "2024-25",
                "is_compared": compared,
                "outlier_judgement": judgement,
                "improvement_direction": direction,
            }
            for metric, org, compared, judgement in rows
        ]
    )


MANIFEST = {
    "files": {"a/b_2025-01.csv": 10},
    "merger": {"trust": "RM1", "successor": "RM2"},
    "worse_trusts": {"m": ["W1", "W2"], "also_m": ["W1", "W2"], "never_compared": ["W9"]},
    "worse_local_authorities": {"council_m": ["E1"]},
    "deteriorating": [{"metric_id": "m", "trust_code": "D1", "from_month": "2025-07"}],
    # a truth some other generator adds: it names metrics and trusts, so those trusts are planted too
    "slow_trusts": {"m": ["S1"]},
}


def test_recall_and_false_flags_per_metric() -> None:
    funnels = _funnels(
        [
            ("m", "W1", True, "alarm_worse"),
            ("m", "W2", True, "alert_better"),
            ("m", "D1", True, "alert_worse"),  # deteriorating: planted, not a false flag
            ("m", "S1", True, "alarm_worse"),  # another truth's trust: planted
            ("m", "A1", True, "alert_worse"),  # no planted effect: a false flag
            ("m", "A2", True, "none"),
            ("m", "A3", True, "alarm_better"),  # better is not flagged worse
            ("m", "A4", False, None),  # not compared: counts nowhere
            ("also_m", "W1", True, "alert_worse"),
            ("also_m", "W2", True, "alert_worse"),
            ("also_m", "A1", True, "none"),
            ("council_m", "E1", True, "alert_worse"),  # a planted worse council, found
            ("council_m", "E2", True, "none"),
        ]
    )
    table = recall.recall_table(funnels, MANIFEST).to_dicts()
    rows = {row["metric_id"]: row for row in table}
    assert set(rows) == {"m", "also_m", "never_compared", "council_m"}
    council = rows["council_m"]
    assert (council["planted_worse"], council["planted_flagged"], council["others_compared"]) == (1, 1, 1)
    m = rows["m"]
    assert (m["planted_worse"], m["planted_flagged"], m["recall"]) == (2, 1, 0.5)
    assert (m["compared"], m["others_compared"], m["others_flagged"]) == (7, 3, 1)
    assert m["false_flag_rate"] == pytest.approx(1 / 3) and m["nominal"] == 0.025
    assert rows["also_m"]["recall"] == 1.0 and rows["also_m"]["false_flag_rate"] == 0.0
    # a planted truth on a metric without a funnel shows as planted and not found
    lost = rows["never_compared"]
    assert (lost["planted_worse"], lost["planted_flagged"], lost["compared"]) == (1, 0, 0)
    # at the 99.8% limit only alarms count
    strict = {row["metric_id"]: row for row in recall.recall_table(funnels, MANIFEST, "99.8").to_dicts()}
    assert strict["m"]["planted_flagged"] == 1 and strict["m"]["others_flagged"] == 0
    assert strict["m"]["nominal"] == 0.001
    total = recall.totals(recall.recall_table(funnels, MANIFEST))
    assert (total["planted_worse"], total["planted_flagged"]) == (6, 4)


def test_false_flag_uncertainty_by_hand() -> None:
    # 1 of 3 flagged at 2.5%: P(X >= 1) = 1 - 0.975³; the exact upper bound solves P(X <= 1 | p) = 0.05
    assert recall.exceedance_p_value(1, 3, 0.025) == pytest.approx(1 - 0.975**3)
    assert recall.exceedance_p_value(0, 3, 0.025) == pytest.approx(1.0)
    bound = recall.upper_bound(1, 3)
    assert (1 - bound) ** 3 + 3 * bound * (1 - bound) ** 2 == pytest.approx(0.05)
    # none of 100 flagged: 1 - 0.05^(1/100)
    assert recall.upper_bound(0, 100) == pytest.approx(1 - 0.05 ** (1 / 100))
    # 17 of 117 at 2.5% (about 3 expected) is far above the nominal rate; 4 of 119 is not
    assert recall.exceedance_p_value(17, 117, 0.025) < 1e-6
    assert recall.exceedance_p_value(4, 119, 0.025) > 0.3
    assert recall.upper_bound(0, 0) is None and recall.exceedance_p_value(0, 0, 0.025) is None
    funnels = _funnels(
        [("m", "A1", True, "alert_worse"), ("m", "A2", True, "none"), ("m", "A3", True, "none")]
    )
    (row,) = [r for r in recall.recall_table(funnels, MANIFEST).to_dicts() if r["metric_id"] == "m"]
    assert row["p_value"] == pytest.approx(1 - 0.975**3)
    assert row["false_flag_upper95"] == pytest.approx(bound)


def test_a_neutral_metric_counts_either_side() -> None:
    funnels = _funnels([("m", "W1", True, "alert_high"), ("m", "A1", True, "alarm_low")], "neutral")
    (row,) = [r for r in recall.recall_table(funnels, MANIFEST).to_dicts() if r["metric_id"] == "m"]
    assert row["planted_flagged"] == 1 and row["others_flagged"] == 1


def test_on_the_sample_build(sample_build: Build) -> None:
    """The benchmark's reading of a real build: every metric with a funnel or a planted truth has a row,
    each funnel from the metric's latest complete financial year, and the mean and median metrics are
    compared where their trusts reach the minimum number of observations."""
    assert sample_build.exit_code == 0, sample_build.output
    with duckdb.connect(str(sample_build.build_db), read_only=True) as db:
        funnels = recall.read_funnels(db)
        expected = {
            m
            for (m,) in db.sql(
                "select metric_id from marts.metric_catalogue where funnel_type != 'none'"
            ).fetchall()
        }
        years = dict(
            db.sql(
                "select metric_id, max(period_label) from marts.funnel_points "
                "where period_type = 'financial_year' and is_latest_complete_period group by all"
            ).fetchall()
        )
    table = recall.recall_table(funnels, sample_build.manifest)
    planted = {m for key in recall.WORSE_UNITS for m in sample_build.manifest.get(key, {})}
    assert expected | planted == set(table["metric_id"])
    assert dict(zip(table["metric_id"], table["period"], strict=True)) == {
        m: years.get(m) for m in table["metric_id"]
    }
    # every mean and median has a funnel; at the sample's scale only incidents are plentiful enough for
    # trusts to reach their minimum number of observations
    for metric in ("incident_report_days_median", "stroke_unit_minutes_median", "proms_oxford_gain_mean"):
        assert table.filter(pl.col("metric_id") == metric)["period"][0] is not None, metric
    assert table.filter(pl.col("metric_id") == "incident_report_days_median")["compared"][0] >= 5
    # revisions within a year are compared on the year whose year of follow-up is complete
    assert table.filter(pl.col("metric_id") == "revision_within_1y")["compared"][0] >= 5
