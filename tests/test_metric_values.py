"""marts.metric_values on a real build: roll-ups add up, values and intervals follow their definitions.

Every expectation is recomputed here from the rows themselves and first principles (scipy's
distributions, the Wilson and Newcombe formulas written out), never taken from the warehouse's SQL.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict

import duckdb
import pytest
from conftest import Build
from scipy import stats

LEVELS = ("trust", "local_authority", "icb", "region", "england")
#: Trusts and local authorities (the reporting units of adult social care) both count towards an ICB.
PARENT_LEVEL = {"trust": "icb", "local_authority": "icb", "icb": "region", "region": "england"}
UNIT_LEVELS = ("trust", "local_authority")
PERIOD_TYPES = ("month", "quarter", "financial_year")
VIEWS = ("as_recorded", "current")
Z = stats.norm.ppf(0.975)
SAMPLE = 400


def _close(a: float | None, b: float | None, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


@pytest.fixture(scope="module")
def values(sample_build: Build) -> list[dict]:
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    with duckdb.connect(str(sample_build.build_db), read_only=True) as db:
        cursor = db.execute(
            """
            select v.*, c.unit_multiplier, c.min_denominator, c.base_metric_id
            from marts.metric_values as v
            inner join marts.metric_catalogue as c using (metric_id)
            """
        )
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def parents(sample_build: Build) -> dict[str, dict[str, str]]:
    """org_code -> the code of its parent at each level above it."""
    rows = sample_build.query(
        "select org_code, icb_code, region_code, england_code from marts.dim_organisations"
    )
    return {code: {"icb": icb, "region": region, "england": england} for code, icb, region, england in rows}


def _additive(values: list[dict]) -> list[dict]:
    return [r for r in values if r["unit"] not in ("gap", "median", "mean")]


def test_every_level_period_type_and_view_is_present(values):
    present = {(r["org_view"], r["org_level"], r["period_type"]) for r in values}
    assert present == {(v, lvl, p) for v in VIEWS for lvl in LEVELS for p in PERIOD_TYPES}
    england = {r["org_code"] for r in values if r["org_level"] == "england"}
    assert len(england) == 1


@pytest.mark.parametrize("level", ["trust", "local_authority", "icb", "region"])
def test_numerators_and_denominators_sum_to_the_next_level(values, parents, level):
    parent_level = PARENT_LEVEL[level]
    summed: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
    # a metric's ICB rows are the sum of its trusts' or, for adult social care, its councils'
    metrics = {r["metric_id"] for r in _additive(values) if r["org_level"] == level}
    for r in _additive(values):
        if r["org_level"] == level:
            key = (
                r["metric_id"],
                r["org_view"],
                parents[r["org_code"]][parent_level],
                r["period_type"],
                r["period_start"],
            )
            summed[key][0] += r["numerator"]
            summed[key][1] += r["denominator"]
    reported = {
        (r["metric_id"], r["org_view"], r["org_code"], r["period_type"], r["period_start"]): (
            r["numerator"],
            r["denominator"],
        )
        for r in _additive(values)
        if r["org_level"] == parent_level and r["metric_id"] in metrics
    }
    assert summed, f"no additive {level} rows"
    assert summed.keys() == reported.keys()
    wrong = [
        k for k, (n, d) in summed.items() if not (_close(n, reported[k][0]) and _close(d, reported[k][1]))
    ]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize(("finer", "coarser"), [("month", "quarter"), ("quarter", "financial_year")])
def test_periods_sum_to_quarters_and_financial_years(sample_build: Build, values, finer, coarser):
    start_column = {"quarter": "quarter_start_date", "financial_year": "financial_year_start_date"}[coarser]
    month_to_period = dict(sample_build.query(f"select period_start, {start_column} from marts.dim_periods"))
    summed: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for r in _additive(values):
        if r["period_type"] == finer:
            key = (r["metric_id"], r["org_view"], r["org_code"], month_to_period[r["period_start"]])
            summed[key][0] += r["numerator"]
            summed[key][1] += r["denominator"]
            summed[key][2] += r["months_reported"]
    reported = {
        (r["metric_id"], r["org_view"], r["org_code"], r["period_start"]): r
        for r in _additive(values)
        if r["period_type"] == coarser
    }
    assert summed, f"no additive {finer} rows"
    assert summed.keys() == reported.keys()
    for key, (numerator, denominator, months) in summed.items():
        row = reported[key]
        assert _close(numerator, row["numerator"]) and _close(denominator, row["denominator"]), key
        assert months == row["months_reported"], key


def test_trust_months_are_the_intermediate_rows_summed(sample_build: Build, values):
    """The as-recorded trust-month rows are exactly the metric rows the intermediate models yield."""
    build_db = sample_build.data_dir / "build" / "warehouse.duckdb"
    with duckdb.connect(str(build_db), read_only=True) as db:
        models = [
            name
            for (name,) in db.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'intermediate' and table_name like 'int_metrics__%'"
            ).fetchall()
        ]
        union = " union all ".join(f"select * from intermediate.{m}" for m in models)  # noqa: S608
        expected = {
            (m, t, p): (n, d)
            for m, t, p, n, d in db.execute(
                "select metric_id, trust_code, period_start, sum(numerator), sum(denominator) "
                f"from ({union}) group by all"
            ).fetchall()
        }
    reported = {
        (r["metric_id"], r["org_code"], r["period_start"]): (r["numerator"], r["denominator"])
        for r in _additive(values)
        if r["org_view"] == "as_recorded" and r["org_level"] in UNIT_LEVELS and r["period_type"] == "month"
    }
    assert models and expected, "no intermediate metric rows"
    assert reported.keys() == expected.keys()
    assert all(_close(*pair) for k in expected for pair in zip(expected[k], reported[k], strict=True))


def test_values_are_numerator_over_denominator_times_multiplier(values):
    additive = _additive(values)
    assert {r["unit"] for r in additive} >= {"proportion", "count", "rate_per_1000"}
    for r in additive:
        multiplier = r["unit_multiplier"]
        if r["unit"] == "count":
            expected = r["numerator"] * multiplier
        elif r["denominator"] == 0:
            expected = None
        else:
            expected = r["numerator"] / r["denominator"] * multiplier
        assert _close(r["value"], expected), r
        assert r["is_published"] == (r["denominator"] >= r["min_denominator"]), r


def test_intervals_contain_their_value(values):
    with_interval = [r for r in values if r["value"] is not None and r["ci_lower"] is not None]
    assert len(with_interval) > 1000
    outside = [r for r in with_interval if not (r["ci_lower"] - 1e-9 <= r["value"] <= r["ci_upper"] + 1e-9)]
    assert not outside, outside[:3]


def _wilson(x: float, n: float) -> tuple[float, float]:
    p = x / n
    centre = p + Z * Z / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - half) / (1 + Z * Z / n), (centre + half) / (1 + Z * Z / n)


def _garwood(x: float) -> tuple[float, float]:
    lower = 0.0 if x == 0 else stats.chi2.ppf(0.025, 2 * x) / 2
    return lower, stats.chi2.ppf(0.975, 2 * x + 2) / 2


def _reference_interval(r: dict) -> tuple[float | None, float | None]:
    x, n, k = r["numerator"], r["denominator"], r["unit_multiplier"]
    if r["unit"] == "proportion":
        if n == 0:
            return None, None
        lower, upper = _wilson(x, n)
        return lower * k, upper * k
    if r["unit"] == "count":
        lower, upper = _garwood(x)
        return lower * k, upper * k
    if n == 0:
        return None, None
    lower, upper = _garwood(x)
    return lower / n * k, upper / n * k


@pytest.mark.parametrize("unit", ["proportion", "count", "rate_per_1000"])
def test_intervals_match_reference_formulas(values, unit):
    rows = [r for r in values if r["unit"] == unit]
    assert rows, f"no {unit} metric in the build"
    sample = random.Random(0).sample(rows, min(SAMPLE, len(rows)))
    sample += [r for r in rows if r["denominator"] == 0][:5] + [r for r in rows if r["numerator"] == 0][:5]
    for r in sample:
        lower, upper = _reference_interval(r)
        assert _close(r["ci_lower"], lower) and _close(r["ci_upper"], upper), (r, lower, upper)


def test_a_merged_trust_keeps_its_history_under_both_views(sample_build: Build, values):
    merger = sample_build.manifest["merger"]
    old, new = merger["trust_code"], merger["successor_code"]
    trust_months = defaultdict(dict)
    for r in _additive(values):
        if r["org_level"] == "trust" and r["period_type"] == "month" and r["org_code"] in (old, new):
            trust_months[r["org_view"]][(r["metric_id"], r["org_code"], r["period_start"])] = r
    as_recorded, current = trust_months["as_recorded"], trust_months["current"]
    old_months = {k for k in as_recorded if k[1] == old}
    assert old_months, "the merged trust has no history as recorded"
    assert all(str(k[2]) <= merger["close_date"] for k in old_months)
    assert not any(k[1] == old for k in current), (
        "the merged trust appears under its own code in the current view"
    )
    for metric_id, _, period_start in old_months:
        mine = as_recorded[(metric_id, old, period_start)]
        theirs = as_recorded.get((metric_id, new, period_start))
        combined = current[(metric_id, new, period_start)]
        for column in ("numerator", "denominator"):
            expected = mine[column] + (theirs[column] if theirs else 0)
            assert _close(combined[column], expected), (metric_id, period_start, column)
    names = dict(sample_build.query("select org_code, current_org_code from marts.dim_organisations"))
    assert names[old] == new


def test_medians_and_means_come_from_observations(sample_build: Build, values):
    """Where observations exist, a median's value lies in its interval; a mean has a t interval."""
    observed = [r for r in values if r["unit"] in ("median", "mean") and r["ci_lower"] is not None]
    assert {r["unit"] for r in observed} == {"median", "mean"}, "no median or mean has an interval"
    for r in observed:
        assert r["ci_lower"] <= r["value"] <= r["ci_upper"], r


def _newcombe(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    (l1, u1), (l2, u2) = _wilson(x1, n1), _wilson(x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    return (
        p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def test_deprivation_gaps_are_quintile_1_minus_quintile_5(sample_build: Build, values):
    by_quintile = {
        (m, v, o, t, s, q): (n, d)
        for m, v, o, t, s, q, n, d in sample_build.query(
            """select metric_id, org_view, org_code, period_type, period_start, imd_quintile, numerator,
                      denominator from marts.metric_values_by_deprivation"""
        )
    }
    gaps = [r for r in values if r["unit"] == "gap"]
    assert gaps, "no deprivation gap in metric_values"
    assert {r["base_metric_id"] for r in gaps} >= {"hip_surgery_within_36h", "stroke_unit_within_4h"}
    assert all(r["numerator"] is None and r["denominator"] is None for r in gaps)
    assert by_quintile, "marts.metric_values_by_deprivation is empty"
    checked = 0
    for r in gaps:
        key = (r["base_metric_id"], r["org_view"], r["org_code"], r["period_type"], r["period_start"])
        (x1, n1), (x5, n5) = by_quintile.get((*key, 1), (0, 0)), by_quintile.get((*key, 5), (0, 0))
        if n1 == 0 or n5 == 0:
            assert r["value"] is None and not r["is_published"], r
            continue
        k = r["unit_multiplier"]
        assert _close(r["value"], (x1 / n1 - x5 / n5) * k), r
        lower, upper = _newcombe(x1, n1, x5, n5)
        assert _close(r["ci_lower"], lower * k) and _close(r["ci_upper"], upper * k), r
        assert r["is_published"] == (min(n1, n5) >= r["min_denominator"]), r
        checked += 1
    assert checked


def test_quintiles_add_up_to_no_more_than_the_total(sample_build: Build):
    rows = sample_build.query(
        """
        select count(*) from (
            select q.metric_id, q.org_view, q.org_code, q.period_type, q.period_start,
                   sum(q.denominator) as quintiles, any_value(v.denominator) as total
            from marts.metric_values_by_deprivation as q
            inner join marts.metric_values as v
                using (metric_id, org_view, org_code, period_type, period_start)
            group by all
        ) where quintiles > total + 1e-9
        """
    )
    assert rows[0][0] == 0


def test_dimensions_cover_the_hierarchy_and_code_lists(sample_build: Build):
    from contracts.domains import DOMAINS

    levels = dict(sample_build.query("select org_level, count(*) from marts.dim_organisations group by all"))
    assert set(levels) == {"england", "region", "icb", "trust", "site", "local_authority"}
    assert levels["england"] == 1 and levels["local_authority"] == 153
    orphans = sample_build.query(
        """select org_code from marts.dim_organisations
           where (org_level in ('trust', 'site') and peer_group is null)
             or (org_level in ('trust', 'site', 'local_authority')
                 and (icb_code is null or region_code is null))
             or (org_level = 'local_authority' and (icb_code != parent_code or trust_code is not null))"""
    )
    assert not orphans
    for table, column, domain in [
        ("dim_staff_groups", "staff_group", "staff_group"),
        ("dim_specialties", "specialty", "specialty"),
        ("dim_care_settings", "care_setting", "care_setting"),
        ("dim_age_bands", "age_band", "patient_age_band"),
    ]:
        in_list = "code_list = 'specialty'" if table == "dim_specialties" else "true"
        codes = [
            c
            for (c,) in sample_build.query(
                f"select {column} from marts.{table} where {in_list} order by sort_order"
            )
        ]
        assert codes == list(DOMAINS[domain]), table
    functions = dict(
        sample_build.query(
            "select specialty, specialty_group from marts.dim_specialties "
            "where code_list = 'treatment_function' order by sort_order"
        )
    )
    assert list(functions) == list(DOMAINS["treatment_function"])
    assert set(functions.values()) <= set(DOMAINS["specialty"])
    assert [
        q
        for (q,) in sample_build.query("select imd_quintile from marts.dim_deprivation_quintiles order by 1")
    ] == [
        1,
        2,
        3,
        4,
        5,
    ]


def test_local_authority_metrics_roll_up_through_their_primary_icbs(sample_build: Build, values, parents):
    """Adult social care is recorded by council: every council's rows reach its primary ICB, its region
    and England, and England is the sum of the councils (no trust rows for these metrics)."""
    councils = {r["metric_id"] for r in values if r["org_level"] == "local_authority"}
    assert councils == {
        "discharged_on_ready_date",
        "social_care_delay_days_per_discharge",
        "reablement_still_at_home_91d",
        "care_user_satisfaction",
    }
    assert not {r["metric_id"] for r in values if r["org_level"] == "trust"} & councils
    primary_icb = dict(
        sample_build.query(
            "select org_code, parent_code from marts.dim_organisations where org_level = 'local_authority'"
        )
    )
    totals: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in values:
        if r["metric_id"] in councils and r["org_level"] == "local_authority" and r["org_view"] == "current":
            assert parents[r["org_code"]]["icb"] == primary_icb[r["org_code"]]
            totals[(r["metric_id"], r["period_type"], r["period_start"])][0] += r["numerator"]
            totals[(r["metric_id"], r["period_type"], r["period_start"])][1] += r["denominator"]
    england = {
        (r["metric_id"], r["period_type"], r["period_start"]): (r["numerator"], r["denominator"])
        for r in values
        if r["metric_id"] in councils and r["org_level"] == "england" and r["org_view"] == "current"
    }
    assert totals.keys() == england.keys()
    assert all(_close(n, england[k][0]) and _close(d, england[k][1]) for k, (n, d) in totals.items())


def test_annual_measures_have_one_month_a_year_and_the_same_figure_for_its_year(values):
    """ASCOF is annual: one month row a year (April, the year's first month), repeated by its quarter
    (April to June) and financial year, which start in the same month."""
    annual = [
        r for r in values if r["metric_id"] == "reablement_still_at_home_91d" and r["org_level"] == "england"
    ]
    assert {r["period_start"].month for r in annual} == {4}
    months = {(r["org_view"], r["period_start"]): r for r in annual if r["period_type"] == "month"}
    longer = [r for r in annual if r["period_type"] != "month"]
    assert len(longer) == 2 * len(months)
    for row in longer:
        month = months[(row["org_view"], row["period_start"])]
        assert (row["numerator"], row["denominator"]) == (month["numerator"], month["denominator"])
