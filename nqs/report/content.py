"""What the board report says, read from schema `published` only: figures under disclosure control.

The report is national (the National Quality Board's view): each metric's headline is England's value,
and its SPC chart is England's monthly series, since the question a national board asks of a chart is
whether the country is changing; trusts are compared with one another in the funnel plot and named in
the alerts. England's figures are not altered by disclosure control; regions' are, so the table of
regions shows `*` where a figure is suppressed. England's SPC chart is computed here, from the
published England months, by the benchmarking's own functions (`nqs.benchmarking`), as the published
trust charts are.

Periods: each metric is reported at its latest complete month (follow-up finished: the catalogue's
`latest_complete_month`) on or before the report's month, and its funnel at the latest financial year
that ended on or before that month, so no figure in the report can still change. A quarterly or annual
metric (`months_per_period` 3 or 12) is reported at its latest quarter or financial year ended by then,
whose row sits on the period's first month.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields

import duckdb
import polars as pl

from contracts.sources import latest_period_ended_by
from nqs.benchmarking.build import MetricDefinition, spc_points, spc_summary
from nqs.benchmarking.text import financial_year_label
from nqs.benchmarking.warehouse import FIGURES, PUBLISHED_SCHEMA
from nqs.catalogue import load_strategy
from nqs.charts.data import ChartError, FunnelPeriod, SpcSeries, funnel_period, missing_tables

SCHEMA = PUBLISHED_SCHEMA
#: the published figures of a metric_values row, counts and amounts alike (the benchmarking's own rule)
_NUMERATOR, _DENOMINATOR = FIGURES[SCHEMA]
#: Tables the report cannot do without; `release` and `release_sources` are read when present.
REQUIRED_TABLES = (
    "metric_values",
    "metric_catalogue",
    "priorities",
    "priority_coverage",
    "metric_lineage",
    "data_quality_results",
    "dim_organisations",
    "funnel_points",
    "alerts",
)
SEVERITY_ORDER = {"high": 0, "medium": 1}


class ReportError(ValueError):
    """A report that cannot be written; the message is one line for the person who asked for it."""


@dataclass(frozen=True)
class Release:
    release_id: str
    built_at: dt.datetime | None
    strategy_version: str | None


@dataclass(frozen=True)
class Figure:
    """One organisation's figures for one period, as published (None where suppressed or absent).
    A numerator or denominator that is not a count (an expected count, a sum of minutes) is published
    in its `_amount` column: the report shows whichever is there."""

    org_code: str
    org_name: str
    numerator: float | None
    denominator: float | None
    value: float | None
    ci_lower: float | None
    ci_upper: float | None
    is_suppressed: bool
    value_display: str | None


@dataclass
class MetricSection:
    metric: MetricDefinition
    description: str
    role: str
    rationale: str
    latest_complete_month: dt.date | None
    #: the month this metric is reported at (a quarter's or year's first month, for a quarterly or
    #: annual metric); None when it has no complete month by the report's month
    month: dt.date | None
    england: Figure | None
    regions: list[Figure]
    spc: SpcSeries | None
    spc_note: str | None
    funnel: FunnelPeriod | None
    funnel_note: str | None
    #: alerts active at the metric's month, worst first
    alerts: list[dict]
    #: the priority whose section shows this metric in full, when it is not this one
    shown_under: str | None = None
    #: for a gap, the unit of the metric it is the gap of (a gap of proportions is in percentage points)
    base_unit: str | None = None
    #: the last month the period reported covers (`month` itself for a monthly metric)
    through: dt.date | None = None


@dataclass
class SourceState:
    """The data-quality state of one source table behind a priority's metrics."""

    source: str
    table_name: str
    contract: str
    contract_version: str
    latest_month: dt.date | None
    files: int
    files_refused: int
    checks_latest: int
    checks_failed_latest: int
    worst_rows_failed: int | None
    worst_check: str | None
    worst_failure_rate: float | None


@dataclass
class PrioritySection:
    priority_id: str
    title: str
    description: str
    level: str
    domain: str
    #: titles from the domain down to this priority
    path: list[str]
    coverage: dict
    metrics: list[MetricSection] = field(default_factory=list)
    sources: list[SourceState] = field(default_factory=list)


@dataclass
class ReportContent:
    release: Release | None
    strategy_version: str
    period: dt.date
    priorities: list[PrioritySection]


def _query(db: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    return db.sql(sql, params=params).pl()


def _table(name: str) -> str:
    return f"{SCHEMA}.{name}"


def check_tables(db: duckdb.DuckDBPyConnection, where: str) -> set[str]:
    """The tables of schema published; ReportError naming the first required one missing."""
    tables, missing = missing_tables(db, SCHEMA, REQUIRED_TABLES)
    if missing:
        raise ReportError(f"{where} has no {SCHEMA}.{missing[0]}: rebuild it with `nqs build`")
    return tables


def read_release(db: duckdb.DuckDBPyConnection, tables: set[str]) -> Release | None:
    """The release the warehouse is, from published.release when the file is a release."""
    if "release" not in tables:
        return None
    frame = db.sql(f"select * from {_table('release')}").pl()  # noqa: S608 - fixed names
    if frame.height == 0:
        return None
    row = frame.row(0, named=True)
    return Release(
        release_id=str(row["release_id"]),
        built_at=row.get("built_at"),
        strategy_version=row.get("strategy_version"),
    )


def parse_month(text: str) -> dt.date:
    """The first day of a month written YYYY-MM; ReportError otherwise."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ReportError(f"period '{text}' is not a month (YYYY-MM, e.g. 2026-03)")
    return dt.date(int(match[1]), int(match[2]), 1)


def financial_year_ended_by(month: dt.date) -> dt.date:
    """1 April of the latest NHS financial year whose last month (March) is on or before `month`."""
    last_march = month.year if month.month >= 3 else month.year - 1
    return dt.date(last_march - 1, 4, 1)


def strategy(db: duckdb.DuckDBPyConnection, release: Release | None) -> str:
    """The strategy version the report follows: the active one of published.priorities."""
    rows = db.execute(
        f"select distinct strategy_version from {_table('priorities')} where is_active_strategy"  # noqa: S608
    ).fetchall()
    if len(rows) != 1:
        raise ReportError(f"{SCHEMA}.priorities has {len(rows)} active strategy versions, not one")
    version = rows[0][0]
    if release is not None and release.strategy_version not in (None, version):
        raise ReportError(
            f"release {release.release_id} records strategy version {release.strategy_version} but its "
            f"priorities are of {version}"
        )
    return version


def seed_order(version: str) -> dict[str, int]:
    """Each priority's position in the strategy as written (seeds/priorities.csv, through
    `nqs.catalogue`): the published tables carry no order, and a board reads Safe before Access. Empty
    when the seeds no longer hold the version (an old release): the report then orders by title."""
    try:
        priorities = load_strategy(version=version).priorities
    except ValueError:
        return {}
    return {p.priority_id: position for position, p in enumerate(priorities)}


def ordered_priorities(priorities: pl.DataFrame, order: dict[str, int]) -> list[dict]:
    """The priority tree depth first: each priority followed by the priorities under it, siblings in
    the strategy's order (`order`), then by title."""
    children: dict[str | None, list[dict]] = {}
    rows = sorted(
        priorities.iter_rows(named=True), key=lambda r: (order.get(r["priority_id"], len(order)), r["title"])
    )
    for row in rows:
        children.setdefault(row["parent_priority_id"], []).append(row)
    ordered: list[dict] = []

    def walk(parent: str | None, path: list[str], ancestors: list[str]) -> None:
        for row in children.get(parent, []):
            ordered.append({**row, "path": [*path, row["title"]], "ancestors": ancestors})
            walk(row["priority_id"], [*path, row["title"]], [*ancestors, row["priority_id"]])

    walk(None, [], [])
    return ordered


def report_period(catalogue: pl.DataFrame, period: str | None) -> dt.date:
    """The report's month: the one asked for, or the latest complete month of any metric."""
    months = catalogue["latest_complete_month"].drop_nulls()
    if months.len() == 0:
        raise ReportError("no metric has a complete month yet: nothing to report")
    latest = months.max()
    if period is None:
        return latest
    month = parse_month(period)
    if month > latest:
        raise ReportError(f"period {month:%Y-%m} is after the latest complete month, {latest:%Y-%m}")
    return month


def _figure(row: dict) -> Figure:
    return Figure(**{f.name: row[f.name] for f in fields(Figure)})


def _month_figures(
    db: duckdb.DuckDBPyConnection, metric_id: str, month: dt.date
) -> tuple[Figure | None, list[Figure]]:
    """England's and the regions' published figures for one month."""
    rows = _query(
        db,
        f"""
        select org_code, org_name, org_level,
            {_NUMERATOR} as numerator,
            {_DENOMINATOR} as denominator,
            value, ci_lower, ci_upper, is_suppressed, value_display
        from {_table("metric_values")}
        where metric_id = ? and period_type = 'month' and period_start = ? and org_view = 'current'
            and org_level in ('england', 'region')
        order by org_name
        """,  # noqa: S608 - fixed names
        [metric_id, month],
    )
    england = [_figure(row) for row in rows.filter(pl.col("org_level") == "england").iter_rows(named=True)]
    regions = [_figure(row) for row in rows.filter(pl.col("org_level") == "region").iter_rows(named=True)]
    return next(iter(england), None), regions


def _england_spc(
    db: duckdb.DuckDBPyConnection, definition: MetricDefinition, month: dt.date
) -> tuple[SpcSeries | None, str | None]:
    """England's monthly XmR chart up to `month`, from the published England months."""
    values = _query(
        db,
        f"""
        select metric_id, org_code, org_name, period_type, period_start,
            {_NUMERATOR} as numerator,
            {_DENOMINATOR} as denominator,
            value
        from {_table("metric_values")}
        where metric_id = ? and org_level = 'england' and org_view = 'current' and period_type = 'month'
            and period_start <= ?
        order by period_start
        """,  # noqa: S608 - fixed names
        [definition.metric_id, month],
    )
    if values.height == 0:
        return None, "no England months"
    points = spc_points(values.drop("org_name"), [definition])
    if not points["is_compared"].any():
        if values["denominator"].is_null().all():
            return None, "its months have no denominator to chart (a gap between two groups has none)"
        return None, f"no month reaches the minimum denominator of {definition.min_denominator:g}"
    names = values.select("org_code", "org_name").unique()
    summary = spc_summary(points, [definition], names)
    org_code, org_name = names.row(0)
    return SpcSeries(definition, org_code, org_name, points, summary.row(0, named=True)), None


def _funnel(
    db: duckdb.DuckDBPyConnection, definition: MetricDefinition, month: dt.date
) -> tuple[FunnelPeriod | None, str | None]:
    if definition.funnel_type == "none":
        return None, "no funnel plot: trusts are not compared on this measure (its catalogue funnel type)"
    label = financial_year_label(financial_year_ended_by(month))
    try:
        return funnel_period(db, definition.metric_id, label, "financial_year", SCHEMA), None
    except ChartError as error:
        return None, str(error)


def _active_alerts(db: duckdb.DuckDBPyConnection, metric_id: str, month: dt.date) -> list[dict]:
    """Alert episodes raised by `month` and not cleared by then, worst first."""
    frame = _query(
        db,
        f"""
        select *
        from {_table("alerts")}
        where metric_id = ? and first_raised <= ? and (cleared is null or cleared > ?)
        """,  # noqa: S608 - fixed names
        [metric_id, month, month],
    )
    rows = list(frame.iter_rows(named=True))
    rows.sort(key=lambda r: (SEVERITY_ORDER.get(r["severity"], 9), -r["periods"], r["org_name"] or ""))
    return rows


def _sources(
    db: duckdb.DuckDBPyConnection, version: str, priority_id: str, month: dt.date
) -> list[SourceState]:
    """Each source table behind the priority's metrics: contract, files delivered up to the report's
    month, files refused, and the checks of its latest file."""
    frame = _query(
        db,
        f"""
        with tables as (
            select distinct source_name, table_name, contract, contract_version
            from {_table("metric_lineage")}
            where strategy_version = ? and priority_id = ?
        ),
        results as (
            select r.*
            from {_table("data_quality_results")} as r
            inner join tables as t on r.source = t.source_name and r.table_name = t.table_name
            where r.file_period is null or r.file_period <= ?
        ),
        latest as (
            select source, table_name, max(file_period) as latest_month
            from results
            where not is_critical_failure
            group by all
        ),
        latest_checks as (
            select
                r.source,
                r.table_name,
                count(*) as checks_latest,
                count(*) filter (where r.status = 'failed') as checks_failed_latest,
                arg_max(r.rows_failed, r.failure_rate)
                    filter (where r.status = 'failed') as worst_rows_failed,
                arg_max(r.check_name || coalesce(' on ' || r.column_name, ''), r.failure_rate)
                    filter (where r.status = 'failed') as worst_check,
                max(r.failure_rate) filter (where r.status = 'failed') as worst_failure_rate
            from results as r
            inner join latest as l
                on r.source = l.source and r.table_name = l.table_name
                and r.file_period is not distinct from l.latest_month
            group by all
        ),
        files as (
            select
                source,
                table_name,
                count(distinct source_file) as files,
                count(distinct source_file) filter (where is_critical_failure) as files_refused
            from results
            group by all
        )
        select
            t.source_name as source,
            t.table_name,
            t.contract,
            t.contract_version,
            l.latest_month,
            coalesce(f.files, 0) as files,
            coalesce(f.files_refused, 0) as files_refused,
            coalesce(c.checks_latest, 0) as checks_latest,
            coalesce(c.checks_failed_latest, 0) as checks_failed_latest,
            c.worst_rows_failed,
            c.worst_check,
            c.worst_failure_rate
        from tables as t
        left join latest as l on t.source_name = l.source and t.table_name = l.table_name
        left join files as f on t.source_name = f.source and t.table_name = f.table_name
        left join latest_checks as c on t.source_name = c.source and t.table_name = c.table_name
        order by t.source_name, t.table_name
        """,  # noqa: S608 - fixed names
        [version, priority_id, month],
    )
    return [SourceState(**row) for row in frame.iter_rows(named=True)]


def metric_homes(mapping: pl.DataFrame, order: list[str]) -> dict[str, str]:
    """The priority under which each metric is shown in full: the first, in the report's order, that
    has it as a primary measure, else the first that has it at all; other priorities link to it."""
    position = {priority_id: i for i, priority_id in enumerate(order)}
    links = mapping.filter(pl.col("priority_id").is_in(order)).iter_rows(named=True)
    ranked = sorted(links, key=lambda r: (r["role"] != "primary", position[r["priority_id"]]))
    homes: dict[str, str] = {}
    for link in ranked:
        homes.setdefault(link["metric_id"], link["priority_id"])
    return homes


def read_content(
    db: duckdb.DuckDBPyConnection, where: str, *, priority: str | None, period: str | None
) -> ReportContent:
    """Everything the report shows, for every priority of the active strategy (or the one asked for and
    the priorities under it)."""
    tables = check_tables(db, where)
    release = read_release(db, tables)
    version = strategy(db, release)
    catalogue = db.sql(f"select * from {_table('metric_catalogue')}").pl()  # noqa: S608
    month = report_period(catalogue, period)
    priorities = ordered_priorities(
        _query(db, f"select * from {_table('priorities')} where strategy_version = ?", [version]),
        seed_order(version),
    )
    if priority is not None:
        chosen = [p for p in priorities if priority in (p["priority_id"], *p["ancestors"])]
        if not chosen:
            known = ", ".join(p["priority_id"] for p in priorities)
            raise ReportError(f"unknown priority '{priority}' in strategy {version} (priorities: {known})")
        priorities = chosen
    coverage = {
        row["priority_id"]: row
        for row in _query(
            db,
            f"select * from {_table('priority_coverage')} where strategy_version = ?",
            [version],  # noqa: S608
        ).iter_rows(named=True)
    }
    mapping = _query(
        db,
        f"""
        select distinct priority_id, metric_id, role, rationale
        from {_table("metric_lineage")}
        where strategy_version = ?
        order by priority_id, role, metric_id
        """,  # noqa: S608 - fixed names
        [version],
    )
    by_metric = {row["metric_id"]: row for row in catalogue.iter_rows(named=True)}
    sections: list[PrioritySection] = []
    home = metric_homes(mapping, [p["priority_id"] for p in priorities])
    for row in priorities:
        section = PrioritySection(
            priority_id=row["priority_id"],
            title=row["title"],
            description=row["description"],
            level=row["level"],
            domain=row["domain"],
            path=row["path"],
            coverage=coverage.get(row["priority_id"], {}),
        )
        for link in mapping.filter(pl.col("priority_id") == row["priority_id"]).iter_rows(named=True):
            entry = by_metric[link["metric_id"]]
            elsewhere = home[link["metric_id"]] if home[link["metric_id"]] != row["priority_id"] else None
            metric = _metric_section(db, entry, link, month, shown_under=elsewhere)
            metric.base_unit = by_metric.get(entry.get("base_metric_id") or "", {}).get("unit")
            section.metrics.append(metric)
        if section.metrics:
            section.sources = _sources(db, version, row["priority_id"], month)
        sections.append(section)
    return ReportContent(release, version, month, sections)


def _metric_section(
    db: duckdb.DuckDBPyConnection, entry: dict, link: dict, period: dt.date, *, shown_under: str | None
) -> MetricSection:
    definition = MetricDefinition.from_row(entry)
    latest = entry["latest_complete_month"]
    through = None if latest is None else min(latest, period)
    month = None if through is None else latest_period_ended_by(through, entry.get("months_per_period") or 1)
    section = MetricSection(
        metric=definition,
        description=entry["description"],
        role=link["role"],
        rationale=link["rationale"],
        latest_complete_month=latest,
        month=month,
        england=None,
        regions=[],
        spc=None,
        spc_note=None,
        funnel=None,
        funnel_note=None,
        alerts=[],
        shown_under=shown_under,
        through=through,
    )
    if month is None:
        section.spc_note = section.funnel_note = "no complete month yet"
        return section
    section.england, regions = _month_figures(db, definition.metric_id, month)
    if shown_under is not None:  # shown in full under an earlier priority: its headline only
        return section
    section.regions = regions
    section.spc, section.spc_note = _england_spc(db, definition, month)
    section.funnel, section.funnel_note = _funnel(db, definition, through)
    section.alerts = _active_alerts(db, definition.metric_id, month)
    return section
