"""What the charts read from a warehouse: the benchmarking tables, never recomputed.

Every reader takes the schema to read: `published` by default (the disclosure-controlled tables BI
users and the board report read, the only schema of a release's warehouse), `marts` in the build
file, `unrounded` in a release's internal file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from nqs.benchmarking.build import MIN_FUNNEL_UNITS, MetricDefinition
from nqs.benchmarking.schema import ALL_UNITS
from nqs.benchmarking.text import financial_year_label, period_label

#: The schema charts read unless told otherwise.
DEFAULT_SCHEMA = "published"
#: The tables a warehouse needs for charts.
CHART_TABLES = ("metric_catalogue", "dim_organisations", "spc_points", "spc_summary", "funnel_points")


class ChartError(ValueError):
    """A chart that cannot be drawn; the message is one line for the person who asked for it."""


@dataclass(frozen=True)
class SpcSeries:
    metric: MetricDefinition
    org_code: str
    org_name: str | None
    points: pl.DataFrame  # spc_points rows of the series, by month
    summary: dict  # the spc_summary row


@dataclass(frozen=True)
class FunnelPeriod:
    metric: MetricDefinition
    period_type: str
    period_start: dt.date
    period_label: str
    units: pl.DataFrame  # funnel_points rows of the period and comparison group, with org_name
    #: the trusts compared in this funnel: a trust type, or all
    comparison_group: str = ALL_UNITS

    @property
    def unit_noun(self) -> str:
        """What the funnel compares, in the plural: councils for a local authority measure, else trusts."""
        return unit_noun(self.units)


def unit_noun(units: pl.DataFrame) -> str:
    """Councils if every unit of a funnel (with org_level) is a local authority, else trusts."""
    levels = set(units["org_level"].drop_nulls()) if "org_level" in units.columns else set()
    return "councils" if levels == {"local_authority"} else "trusts"


def _identifier(name: str) -> str:
    """A schema name as a quoted SQL identifier (schemas are named by people: --schema)."""
    return '"' + name.replace('"', '""') + '"'


def missing_tables(
    db: duckdb.DuckDBPyConnection, schema: str, needed: tuple[str, ...]
) -> tuple[set[str], list[str]]:
    """(the tables of `schema`, those of `needed` it lacks, in the order needed)."""
    tables = {
        name
        for (name,) in db.execute(
            "select table_name from duckdb_tables() where schema_name = ?", [schema]
        ).fetchall()
    }
    return tables, [name for name in needed if name not in tables]


def connect(path: Path, schema: str = DEFAULT_SCHEMA) -> duckdb.DuckDBPyConnection:
    """A read-only connection to `path`, refused with one line unless `schema` holds the chart tables."""
    if not path.is_file():
        raise ChartError(f"warehouse not found: {path} (build it with `nqs build`, or pass --warehouse)")
    db = duckdb.connect(str(path), read_only=True)
    _, missing = missing_tables(db, schema, CHART_TABLES)
    if missing:
        db.close()
        raise ChartError(f"warehouse {path} has no {schema}.{missing[0]}: rebuild it with `nqs build`")
    return db


def metric(db: duckdb.DuckDBPyConnection, metric_id: str, schema: str = DEFAULT_SCHEMA) -> MetricDefinition:
    catalogue = db.sql(f"select * from {_identifier(schema)}.metric_catalogue").pl()
    found = catalogue.filter(pl.col("metric_id") == metric_id)
    if found.height == 0:
        known = ", ".join(sorted(catalogue["metric_id"]))
        raise ChartError(f"unknown metric '{metric_id}' (metrics: {known})")
    return MetricDefinition.from_row(found.row(0, named=True))


def org_name(db: duckdb.DuckDBPyConnection, org_code: str, schema: str = DEFAULT_SCHEMA) -> str | None:
    rows = db.execute(
        f"select org_name from {_identifier(schema)}.dim_organisations where org_code = ?", [org_code]
    ).fetchall()
    return rows[0][0] if rows else None


def spc_series(
    db: duckdb.DuckDBPyConnection, metric_id: str, org_code: str, schema: str = DEFAULT_SCHEMA
) -> SpcSeries:
    definition = metric(db, metric_id, schema)
    tables = _identifier(schema)
    points = db.sql(
        f"select * from {tables}.spc_points where metric_id = ? and org_code = ? order by period_start",
        params=[metric_id, org_code],
    ).pl()
    if points.height == 0:
        known = db.execute(
            f"select 1 from {tables}.dim_organisations where org_code = ?", [org_code]
        ).fetchall()
        if not known:
            raise ChartError(f"unknown organisation '{org_code}'")
        raise ChartError(f"organisation '{org_code}' has no monthly values of metric '{metric_id}'")
    if not points["is_compared"].any():
        raise ChartError(
            f"organisation '{org_code}' has no month of metric '{metric_id}' with a denominator of at least "
            f"{definition.min_denominator:g}, so it has no SPC chart"
        )
    summary = db.sql(
        f"select * from {tables}.spc_summary where metric_id = ? and org_code = ?",
        params=[metric_id, org_code],
    ).pl()
    return SpcSeries(
        metric=definition,
        org_code=org_code,
        org_name=org_name(db, org_code, schema),
        points=points,
        summary=summary.row(0, named=True),
    )


def parse_period(text: str, period_type: str | None = None) -> tuple[str, dt.date]:
    """(period_type, period_start) from 2026-03 (a month), 2025-26 (a financial year) or 2026-03-01."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-01)?", text)
    if not match:
        raise ChartError(f"period '{text}' is not a month (YYYY-MM) or a financial year (YYYY-YY)")
    year, second = int(match[1]), int(match[2])
    is_year = second == (year + 1) % 100 and not 1 <= second <= 12
    if period_type == "financial_year" or (period_type is None and is_year):
        if second != (year + 1) % 100:
            raise ChartError(f"period '{text}' is not a financial year (YYYY-YY, e.g. 2025-26)")
        return "financial_year", dt.date(year, 4, 1)
    if not 1 <= second <= 12:
        raise ChartError(f"period '{text}' is not a month (YYYY-MM) or a financial year (YYYY-YY)")
    return "month", dt.date(year, second, 1)


def funnel_period(
    db: duckdb.DuckDBPyConnection,
    metric_id: str,
    period: str,
    period_type: str | None = None,
    schema: str = DEFAULT_SCHEMA,
    group: str | None = None,
) -> FunnelPeriod:
    """The funnel of one metric, period and comparison group (`group`: a trust type; by default the
    group with the most trusts compared)."""
    definition = metric(db, metric_id, schema)
    tables = _identifier(schema)
    if definition.funnel_type == "none":
        raise ChartError(f"metric '{metric_id}' has no funnel plot (its catalogue funnel_type is none)")
    kind, start = parse_period(period, period_type)
    units = db.sql(
        f"""
        select f.*, o.org_name, o.org_level
        from {tables}.funnel_points as f
        left join {tables}.dim_organisations as o on f.org_code = o.org_code
        where f.metric_id = ? and f.period_type = ? and f.period_start = ?
        order by f.org_code
        """,
        params=[metric_id, kind, start],
    ).pl()
    label = financial_year_label(start) if kind == "financial_year" else period_label(start, kind)
    if units.height == 0:
        available = db.execute(
            f"select distinct period_start from {tables}.funnel_points where metric_id = ? "
            "and period_type = ? order by 1",
            [metric_id, kind],
        ).fetchall()
        shown = [financial_year_label(d) if kind == "financial_year" else f"{d:%Y-%m}" for (d,) in available]
        span = f"{shown[0]} to {shown[-1]}" if shown else "none"
        raise ChartError(f"no {kind.replace('_', ' ')} {label} for metric '{metric_id}' (available: {span})")
    if not units["is_compared"].any():
        raise ChartError(
            f"metric '{metric_id}' has no funnel for {label}: fewer than {MIN_FUNNEL_UNITS} "
            f"{unit_noun(units)} reach its minimum denominator of {definition.min_denominator:g}"
        )
    groups = (
        units.filter("is_compared")
        .group_by("comparison_group")
        .len()
        .sort("len", "comparison_group", descending=[True, False])
    )
    chosen = group or groups["comparison_group"][0]
    if chosen not in groups["comparison_group"].to_list():
        raise ChartError(
            f"metric '{metric_id}' has no funnel of {chosen} trusts for {label} "
            f"(funnels: {', '.join(groups['comparison_group'].to_list())})"
        )
    units = units.filter(pl.col("comparison_group") == chosen)
    return FunnelPeriod(definition, kind, start, label, units, chosen)
