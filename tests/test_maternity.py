"""The maternity source on a real build: national rates, equity splits and their publication.

Reads the sample build (the `sample_build` session fixture): the maternity metrics' national values
lie where England's do (with wide margins: the sample is a small share of a national year), the
rows by ethnic group add up to the trust values cell by cell, as the quintile rows do, and the
published split by ethnicity follows the disclosure rules.
"""

from __future__ import annotations

import pytest
from conftest import Build

MATERNITY = (
    "stillbirth_rate",
    "neonatal_death_rate",
    "preterm_birth_share",
    "caesarean_birth_share",
    "perineal_tear_3rd_4th_share",
    "pph_1500ml_share",
)
#: England's rates (stillbirths and neonatal deaths per 1,000), with the margins a small sample allows.
NATIONAL_RANGES = {
    "stillbirth_rate": (1.5, 5.5),
    "neonatal_death_rate": (0.5, 3.0),
    "preterm_birth_share": (0.06, 0.10),
    "caesarean_birth_share": (0.34, 0.46),
    "perineal_tear_3rd_4th_share": (0.02, 0.05),
    "pph_1500ml_share": (0.02, 0.05),
}
KEY = "metric_id, org_view, org_level, org_code, period_type, period_start"


@pytest.fixture(scope="module")
def build(sample_build: Build) -> Build:
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    return sample_build


def test_national_values_are_realistic(build: Build):
    """England's value over the whole span (both financial years pooled, for a steadier sample)."""
    rows = build.query(
        """select metric_id, sum(numerator), sum(denominator), any_value(c.unit_multiplier)
        from marts.metric_values as v inner join marts.metric_catalogue as c using (metric_id)
        where org_level = 'england' and org_view = 'current' and period_type = 'financial_year'
        and metric_id in (select unnest(?)) group by metric_id""",
        [list(MATERNITY)],
    )
    values = {
        metric: numerator / denominator * multiplier for metric, numerator, denominator, multiplier in rows
    }
    assert set(values) == set(MATERNITY)
    for metric, (low, high) in NATIONAL_RANGES.items():
        assert low < values[metric] < high, (metric, values[metric])
    births = next(d for m, _, d, _ in rows if m == "stillbirth_rate")
    expected = 600_000 * build.manifest["scale"] * build.manifest["months"] / 12
    assert 0.9 * expected < births < 1.1 * expected, (births, expected)


def test_preterm_birth_follows_deprivation(build: Build):
    """More deprived mothers' babies are born early more often: the gap metric says so, nationally,
    in every financial year (the interval of a small sample may still reach zero)."""
    rows = build.query(
        """select financial_year, value, ci_lower, ci_upper from marts.metric_values
        where metric_id = 'preterm_birth_share_deprivation_gap' and org_level = 'england'
        and org_view = 'current' and period_type = 'financial_year'"""
    )
    assert len(rows) == 2
    for year, gap, lower, upper in rows:
        assert lower <= gap <= upper and gap > 0, (year, gap, lower, upper)


@pytest.mark.parametrize("split", ["metric_values_by_deprivation", "metric_values_by_ethnicity"])
def test_split_rows_add_up_to_the_metric_values(build: Build, split: str):
    """Every cell of a maternity metric is the sum of its quintiles or of its ethnic groups."""
    [(cells, matched, difference, groups)] = build.query(
        f"""
        with summed as (
            select {KEY}, sum(numerator) as n, sum(denominator) as d, count(*) as groups
            from marts.{split} where metric_id in (select unnest(?)) group by all
        )
        select count(*), count(s.metric_id), sum(abs(s.n - v.numerator) + abs(s.d - v.denominator)),
            max(s.groups)
        from marts.metric_values as v
        left join summed as s using ({KEY})
        where v.metric_id in (select unnest(?))
        """,
        [list(MATERNITY), list(MATERNITY)],
    )
    assert cells > 0 and matched == cells and difference < 1e-6
    assert groups == (5 if split.endswith("deprivation") else 6)


def test_ethnic_groups_are_the_dimension_and_values_follow_their_figures(build: Build):
    groups = {g for (g,) in build.query("select ethnic_group from marts.dim_ethnic_groups")}
    used = {g for (g,) in build.query("select distinct ethnic_group from marts.metric_values_by_ethnicity")}
    assert used == groups == {"white", "mixed", "asian", "black", "other", "not_known"}
    wrong = build.query(
        """select count(*) from marts.metric_values_by_ethnicity as e
        inner join marts.metric_catalogue as c using (metric_id)
        where e.denominator > 0 and (
            abs(e.value - e.numerator / e.denominator * c.unit_multiplier) > 1e-9
            or not (e.ci_lower <= e.value + 1e-9 and e.value <= e.ci_upper + 1e-9)
            or e.is_published != (e.denominator >= c.min_denominator)
        )"""
    )
    assert wrong == [(0,)]


def test_published_split_by_ethnicity_is_controlled(build: Build):
    """Below England every count is 0 or a multiple of 5 above 7, else suppressed; England is exact."""
    rows = build.query_published(
        """select org_level, numerator, denominator, value, is_suppressed, value_display
        from published.metric_values_by_ethnicity"""
    )
    assert rows
    for level, numerator, denominator, value, suppressed, display in rows:
        if suppressed:
            assert numerator is None and denominator is None and value is None and display == "*"
        elif level != "england":
            for figure in (numerator, denominator):
                assert figure == 0 or (figure > 7 and figure % 5 == 0), (level, figure)
    assert any(s for *_, s, _ in rows) and not all(s for *_, s, _ in rows)
    england_query = """select metric_id, org_view, period_type, period_start, ethnic_group, numerator,
        denominator from {} where org_level = 'england'"""
    published = build.query_published(england_query.format("published.metric_values_by_ethnicity"))
    unrounded = build.query(england_query.format("marts.metric_values_by_ethnicity"))
    assert sorted(published) == sorted(unrounded)
