"""The benchmarking marts: SPC, funnels and alerts with history, on constructed series and a real build."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest
from conftest import Build

from nqs.benchmarking import benchmarking_tables, build_benchmarking, episodes
from nqs.benchmarking.alerts import CONDITION_COLUMNS
from nqs.benchmarking.build import BASELINE_MONTHS, TAU2_METHOD, UNIT_BOUNDS
from nqs.charts.data import spc_series
from nqs.charts.render import spc_figure
from nqs.stats import funnel, spc
from orchestration.defs.benchmarking.assets import inconsistent_episodes

MONTHS = [dt.date(2024 + (3 + i) // 12, (3 + i) % 12 + 1, 1) for i in range(24)]  # April 2024 .. March 2026


def catalogue(**overrides) -> pl.DataFrame:
    row = {
        "metric_id": "hip_surgery_within_36h",
        "title": "Hip fracture surgery within 36 hours",
        "unit": "proportion",
        "unit_multiplier": 1.0,
        "improvement_direction": "increase",
        "target": 0.85,
        "red_line": 0.5,
        "min_denominator": 10.0,
        "funnel_type": "proportion",
        "overdispersion_method": "spiegelhalter",
    }
    return pl.DataFrame([row | overrides])


def values(series: dict[str, list[tuple[float, float]]], metric_id: str = "hip_surgery_within_36h"):
    """Trust month rows from {org: [(numerator, denominator), ...]} over the last months of MONTHS."""
    rows = []
    for org, points in series.items():
        for start, (num, den) in zip(MONTHS[-len(points) :], points, strict=True):
            rows.append(
                {
                    "metric_id": metric_id,
                    "org_code": org,
                    "org_level": "trust",
                    "period_type": "month",
                    "period_start": start,
                    "numerator": float(num),
                    "denominator": float(den),
                    "value": num / den if den else None,
                }
            )
    return pl.DataFrame(rows)


ORGS = pl.DataFrame({"org_code": ["RX1"], "org_name": ["Trust X"]})


# ---- alert history --------------------------------------------------------------------------------------


def conditions(held: list[bool | None], kind: str = "red_line_breach", rank: list[int] | None = None):
    """One assessed period per entry (None: not assessed that month, so no row)."""
    rows = [
        {
            "metric_id": "m",
            "org_code": "RX1",
            "kind": kind,
            "period_type": "month",
            "period_start": MONTHS[i],
            "held": h,
            "severity_rank": (rank or [2] * len(held))[i],
            "signal": f"s{i}",
            "side": "below",
            "value": float(i),
            "threshold": 0.5,
            "national": None,
        }
        for i, h in enumerate(held)
        if h is not None
    ]
    return pl.DataFrame(rows, schema=CONDITION_COLUMNS)


def test_episodes_on_a_constructed_series() -> None:
    f, t = False, True
    found = episodes(conditions([f, t, t, f, t, f, f, t, t])).sort("first_raised")
    assert found.select("first_raised", "last_seen", "cleared", "periods", "status").rows() == [
        (MONTHS[1], MONTHS[2], MONTHS[3], 2, "cleared"),
        (MONTHS[4], MONTHS[4], MONTHS[5], 1, "cleared"),
        (MONTHS[7], MONTHS[8], None, 2, "active"),
    ]
    # the details are those of the episode's last period
    assert found["signal"].to_list() == ["s2", "s4", "s8"]
    assert inconsistent_episodes(found.with_columns(alert_id=pl.lit("x"))).height == 0


def test_episodes_run_over_unassessed_periods_and_take_the_worst_severity() -> None:
    f, t = False, True
    # held, not assessed (e.g. below the minimum denominator), held: one episode; cleared by the next
    # assessed period in which the condition did not hold, however late
    found = episodes(conditions([t, None, t, None, None, f], rank=[1, 0, 2, 0, 0, 1]))
    assert found.select("first_raised", "last_seen", "cleared", "periods", "severity").rows() == [
        (MONTHS[0], MONTHS[2], MONTHS[5], 2, "high")
    ]
    # kinds and organisations are separate histories
    both = pl.concat([conditions([t, t, f]), conditions([f, t, t], kind="spc_concern")])
    assert sorted(episodes(both).select("kind", "first_raised", "status").rows()) == [
        ("red_line_breach", MONTHS[0], "cleared"),
        ("spc_concern", MONTHS[1], "active"),
    ]
    assert episodes(conditions([f, f])).height == 0


# ---- the tables on constructed data -----------------------------------------------------------------


def steady(n: int, share: float, den: int = 100) -> list[tuple[float, float]]:
    return [(round(share * den) + (i % 3) - 1, den) for i in range(n)]


def test_red_line_sentence_and_minimum_denominator() -> None:
    series = {
        "RX1": steady(20, 0.8) + [(41, 100)],  # one month below the red line of 50%, in March 2026
        "RY2": steady(20, 0.8) + [(1, 5)],  # worse than the red line but below the minimum denominator
    }
    result = build_benchmarking(values(series), catalogue(), ORGS)
    alerts = result.tables["alerts"].filter(pl.col("kind") == "red_line_breach")
    assert alerts["org_code"].to_list() == ["RX1"]
    assert alerts["message"][0] == (
        "Trust X (RX1): hip fracture surgery within 36 hours was 41% in March 2026, "
        "below the red line of 50%."
    )
    assert alerts.select("status", "severity", "periods").rows() == [("active", "high", 1)]
    points = result.tables["spc_points"]
    small = points.filter(pl.col("org_code") == "RY2").tail(1)
    assert small["is_compared"].to_list() == [False] and small["point_type"].to_list() == [None]
    # the month far below the limits is a special cause of concern too
    spc_alerts = result.tables["alerts"].filter(pl.col("kind") == "spc_concern")
    assert spc_alerts.select("org_code", "signal", "status").rows() == [("RX1", "Below LCL", "active")]
    assert "below the lower process limit of" in spc_alerts["message"][0]


def test_spc_points_are_nqs_spc_with_a_baseline_year() -> None:
    series = {"RX1": steady(12, 0.8) + steady(12, 0.7), "RY2": steady(24, 0.6)}
    frame = values(series)
    result = build_benchmarking(frame, catalogue(), ORGS)
    points = result.tables["spc_points"].filter(pl.col("is_compared"))
    direct = spc(
        frame,
        date="period_start",
        value="value",
        facet="org_code",
        improvement="increase",
        target=0.85,
        fix_after=BASELINE_MONTHS,
    )
    assert points["mean"].to_list() == direct["mean"].to_list()
    assert points["special_cause_label"].to_list() == direct["special_cause_label"].to_list()
    # RX1 fell from 80% to 70% after its baseline year: a special cause of concern, shown in the summary
    summary = result.tables["spc_summary"].filter(pl.col("org_code") == "RX1").row(0, named=True)
    assert summary["variation_icon"] == "concern_low"
    assert summary["variation_label"].startswith("Special cause variation of a concerning nature")
    assert summary["assurance_type"] == "consistent_fail"
    assert summary["latest_period"] == MONTHS[-1] and summary["months_compared"] == 24


def test_funnels_per_month_and_financial_year_are_nqs_funnel() -> None:
    series = {f"R{i:02d}": steady(24, 0.6 + 0.01 * (i % 5), den=20 + 5 * i) for i in range(12)}
    series["RX1"] = steady(24, 0.3, den=60)
    frame = values(series)
    result = build_benchmarking(frame, catalogue(red_line=None), ORGS)
    funnels = result.tables["funnel_points"]
    assert set(funnels["period_type"]) == {"month", "financial_year"}
    year = funnels.filter((pl.col("period_type") == "financial_year") & (pl.col("period_label") == "2025-26"))
    months = frame.filter(pl.col("period_start") >= dt.date(2025, 4, 1))
    direct = funnel(
        months, numerator="numerator", denominator="denominator", group="org_code", tau2_method=TAU2_METHOD
    )
    assert year.sort("org_code")["ucl95"].to_list() == pytest.approx(direct["ucl95"].to_list(), abs=1e-12)
    assert year.sort("org_code")["z"].to_list() == pytest.approx(direct["z"].to_list(), abs=1e-12)
    worse = year.filter(pl.col("org_code") == "RX1").row(0, named=True)
    assert worse["outlier_judgement"] == "alarm_worse" and worse["outlier_label"].startswith("Worse")
    alerts = result.tables["alerts"].filter(pl.col("kind") == "funnel_outlier")
    assert set(alerts["org_code"]) == {"RX1"}
    yearly = alerts.filter(pl.col("period_type") == "financial_year").row(0, named=True)
    assert (yearly["first_raised"], yearly["last_seen"], yearly["status"]) == (
        dt.date(2024, 4, 1),
        dt.date(2025, 4, 1),
        "active",
    )
    assert yearly["severity"] == "high" and "2025-26 against" in yearly["message"]


def test_periods_still_followed_up_raise_no_funnel_alert() -> None:
    """A metric complete to September 2025 (its follow-up) is judged in its funnels of every period, but
    only the periods ending by then raise alerts: its months to September and the year 2024-25."""
    series = {f"R{i:02d}": steady(24, 0.6 + 0.01 * (i % 5), den=20 + 5 * i) for i in range(12)}
    series["RX1"] = steady(24, 0.3, den=60)
    complete = catalogue(red_line=None, latest_complete_month=dt.date(2025, 9, 1))
    result = build_benchmarking(values(series), complete, ORGS)
    funnels = result.tables["funnel_points"].filter(pl.col("org_code") == "RX1")
    assert set(funnels["outlier_judgement"]) == {"alarm_worse"}  # every period is still drawn and judged
    alerts = result.tables["alerts"].filter(pl.col("kind") == "funnel_outlier")
    last = dict(zip(alerts["period_type"], alerts["last_seen"], strict=True))
    assert last == {"month": dt.date(2025, 9, 1), "financial_year": dt.date(2024, 4, 1)}
    # with no latest complete month known, every period raises its alert, as before
    unknown = build_benchmarking(values(series), catalogue(red_line=None), ORGS).tables["alerts"]
    years = unknown.filter((pl.col("kind") == "funnel_outlier") & (pl.col("period_type") == "financial_year"))
    assert years["last_seen"].to_list() == [dt.date(2025, 4, 1)]


def test_trusts_are_compared_with_trusts_of_their_own_type() -> None:
    # mental health trusts report at half the acute trusts' rate: within their own type none is worse
    acute = {f"RA{i}": steady(12, 0.6 + 0.01 * (i % 3), den=40 + 5 * i) for i in range(8)}
    mental = {f"RM{i}": steady(12, 0.3 + 0.01 * (i % 3), den=40 + 5 * i) for i in range(6)}
    mental["RM9"] = steady(12, 0.1, den=60)
    small = {f"RC{i}": steady(12, 0.3, den=50) for i in range(2)}
    frame = values(acute | mental | small)
    types = pl.DataFrame(
        {
            "org_code": [*acute, *mental, *small],
            "org_name": [*acute, *mental, *small],
            "trust_type": ["acute"] * 8 + ["mental_health"] * 7 + ["community"] * 2,
        }
    )
    result = build_benchmarking(frame, catalogue(red_line=None), types)
    year = result.tables["funnel_points"].filter(pl.col("period_type") == "financial_year")
    groups = {g: rows for (g,), rows in year.partition_by("comparison_group", as_dict=True).items()}
    assert set(groups) == {"acute", "mental_health", "community"}
    mh = groups["mental_health"].filter("is_compared")
    direct = funnel(
        frame.filter(pl.col("org_code").str.starts_with("RM")),
        numerator="numerator",
        denominator="denominator",
        group="org_code",
        tau2_method=TAU2_METHOD,
    )
    assert mh.sort("org_code")["target"].to_list() == pytest.approx(direct["target"].to_list())
    assert mh.sort("org_code")["ucl95"].to_list() == pytest.approx(direct["ucl95"].to_list())
    assert set(mh["units"]) == {7}
    flagged = year.filter(pl.col("outlier_judgement").str.ends_with("worse"))["org_code"].to_list()
    assert flagged == ["RM9"]
    # two community trusts are too few for a funnel of their own: not compared
    assert not groups["community"]["is_compared"].any()
    alert = result.tables["alerts"].filter(pl.col("kind") == "funnel_outlier").row(0, named=True)
    assert "for mental health trusts" in alert["message"]


def test_more_levels_and_period_types_in_metric_values_change_nothing() -> None:
    series = {f"R{i:02d}": steady(24, 0.6 + 0.01 * (i % 5), den=20 + 5 * i) for i in range(8)}
    frame = values(series)
    before = build_benchmarking(frame, catalogue(), ORGS)
    extra = pl.concat(
        [
            frame.with_columns(org_level=pl.lit("icb"), org_code=pl.lit("QX1")),
            frame.with_columns(period_type=pl.lit("quarter")).unique(["org_code", "period_start"]),
        ]
    )
    after = build_benchmarking(pl.concat([frame, extra]), catalogue(), ORGS)
    for name in benchmarking_tables():
        assert after.tables[name].equals(before.tables[name]), name


def test_neutral_and_funnel_free_metrics_raise_no_alerts() -> None:
    series = {"RX1": steady(16, 0.8) + [(10, 100)] * 8}
    result = build_benchmarking(
        values(series), catalogue(improvement_direction="neutral", funnel_type="none"), ORGS
    )
    assert result.tables["alerts"].height == 0
    assert result.tables["funnel_points"].height == 0
    assert result.tables["spc_points"]["point_type"].to_list()[-1] == "special_cause_neutral_low"


# ---- on a real build ------------------------------------------------------------------------------------


def test_tables_are_published_as_documented(sample_build: Build) -> None:
    assert sample_build.exit_code == 0, sample_build.output
    with duckdb.connect(str(sample_build.build_db), read_only=True) as db:
        for name, table in benchmarking_tables().items():
            columns = db.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where schema_name = 'marts' and table_name = ? order by column_index",
                [name],
            ).fetchall()
            assert [c for c, _, _ in columns] == table.column_names, name
            assert all(comment for _, _, comment in columns), name
            (comment,) = db.execute(
                "select comment from duckdb_tables() where schema_name = 'marts' and table_name = ?", [name]
            ).fetchall()[0]
            assert comment.startswith(f"Grain: {table.grain}")
        trust_months = db.execute(
            "select count(*) from marts.metric_values"
            " where org_level in ('trust', 'local_authority') and org_view = 'current'"
            " and period_type = 'month'"
        ).fetchall()[0][0]
        assert db.execute("select count(*) from marts.spc_points").fetchall()[0][0] == trust_months
        alerts = db.sql("from marts.alerts").pl()
    assert inconsistent_episodes(alerts).height == 0
    assert set(alerts["kind"]) == {"red_line_breach", "spc_concern", "funnel_outlier"}
    assert alerts["message"].str.ends_with(".").all()


def test_planted_deteriorating_series_raise_special_cause_of_concern(sample_build: Build) -> None:
    detected, too_small = [], []
    for planted in sample_build.manifest["deteriorating"]:
        metric, org = planted["metric_id"], planted["trust_code"]
        start = dt.date.fromisoformat(planted["from_month"] + "-01")
        compared = sample_build.query(
            "select count(*) from marts.spc_points where metric_id = ? and org_code = ? and is_compared",
            [metric, org],
        )[0][0]
        if compared < BASELINE_MONTHS + 6:  # too few months reach the minimum denominator at this scale
            too_small.append(metric)
            continue
        concerns = sample_build.query(
            "select min(period_start) from marts.spc_points where metric_id = ? and org_code = ? "
            "and point_type = 'special_cause_concern'",
            [metric, org],
        )[0][0]
        assert concerns is not None and concerns >= start, (metric, org, concerns)
        alerts = sample_build.query(
            "select first_raised from marts.alerts "
            "where metric_id = ? and org_code = ? and kind = 'spc_concern'",
            [metric, org],
        )
        assert alerts and min(a for (a,) in alerts) >= start
        summary = sample_build.query(
            "select variation_icon from marts.spc_summary where metric_id = ? and org_code = ?", [metric, org]
        )[0][0]
        assert summary.startswith("concern"), summary
        detected.append(metric)
    # at scale 0.005 the workforce series has power; the hip fracture audit has 1-3 patients a month
    assert "sickness_absence_rate" in detected, (detected, too_small)


#: metrics whose financial-year denominator counts the same people in each of its months: the stability
#: index sums twelve monthly cohorts of the staff employed a year earlier, so a year's 733 is about 61 staff
RECOUNTED_EACH_MONTH = {"staff_stability_index": 12}


def test_planted_worse_trusts_raise_funnel_alerts(sample_build: Build) -> None:
    """Every planted worse trust with a financial-year denominator of at least 200 distinct records is
    worse than expected (95% or beyond) in that year's funnel, and has a funnel alert."""
    judged = 0
    for metric, trusts in sample_build.manifest["worse_trusts"].items():
        rows = sample_build.query(
            "select org_code, period_label, denominator, outlier_judgement from marts.funnel_points "
            "where metric_id = ? and period_type = 'financial_year' and is_compared and denominator >= ? "
            "and org_code in (select unnest(?))",
            [metric, 200 * RECOUNTED_EACH_MONTH.get(metric, 1), trusts],
        )
        for org, year, _, judgement in rows:
            assert judgement in ("alert_worse", "alarm_worse"), (metric, org, year, judgement)
            judged += 1
        # a year still followed up (revisions within a year) is judged but raises no alert yet
        (latest,) = sample_build.query(
            "select max(period_label) from marts.funnel_points where metric_id = ? "
            "and period_type = 'financial_year' and is_latest_complete_period",
            [metric],
        )[0]
        flagged = {org for org, year, *_ in rows if latest is not None and year <= latest}
        alerted = {
            org
            for (org,) in sample_build.query(
                "select distinct org_code from marts.alerts where metric_id = ? and kind = 'funnel_outlier' "
                "and period_type = 'financial_year'",
                [metric],
            )
        }
        assert flagged <= alerted, (metric, flagged - alerted)
    # incidents and the three workforce metrics, two trusts each, two years each
    assert judged >= 16


def test_spc_limits_stay_within_what_each_unit_can_take(sample_build: Build) -> None:
    """No process limit below 0 for a share, a rate or a count, nor above 1 for a share, in the marts, the
    published tables and the chart drawn from them; sickness absence is a real series clamped at 0."""
    assert sample_build.exit_code == 0, sample_build.output
    limits = (
        "select c.unit, min(p.lpl), min(p.lower_2sigma), max(p.upl), max(p.upper_2sigma) "
        "from {s}.spc_points as p join {s}.metric_catalogue as c using (metric_id) group by c.unit"
    )
    for rows in (
        sample_build.query(limits.format(s="marts")),
        sample_build.query_published(limits.format(s="published")),
    ):
        assert {unit for unit, *_ in rows} & set(UNIT_BOUNDS)
        for unit, lpl, lower_2sigma, upl, upper_2sigma in rows:
            low, high = UNIT_BOUNDS.get(unit, (None, None))
            if low is not None and lpl is not None:
                assert min(lpl, lower_2sigma) >= low, unit
            if high is not None and upl is not None:
                assert max(upl, upper_2sigma) <= high, unit
    # a trust month whose lower limit would be below 0 (mean - (upl - mean) < 0) is drawn at 0
    clamped = sample_build.query_published(
        "select org_code, count(*) from published.spc_points where metric_id = 'sickness_absence_rate' "
        "and is_compared and 2 * mean - upl < 0 group by org_code order by 2 desc, 1"
    )
    assert clamped, "no sickness absence series with a lower limit below 0 at this scale"
    org = clamped[0][0]
    lpl = sample_build.query_published(
        "select distinct lpl from published.spc_points where metric_id = 'sickness_absence_rate' "
        "and org_code = ? and is_compared and 2 * mean - upl < 0",
        [org],
    )
    assert lpl == [(0.0,)]
    with duckdb.connect(str(sample_build.warehouse), read_only=True) as db:
        figure = spc_figure(spc_series(db, "sickness_absence_rate", org))
    (line,) = [a for axes in figure.axes for a in axes.get_lines() if a.get_gid() == "lpl"]
    assert min(line.get_ydata()) == 0.0
