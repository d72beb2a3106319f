"""The published schema: disclosure control of every sub-national figure, and nothing else published.

The rules are NHS England's for published secondary-care figures, held in seeds/disclosure_control.csv
and applied by one dbt macro (dbt_project/macros/disclosure_control.sql). Its worked examples are dbt
unit tests beside the models (dbt_project/models/published/_published__unit_tests.yml: 0, 1, 7, 8,
12, 13, England, a mean of 5 observations, a rate from rounded figures, a gap, a complement); here
each rule is checked on every row of the real sample build, and the check for a suppressed figure
given back by subtraction is shown, on the same worked example, to catch it without a complement.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import duckdb
import pytest
from conftest import Build
from scipy import stats

from nqs.benchmarking import benchmarking_tables
from nqs.catalogue import load_disclosure_control
from nqs.dbt_manifest import published_dbt_tables

RULES = load_disclosure_control()
METRIC_TABLES = {
    "metric_values": [],
    "metric_values_by_deprivation": ["imd_quintile"],
    "metric_values_by_ethnicity": ["ethnic_group"],
}
COUNTS = ("numerator", "denominator")
FIGURES = ("numerator", "denominator", "numerator_amount", "denominator_amount")
ADDITIVE_UNITS = ("proportion", "rate_per_1000", "ratio", "standardised_ratio", "count")
KEYS = ["metric_id", "org_view", "org_level", "org_code", "period_type", "period_start"]
Z = stats.norm.ppf(0.975)


def recovered_by_subtraction(
    db: duckdb.DuckDBPyConnection, table: str, figure: str, cell_keys: list[str]
) -> list[tuple]:
    """Suppressed figures given back by a published parent less its published children.

    For every published parent (ICB, region or England) and every set of its children (trusts, ICBs,
    regions) in one metric, view, period and cell: when exactly one child is suppressed, the
    parent's figure less the sum of the others' is that child's figure. Returns (metric, view,
    period, child, figure recovered) for each; an empty list means nothing can be recovered so.

    A region that is the only one with activity in England repeats England's figure, which the rules
    publish exact: no suppression can hide it and suppressing it hides nothing more, so a lone
    child of the exempt level is not counted as recovered.
    """
    keys = ["metric_id", "org_view", "period_type", "period_start", *cell_keys]
    group = ", ".join(f"child.{k}" for k in keys)
    joined = " and ".join(f"child.{k} = parent.{k}" for k in keys)
    return db.execute(
        f"""
        with cells as (
            select t.*, o.parent_code
            from published.{table} as t
            inner join published.dim_organisations as o on t.org_code = o.org_code
        ),
        sets as (
            select
                {group},
                parent.org_code as parent_code,
                any_value(parent.{figure}) as parent_figure,
                any_value(parent.org_level) as parent_level,
                count(*) as children,
                count(*) filter (where child.is_suppressed) as suppressed,
                coalesce(sum(child.{figure}) filter (where not child.is_suppressed), 0) as published_sum,
                any_value(child.org_code) filter (where child.is_suppressed) as suppressed_code
            from cells as child
            inner join cells as parent
                on {joined} and parent.org_code = child.parent_code
            where not parent.is_suppressed and parent.{figure} is not null
            group by all
        )
        select metric_id, org_view, period_type, period_start, suppressed_code, parent_figure - published_sum
        from sets
        where suppressed = 1 and not (children = 1 and parent_level = ?)
        order by all
        """,  # noqa: S608 - fixed names
        [RULES.exempt_org_level],
    ).fetchall()


# ---- the rules and the recovery check, without a build ------------------------------------------------


def test_the_seed_holds_nhs_englands_rule_for_secondary_care_figures():
    """One rule set: 0 kept, 1 to 7 suppressed, the rest rounded to 5; means and medians of 1 to 7
    observations suppressed; England exact; * shown in place of a suppressed value."""
    assert (RULES.suppress_from, RULES.suppress_to, RULES.rounding_base) == (1, 7, 5)
    assert (RULES.observation_suppress_from, RULES.observation_suppress_to) == (1, 7)
    assert (RULES.exempt_org_level, RULES.suppression_marker) == ("england", "*")


WORKED_EXAMPLE = [
    # England's 3 never events are exact and all lie in region R1: the unit test
    # test_published_metric_values_suppresses_a_complement_so_no_cell_is_recovered publishes these rows
    # with R2 suppressed as R1's complement.
    ("E", "england", 3, False),
    ("R1", "region", None, True),
    ("R2", "region", 0, False),
    ("R3", "region", 0, False),
]


def _worked_example(complement: bool) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    db.execute("create schema published")
    db.execute("create table published.dim_organisations (org_code varchar, parent_code varchar)")
    db.execute(
        "insert into published.dim_organisations values ('E', null), ('R1', 'E'), ('R2', 'E'), ('R3', 'E')"
    )
    db.execute(
        """create table published.metric_values (metric_id varchar, org_view varchar, org_level varchar,
        org_code varchar, period_type varchar, period_start date, numerator bigint, is_suppressed boolean)"""
    )
    for code, level, numerator, suppressed in WORKED_EXAMPLE:
        if complement and code == "R2":
            numerator, suppressed = None, True
        db.execute(
            "insert into published.metric_values "
            "values ('never_events', 'current', ?, ?, 'month', '2025-01-01', ?, ?)",
            [level, code, numerator, suppressed],
        )
    return db


def test_without_a_complement_england_less_the_other_regions_gives_a_suppressed_region_back():
    """The check used on the sample build below, on the worked example: with only R1 suppressed,
    England's 3 less R2's 0 and R3's 0 gives R1's 3 back; with R2 suppressed as its complement, only
    the sum of R1 and R2 can be had."""
    with _worked_example(complement=False) as db:
        recovered = recovered_by_subtraction(db, "metric_values", "numerator", [])
    assert [(row[4], row[5]) for row in recovered] == [("R1", 3)]
    with _worked_example(complement=True) as db:
        assert recovered_by_subtraction(db, "metric_values", "numerator", []) == []


# ---- the sample build ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def build_db(sample_build: Build) -> Iterator[duckdb.DuckDBPyConnection]:
    """The sample's build database (schemas marts and published), read-only."""
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    with duckdb.connect(str(sample_build.build_db), read_only=True) as db:
        yield db


@pytest.mark.parametrize("table", list(METRIC_TABLES))
def test_no_sub_national_count_lies_between_1_and_7_and_every_one_is_a_multiple_of_5(build_db, table):
    for figure in COUNTS:
        small, unrounded, published = build_db.execute(
            f"""
            select
                count(*) filter (where {figure} between ? and ?),
                count(*) filter (where {figure} % ? != 0),
                count({figure})
            from published.{table}
            where org_level != ?
            """,  # noqa: S608 - fixed names
            [RULES.suppress_from, RULES.suppress_to, RULES.rounding_base, RULES.exempt_org_level],
        ).fetchone()
        assert (small, unrounded) == (0, 0), f"{table}.{figure}: {small} small, {unrounded} not rounded"
        assert published > 1000, f"{table}.{figure}: too few published figures to prove anything"


def test_some_of_the_marts_small_figures_are_suppressed_and_the_rest_rounded(build_db):
    """The rules bite on the sample: cells the marts show with 1 to 7 are suppressed in published,
    and at least one count of the marts (not a multiple of 5) is published rounded."""
    suppressed, rounded = build_db.execute(
        """
        select
            count(*) filter (where m.numerator between 1 and 7 and p.is_suppressed),
            count(*) filter (where m.numerator > 7 and m.numerator % 5 != 0 and p.numerator % 5 = 0)
        from marts.metric_values as m
        inner join published.metric_values as p
            using (metric_id, org_view, org_level, org_code, period_type, period_start)
        inner join published.metric_catalogue as c using (metric_id)
        where m.org_level != 'england' and c.is_numerator_count
        """
    ).fetchone()
    assert suppressed > 1000 and rounded > 1000


@pytest.mark.parametrize("table", list(METRIC_TABLES))
def test_national_rows_are_the_marts_exactly(build_db, table):
    keys = " and ".join(f"p.{k} = m.{k}" for k in KEYS + METRIC_TABLES[table])
    rows, different = build_db.execute(
        f"""
        select
            count(*),
            count(*) filter (where
                p.is_suppressed
                or coalesce(p.numerator, p.numerator_amount) is distinct from m.numerator
                or coalesce(p.denominator, p.denominator_amount) is distinct from m.denominator
                or p.value is distinct from m.value
                or p.ci_lower is distinct from m.ci_lower
                or p.ci_upper is distinct from m.ci_upper)
        from published.{table} as p
        inner join marts.{table} as m on {keys}
        where p.org_level = 'england' and p.unit != 'gap'
        """  # noqa: S608 - fixed names
    ).fetchone()
    assert rows > 100 and different == 0
    (gaps_different,) = build_db.execute(
        f"""
        select count(*) from published.{table} as p inner join marts.{table} as m on {keys}
        where p.org_level = 'england' and p.unit = 'gap' and (p.value is distinct from m.value
            or p.ci_lower is distinct from m.ci_lower or p.ci_upper is distinct from m.ci_upper)
        """  # noqa: S608 - fixed names
    ).fetchone()
    assert gaps_different == 0


@pytest.mark.parametrize("table", list(METRIC_TABLES))
def test_every_value_is_recomputed_from_the_published_figures(build_db, table):
    """numerator / denominator x multiplier from the published figures (the count itself for a
    count); a median or mean keeps the marts' value; a suppressed row shows only the marker."""
    rows = build_db.execute(
        f"""
        select p.unit, c.unit_multiplier, p.is_suppressed, coalesce(p.numerator, p.numerator_amount),
            coalesce(p.denominator, p.denominator_amount), p.value, p.ci_lower, p.ci_upper, p.value_display,
            m.value
        from published.{table} as p
        inner join published.metric_catalogue as c using (metric_id)
        inner join marts.{table} as m using ({", ".join(KEYS + METRIC_TABLES[table])})
        where p.unit != 'gap'
        """  # noqa: S608 - fixed names
    ).fetchall()
    checked = 0
    for unit, multiplier, suppressed, x, n, value, lower, upper, display, unpublished in rows:
        if suppressed:
            assert (x, n, value, lower, upper, display) == (
                None,
                None,
                None,
                None,
                None,
                RULES.suppression_marker,
            )
            continue
        if unit == "count":
            expected = x * multiplier
        elif unit in ADDITIVE_UNITS:
            expected = x / n * multiplier if n else None
        else:
            expected = unpublished
        assert expected is None and value is None or math.isclose(value, expected, rel_tol=1e-12), (
            unit,
            x,
            n,
        )
        if value is not None and lower is not None:
            assert lower <= value + 1e-9 and value <= upper + 1e-9
        checked += 1
    assert checked > 1000


def test_proportions_intervals_are_wilson_on_the_published_figures(build_db):
    rows = build_db.execute(
        """
        select numerator, denominator, ci_lower, ci_upper from published.metric_values
        where unit = 'proportion' and not is_suppressed and denominator > 0 and org_level != 'england'
        using sample 2000 rows
        """
    ).fetchall()
    assert len(rows) > 100
    for x, n, lower, upper in rows:
        p, half = x / n, Z * math.sqrt(x / n * (1 - x / n) / n + Z * Z / (4 * n * n))
        centre, scale = p + Z * Z / (2 * n), 1 + Z * Z / n
        assert math.isclose(lower, (centre - half) / scale, abs_tol=1e-9)
        assert math.isclose(upper, (centre + half) / scale, abs_tol=1e-9)


def test_gaps_are_recomputed_from_the_published_quintiles_and_suppressed_with_them(build_db):
    rows = build_db.execute(
        """
        select g.is_suppressed, g.value, q1.is_suppressed or q5.is_suppressed,
            q1.numerator, q1.denominator, q5.numerator, q5.denominator
        from published.metric_values as g
        inner join published.metric_catalogue as c using (metric_id)
        inner join published.metric_values_by_deprivation as q1
            on q1.metric_id = c.base_metric_id and q1.imd_quintile = 1
            and (q1.org_view, q1.org_code, q1.period_type, q1.period_start)
            = (g.org_view, g.org_code, g.period_type, g.period_start)
        inner join published.metric_values_by_deprivation as q5
            on q5.metric_id = c.base_metric_id and q5.imd_quintile = 5
            and (q5.org_view, q5.org_code, q5.period_type, q5.period_start)
            = (g.org_view, g.org_code, g.period_type, g.period_start)
        where g.unit = 'gap'
        """
    ).fetchall()
    assert len(rows) > 1000
    assert any(r[0] for r in rows) and not all(r[0] for r in rows)
    for suppressed, value, quintile_suppressed, x1, n1, x5, n5 in rows:
        assert suppressed == quintile_suppressed
        if not suppressed and n1 and n5:
            assert math.isclose(value, x1 / n1 - x5 / n5, abs_tol=1e-12)


@pytest.mark.parametrize("table", list(METRIC_TABLES))
@pytest.mark.parametrize("figure", FIGURES)
def test_no_suppressed_figure_is_the_parent_less_its_published_children(build_db, table, figure):
    recovered = recovered_by_subtraction(build_db, table, figure, METRIC_TABLES[table])
    assert recovered == [], f"{len(recovered)} recovered, for example {recovered[:3]}"


def test_counts_are_integers_and_the_suppression_columns_are_there(build_db):
    types = dict(
        build_db.execute(
            """select column_name, data_type from information_schema.columns
            where table_schema = 'published' and table_name = 'metric_values'"""
        ).fetchall()
    )
    assert {c: types[c] for c in COUNTS} == {"numerator": "BIGINT", "denominator": "BIGINT"}
    assert (types["is_suppressed"], types["value_display"]) == ("BOOLEAN", "VARCHAR")
    assert types["is_latest_complete_period"] == "BOOLEAN"


def test_the_published_schema_holds_only_described_tables_no_view_and_no_row_level_data(build_db):
    objects = build_db.execute(
        """select table_name, table_type from information_schema.tables where table_schema = 'published'"""
    ).fetchall()
    expected = set(published_dbt_tables()) | set(benchmarking_tables())
    assert {name for name, _ in objects} == expected
    assert {kind for _, kind in objects} == {"BASE TABLE"}
    assert "quarantined_rows" not in expected
    undescribed = build_db.execute(
        """
        select table_name, column_name from duckdb_columns()
        where schema_name = 'published' and coalesce(comment, '') = ''
        union all
        select table_name, null from duckdb_tables()
        where schema_name = 'published' and coalesce(comment, '') = ''
        """
    ).fetchall()
    assert undescribed == []


def test_the_latest_complete_month_waits_for_each_metrics_follow_up(build_db):
    """30-day mortality's latest month is all 0/0 (its follow-up is not over): its latest complete
    month is the one before, which has deaths counted; revisions within a year have rows to the
    latest month but values only 12 months before it, the latest complete month."""
    latest = dict(
        build_db.execute(
            """select metric_id, max(period_start) from published.metric_values
            where period_type = 'month' group by 1"""
        ).fetchall()
    )
    complete = dict(
        build_db.execute("select metric_id, latest_complete_month from published.metric_catalogue").fetchall()
    )
    england = dict(
        build_db.execute(
            """select metric_id || period_start, denominator from published.metric_values
            where org_level = 'england' and org_view = 'current' and period_type = 'month'"""
        ).fetchall()
    )

    def months_before(metric: str) -> int:
        end, start = latest[metric], complete[metric]
        return (end.year - start.year) * 12 + end.month - start.month

    assert months_before("hip_30day_mortality") == 1
    assert england["hip_30day_mortality" + str(latest["hip_30day_mortality"])] == 0
    assert england["hip_30day_mortality" + str(complete["hip_30day_mortality"])] > 0
    assert months_before("revision_within_1y") == 12
    assert england["revision_within_1y" + str(complete["revision_within_1y"])] > 0
    assert months_before("incident_reporting_rate") == 0


def test_exactly_one_latest_complete_period_per_metric_and_period_type(build_db):
    bad = build_db.execute(
        """
        select v.metric_id, v.period_type
        from published.metric_values as v
        inner join published.metric_catalogue as c using (metric_id)
        group by all
        having count(distinct v.period_start) filter (where v.is_latest_complete_period) != 1
            or max(v.period_end) filter (where v.is_latest_complete_period)
            > last_day(any_value(c.latest_complete_month))
        """
    ).fetchall()
    assert bad == []


def test_published_benchmarking_compares_only_published_values(build_db):
    """published.spc_points has every trust month of published.metric_values (current view) with its
    published value, and never compares a suppressed one; fewer points are compared than in marts."""
    rows, missing, compared_suppressed, wrong_value = build_db.execute(
        """
        select
            count(*),
            count(*) filter (where v.metric_id is null),
            count(*) filter (where s.is_compared and v.is_suppressed),
            count(*) filter (where s.value is distinct from v.value)
        from published.spc_points as s
        left join published.metric_values as v
            on (v.metric_id, v.org_code, v.period_start) = (s.metric_id, s.org_code, s.period_start)
            and v.org_view = 'current' and v.org_level in ('trust', 'local_authority')
            and v.period_type = 'month'
        """
    ).fetchone()
    assert rows > 1000 and (missing, compared_suppressed, wrong_value) == (0, 0, 0)
    published, internal = build_db.execute(
        """select (select count(*) from published.spc_points where is_compared),
        (select count(*) from marts.spc_points where is_compared)"""
    ).fetchone()
    assert 0 < published < internal
    (funnel_suppressed,) = build_db.execute(
        """
        select count(*) from published.funnel_points as f
        inner join published.metric_values as v
            on (v.metric_id, v.org_code, v.period_type, v.period_start)
            = (f.metric_id, f.org_code, f.period_type, f.period_start)
            and v.org_view = 'current' and v.org_level in ('trust', 'local_authority')
        where f.is_compared and v.is_suppressed
        """
    ).fetchone()
    assert funnel_suppressed == 0
