"""The truths the generator planted show up in the metrics, where they were planted.

Reads the intermediate metric rows of one real build (the `sample_build` session fixture): additive
rows are summed over months and deprivation quintiles before dividing, never averaged; medians and
means are taken over the observations, and medians of banded counts interpolated within the band of
the summed counts. Which trusts and series are planted comes from the
generator's manifest; which direction is worse comes from the metric catalogue.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable

import duckdb
import pytest
from conftest import Build

from nqs.codegen.catalogue_docs import METRIC_MODELS_DIR

#: Every model of additive metric rows (`int_metrics__<source>`), as the dbt project defines them.
ADDITIVE_MODELS = tuple(sorted(p.stem for p in METRIC_MODELS_DIR.glob("int_metrics__*.sql")))
ADDITIVE_ROWS = " union all ".join(f"select * from intermediate.{m}" for m in ADDITIVE_MODELS)
OBSERVATIONS = "intermediate.int_metric_observations"
BANDS = "intermediate.int_metric_bands"
RISK_ADJUSTED = "intermediate.int_hip_fracture_episodes_risk_adjusted"


def _query(build: Build, sql: str) -> list[tuple]:
    """Query the build database, where the intermediate models live (the published copy has marts only)."""
    with duckdb.connect(str(build.data_dir / "build" / "warehouse.duckdb"), read_only=True) as db:
        return db.execute(sql).fetchall()


def _catalogue(build: Build) -> dict[str, tuple[str, str]]:
    """metric id -> (unit, improvement direction)."""
    rows = build.query("select metric_id, unit, improvement_direction from marts.metric_catalogue")
    return {metric: (unit, direction) for metric, unit, direction in rows}


def _summary(unit: str, values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if unit == "median" else statistics.fmean(values)


def banded_median(bands: Iterable[tuple[float, float | None, float]]) -> float:
    """The median of counts in bands, interpolated within its band (NHS England's RTT method):
    from + (n / 2 - count before) / count in the band x width; the open top band gives its lower bound."""
    bands = sorted(bands)
    half = sum(count for _, _, count in bands) / 2
    before = 0.0
    for band_from, band_to, count in bands:
        if before + count >= half:
            return (
                band_from if band_to is None else band_from + (half - before) / count * (band_to - band_from)
            )
        before += count
    raise ValueError("no bands")


def _banded(build: Build, where: str) -> dict[str, dict[str | None, float]]:
    """metric id -> {trust code: median of its bands summed over rows matching `where`, None: national}."""
    by_trust: dict[str, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    national: dict[str, dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
    for metric, trust, band_from, band_to, count in _query(
        build,
        f"select metric_id, trust_code, band_from, band_to, sum(band_count) from {BANDS} where {where} "
        "group by all",
    ):
        by_trust[metric][trust].append((band_from, band_to, count))
        national[metric][(band_from, band_to)] += count
    values: dict[str, dict[str | None, float]] = {}
    for metric, trusts in by_trust.items():
        values[metric] = {trust: banded_median(bands) for trust, bands in trusts.items()}
        values[metric][None] = banded_median((f, t, c) for (f, t), c in national[metric].items())
    return values


def _values(build: Build, catalogue: dict, where: str = "true") -> dict[str, dict[str | None, float]]:
    """metric id -> {trust code: value over the rows matching `where`, None: the national value}."""
    values: dict[str, dict[str | None, float]] = defaultdict(dict)
    for metric, trust, numerator, denominator in _query(
        build,
        f"select metric_id, trust_code, sum(numerator), sum(denominator) from ({ADDITIVE_ROWS}) "
        f"where {where} group by rollup (metric_id, trust_code) having metric_id is not null",
    ):
        if denominator:
            values[metric][trust] = numerator / denominator
    observations: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for metric, trust, observation in _query(
        build,
        f"select metric_id, trust_code, observation from {OBSERVATIONS} where {where}",
    ):
        observations[metric][trust].append(observation)
    for metric, by_trust in observations.items():
        unit = catalogue[metric][0]
        values[metric] = {trust: _summary(unit, obs) for trust, obs in by_trust.items()}
        values[metric][None] = _summary(unit, [o for obs in by_trust.values() for o in obs])
    values.update(_banded(build, where))
    return values


def _worse(direction: str, value: float, reference: float) -> bool:
    return value > reference if direction == "decrease" else value < reference


def test_build_succeeded(sample_build: Build):
    assert sample_build.exit_code == 0, sample_build.output[-4000:]


def test_truths_are_planted_on_new_metrics_of_every_kind(sample_build: Build):
    catalogue = _catalogue(sample_build)
    planted = set(sample_build.manifest["worse_trusts"])
    assert planted <= set(catalogue)
    units = {catalogue[m][0] for m in planted}
    assert {"proportion", "rate_per_1000", "standardised_ratio", "median", "mean"} <= units
    assert {"hip_30day_mortality_smr", "incident_reporting_rate", "staff_stability_index"} <= planted


def test_planted_worse_trusts_are_worse_than_national(sample_build: Build):
    catalogue = _catalogue(sample_build)
    values = _values(sample_build, catalogue)
    checked = []
    for metric, trusts in sample_build.manifest["worse_trusts"].items():
        direction = catalogue[metric][1]
        national = values[metric][None]
        for trust in trusts:
            assert trust in values[metric], (metric, trust, "no value")
            mine = values[metric][trust]
            assert _worse(direction, mine, national), (metric, trust, mine, national)
            checked.append(metric)
    assert len(set(checked)) >= 12


def test_deteriorating_series_are_worse_after_their_start_month(sample_build: Build):
    catalogue = _catalogue(sample_build)
    deteriorating = sample_build.manifest["deteriorating"]
    assert len(deteriorating) >= 2
    for item in deteriorating:
        metric, trust, start = item["metric_id"], item["trust_code"], f"{item['from_month']}-01"
        before = _values(sample_build, catalogue, f"period_start < date '{start}'")[metric][trust]
        after = _values(sample_build, catalogue, f"period_start >= date '{start}'")[metric][trust]
        assert _worse(catalogue[metric][1], after, before), (item, before, after)


def test_standardised_mortality_is_one_nationally_and_expected_deaths_follow_case_mix(sample_build: Build):
    """Indirect standardisation: national observed = expected; older, frailer patients expect more deaths."""
    [(observed, expected)] = _query(
        sample_build,
        f"select sum(observed_death), sum(expected_death) from {RISK_ADJUSTED}",
    )
    assert expected > 0 and observed == pytest.approx(expected, rel=1e-9)
    by_asa = dict(
        _query(
            sample_build,
            f"""select asa_grade, sum(expected_death) / sum(has_30_day_follow_up)
            from {RISK_ADJUSTED}
            where has_30_day_follow_up = 1 and asa_grade in (2, 4) group by asa_grade""",
        )
    )
    assert by_asa[4] > by_asa[2]


def test_quintile_rows_add_up_to_the_trust_values(sample_build: Build):
    """metric_values is the sum of the intermediate rows over deprivation quintiles, trust by trust
    (council by council for adult social care)."""
    differences = _query(
        sample_build,
        f"""
        with summed as (
            select metric_id, trust_code, period_start, sum(numerator) as n, sum(denominator) as d
            from ({ADDITIVE_ROWS}) group by all
        )
        select count(*), count(v.metric_id), sum(abs(s.n - v.numerator) + abs(s.d - v.denominator))
        from summed as s
        left join marts.metric_values as v
            on s.metric_id = v.metric_id and s.trust_code = v.org_code and s.period_start = v.period_start
            and v.org_view = 'as_recorded' and v.org_level in ('trust', 'local_authority')
            and v.period_type = 'month'
        """,
    )
    rows, matched, gap = differences[0]
    assert rows > 0 and matched == rows and gap < 1e-6
    quintiles = _query(
        sample_build,
        f"""select metric_id, count(distinct imd_quintile) from ({ADDITIVE_ROWS})
        where metric_id in (
            'hip_surgery_within_36h', 'stroke_unit_within_4h', 'revision_within_1y', 'preterm_birth_share'
        )
        group by metric_id""",
    )
    assert sorted(quintiles) == [
        ("hip_surgery_within_36h", 5),
        ("preterm_birth_share", 5),
        ("revision_within_1y", 5),
        ("stroke_unit_within_4h", 5),
    ]


def test_every_catalogue_metric_is_computed(sample_build: Build):
    catalogue = _catalogue(sample_build)
    additive = {m for (m,) in _query(sample_build, f"select distinct metric_id from ({ADDITIVE_ROWS})")}
    observed = {m for (m,) in _query(sample_build, f"select distinct metric_id from {OBSERVATIONS}")}
    banded = {m for (m,) in _query(sample_build, f"select distinct metric_id from {BANDS}")}
    assert not additive & observed and not additive & banded and not observed & banded
    gaps = {m for m, (unit, _) in catalogue.items() if unit == "gap"}  # computed from the quintile rows
    assert additive | observed | banded | gaps == set(catalogue)
    assert observed | banded == {m for m, (unit, _) in catalogue.items() if unit in ("median", "mean")}
    assert {catalogue[m][0] for m in banded} == {"median"}
    assert len(catalogue) >= 20


def test_banded_medians_roll_up_from_the_summed_bands(sample_build: Build):
    """A median of banded counts, at England and each ICB (as recorded) in every month and financial
    year, is interpolated from the band counts summed over its trusts and months: exact at every
    level, never an average of the trusts' medians."""
    summed: dict[tuple, dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
    for metric, icb, month, year, band_from, band_to, count in _query(
        sample_build,
        f"""select b.metric_id, o.icb_code, b.period_start, p.financial_year_start_date,
                b.band_from, b.band_to, b.band_count
            from {BANDS} as b
            inner join marts.dim_organisations as o on b.trust_code = o.org_code
            inner join marts.dim_periods as p on b.period_start = p.period_start""",
    ):
        for org, period in (("england", ("month", month)), ("england", ("financial_year", year))):
            summed[(metric, org, *period)][(band_from, band_to)] += count
        summed[(metric, icb, "month", month)][(band_from, band_to)] += count
    assert summed, "no banded metric has bands"
    reported = {
        (metric, "england" if level == "england" else org, period_type, start): value
        for metric, level, org, period_type, start, value in _query(
            sample_build,
            f"""select metric_id, org_level, org_code, period_type, period_start, value
                from marts.metric_values
                where metric_id in (select distinct metric_id from {BANDS}) and org_view = 'as_recorded'
                  and period_type in ('month', 'financial_year')
                  and (org_level = 'england' or (org_level = 'icb' and period_type = 'month'))""",
        )
    }
    assert reported.keys() == summed.keys()
    wrong = {
        key: (reported[key], expected)
        for key, bands in summed.items()
        if reported[key] != pytest.approx(expected := banded_median((f, t, c) for (f, t), c in bands.items()))
    }
    assert not wrong, list(wrong.items())[:5]


def test_planted_worse_councils_are_worse_than_national(sample_build: Build):
    """Local authorities are planted by a pattern of their own (the largest councils by population
    aged 65 and over), recorded in the manifest apart from the trusts."""
    catalogue = _catalogue(sample_build)
    values = _values(sample_build, catalogue)
    planted = sample_build.manifest["worse_local_authorities"]
    assert set(planted) == {"reablement_still_at_home_91d"}
    for metric, councils in planted.items():
        assert len(councils) == 2
        for council in councils:
            assert _worse(catalogue[metric][1], values[metric][council], values[metric][None]), (
                metric,
                council,
                values[metric][council],
                values[metric][None],
            )


#: National values the social care and personalised care metrics should come near: ASCOF 2B1 about
#: 82%, 3A about 62%, 87% of discharges on the ready date, about a third of a day of social care delay
#: per discharge, care and support plans for about 45% and budgets for about half of those eligible.
NATIONAL_LEVELS = {
    "reablement_still_at_home_91d": (0.76, 0.86),
    "care_user_satisfaction": (0.56, 0.68),
    "discharged_on_ready_date": (0.83, 0.89),
    "social_care_delay_days_per_discharge": (0.2, 0.45),
    "care_and_support_plan_coverage": (0.4, 0.48),
    "personal_health_budget_coverage": (0.44, 0.56),
}


def test_social_and_personalised_care_national_values_are_realistic(sample_build: Build):
    england = dict(
        sample_build.query(
            "select metric_id, value from marts.metric_values where org_level = 'england' "
            "and org_view = 'current' and period_type = 'financial_year' "
            "and period_start = date '2025-04-01'"
        )
    )
    for metric, (low, high) in NATIONAL_LEVELS.items():
        assert low < england[metric] < high, (metric, england[metric])
