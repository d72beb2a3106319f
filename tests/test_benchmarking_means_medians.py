"""Funnels of means and medians in the benchmarking marts, and the latest period with complete follow-up."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from conftest import Build
from test_benchmarking import catalogue as proportion_catalogue

from nqs.benchmarking import build_benchmarking
from nqs.benchmarking.build import TAU2_METHOD
from nqs.stats import funnel

YEAR = dt.date(2025, 4, 1)
MONTH = dt.date(2026, 3, 1)
ORGS = pl.DataFrame({"org_code": ["RX1"], "org_name": ["Trust X"]})


def catalogue(**overrides) -> pl.DataFrame:
    """test_benchmarking's catalogue row, as a median metric with its latest complete month."""
    median = {
        "metric_id": "waits_median",
        "title": "Median minutes to the unit",
        "unit": "median",
        "improvement_direction": "decrease",
        "target": None,
        "red_line": None,
        "funnel_type": "median",
        "latest_complete_month": MONTH,
    }
    return proportion_catalogue(**(median | overrides)).with_columns(
        pl.col("target", "red_line").cast(pl.Float64)
    )


def rows(metric_id: str, trusts: dict[str, tuple[float, float, float]], england: tuple[float, float, float]):
    """Financial-year rows: trust -> (value, observations, interpolated median); England's value, number
    of observations and standard error."""
    out = [
        {
            "metric_id": metric_id,
            "org_code": org,
            "org_level": "trust",
            "period_type": "financial_year",
            "period_start": YEAR,
            "numerator": value * n,
            "denominator": n,
            "value": value,
            "standard_error": None,
            "median_interpolated": interpolated,
        }
        for org, (value, n, interpolated) in trusts.items()
    ]
    value, n, se = england
    out.append(
        {
            "metric_id": metric_id,
            "org_code": "E92000001",
            "org_level": "england",
            "period_type": "financial_year",
            "period_start": YEAR,
            "numerator": value * n,
            "denominator": n,
            "value": value,
            "standard_error": se,
            "median_interpolated": value - 0.25,
        }
    )
    return pl.DataFrame(out)


TRUSTS = {
    "R01": (60.0, 100.0, 59.5),
    "R02": (62.0, 400.0, 61.2),
    "R03": (58.0, 225.0, 58.4),
    "R04": (61.0, 144.0, 60.1),
    "R05": (75.0, 400.0, 74.6),
    "R06": (90.0, 5.0, 90.0),  # below the minimum denominator: not compared
}


def test_a_median_funnel_is_nqs_funnel_on_the_interpolated_medians() -> None:
    # England: 2,000 observations with a standard error of 0.5, so sd = 0.5 x sqrt(2000)
    result = build_benchmarking(rows("waits_median", TRUSTS, (60.5, 2000.0, 0.5)), catalogue(), ORGS)
    funnels = result.tables["funnel_points"].sort("org_code")
    compared = funnels.filter("is_compared")
    assert compared["org_code"].to_list() == ["R01", "R02", "R03", "R04", "R05"]
    sd = 0.5 * math.sqrt(2000)
    frame = pl.DataFrame(
        {
            "org": list(TRUSTS)[:5],
            "m": [t[2] for t in TRUSTS.values()][:5],
            "n": [t[1] for t in TRUSTS.values()][:5],
        }
    )
    options = {"data_type": "median", "target": 60.25, "sd": sd, "tau2_method": TAU2_METHOD}
    direct = funnel(frame, value="m", denominator="n", group="org", **options)
    assert compared["value"].to_list() == pytest.approx(direct["value"].to_list())
    assert compared["ucl95"].to_list() == pytest.approx(direct["ucl95"].to_list())
    assert compared["target"][0] == pytest.approx(60.25) and compared["sd"][0] == pytest.approx(sd)
    assert compared.filter(pl.col("org_code") == "R05")["outlier_judgement"][0].endswith("worse")
    # the trust not compared shows its own interpolated median
    assert funnels.filter(pl.col("org_code") == "R06")["value"][0] == 90.0
    assert funnels["is_latest_complete_period"].all()
    alerts = result.tables["alerts"].filter(pl.col("kind") == "funnel_outlier")
    assert "R05" in alerts["org_code"].to_list()


def test_a_mean_funnel_is_centred_on_england() -> None:
    definition = catalogue(
        metric_id="gain_mean", unit="mean", funnel_type="mean", improvement_direction="increase"
    )
    result = build_benchmarking(rows("gain_mean", TRUSTS, (60.5, 2000.0, 0.5)), definition, ORGS)
    compared = result.tables["funnel_points"].filter("is_compared").sort("org_code")
    assert compared["target"][0] == 60.5
    assert compared["value"].to_list() == [60.0, 62.0, 58.0, 61.0, 75.0]
    assert compared["z"][0] == pytest.approx((60 - 60.5) / (0.5 * math.sqrt(2000) / 10))
    # higher is better: R05's high mean is better than expected
    assert compared.filter(pl.col("org_code") == "R05")["outlier_judgement"][0].endswith("better")


def test_no_national_standard_error_no_funnel() -> None:
    result = build_benchmarking(rows("waits_median", TRUSTS, (60.5, 2000.0, None)), catalogue(), ORGS)
    assert not result.tables["funnel_points"]["is_compared"].any()
    assert any("no national value and standard error" in note for note in result.notes)


def test_latest_complete_period_follows_the_follow_up() -> None:
    """Revisions within a year: with data to March 2026 and 12 months of follow-up, the latest complete
    month is March 2025, so the latest complete financial year is 2024-25, not 2025-26."""
    trusts = {f"R{i:02d}": (0.02 + 0.001 * i, 200.0 + 10 * i, None) for i in range(8)}
    years = []
    for start in (dt.date(2024, 4, 1), YEAR):
        frame = rows("revisions", trusts, (0.025, 5000.0, None)).filter(pl.col("org_level") == "trust")
        years.append(frame.with_columns(period_start=pl.lit(start), value=None, median_interpolated=None))
    definition = catalogue(
        metric_id="revisions",
        unit="proportion",
        funnel_type="proportion",
        latest_complete_month=dt.date(2025, 3, 1),
    )
    funnels = build_benchmarking(pl.concat(years), definition, ORGS).tables["funnel_points"]
    latest = funnels.filter("is_latest_complete_period")
    assert set(latest["period_label"]) == {"2024-25"}
    unknown = build_benchmarking(pl.concat(years), definition.with_columns(latest_complete_month=None), ORGS)
    assert not unknown.tables["funnel_points"]["is_latest_complete_period"].any()


# ---- on a real build ------------------------------------------------------------------------------------


def test_standard_errors_are_published_as_computed(sample_build: Build) -> None:
    """A mean's or median's standard error and interpolated median are the marts' where the row is
    published, null where it is suppressed, and null for every other unit; England has both for every
    financial year of every mean and median, so each of their funnels has a centre and a spread."""
    assert sample_build.exit_code == 0, sample_build.output
    [(checked, different, leaked, other_units)] = sample_build.query(
        """
        select
            count(*) filter (where not p.is_suppressed and p.unit in ('mean', 'median')),
            count(*) filter (
                where not p.is_suppressed
                and (p.standard_error is distinct from m.standard_error
                    or p.median_interpolated is distinct from m.median_interpolated)
            ),
            count(*) filter (
                where p.is_suppressed and (p.standard_error is not null or p.median_interpolated is not null)
            ),
            count(*) filter (where p.unit not in ('mean', 'median') and p.standard_error is not null)
        from published.metric_values as p
        inner join marts.metric_values as m
            using (metric_id, org_view, org_level, org_code, period_type, period_start)
        """
    )
    assert checked > 1000 and (different, leaked, other_units) == (0, 0, 0)
    missing = sample_build.query(
        """
        select metric_id, period_start from published.metric_values
        where unit in ('mean', 'median') and org_level = 'england' and period_type = 'financial_year'
            and not (standard_error > 0 and median_interpolated is not null)
        """
    )
    assert missing == []
    # the mean's standard error is the observations' standard deviation over the square root of their number
    [(worst,)] = sample_build.query(
        """
        with observations as (
            select metric_id, count(*) as n, stddev_samp(observation) as sd
            from intermediate.int_metric_observations
            where metric_id = 'proms_oxford_gain_mean'
                and period_start >= date '2025-04-01' and period_start < date '2026-04-01'
            group by metric_id
        )
        select abs(v.standard_error - o.sd / sqrt(o.n))
        from marts.metric_values as v inner join observations as o using (metric_id)
        where v.org_level = 'england' and v.org_view = 'current' and v.period_type = 'financial_year'
            and v.period_start = date '2025-04-01'
        """
    )
    assert worst < 1e-9
