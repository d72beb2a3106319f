"""SPC charts, funnel plots and alerts for every metric and trust, from metric values and the catalogue.

The statistics are `nqs.stats`' (the same functions as `nqs spc` and `nqs funnel`), run once per metric
for SPC (every trust's series at once, as facets) and once per metric and period for funnels.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl

from nqs.benchmarking.alerts import alerts_table
from nqs.benchmarking.periods import is_complete_period, period_end
from nqs.benchmarking.schema import ALL_UNITS, UNIT_LEVELS, benchmarking_tables
from nqs.benchmarking.text import (
    OUTLIER_LABELS,
    assurance_label,
    period_label,
    variation_label,
)
from nqs.stats import FUNNEL_COLUMNS, StatsInputError, funnel, orient_outliers, spc
from nqs.stats.funnel import NORMAL_TYPES

#: SPC limits come from each series' first 12 compared months (its baseline year) and are then fixed, as
#: Making Data Count advises, so that a sustained change after the baseline shows as a special cause
#: instead of moving the limits with it. A series shorter than this gets limits from all its months.
BASELINE_MONTHS = 12
#: A funnel needs a few trusts to estimate a national value and its dispersion.
MIN_FUNNEL_UNITS = 5
#: Trusts are compared with trusts of their own type (acute, mental health, community, ambulance,
#: specialist), as NHS England's organisation patient safety incident reports compared each trust with
#: its cluster: a mental health trust's incidents per bed day, an ambulance trust's sickness absence,
#: differ from an acute trust's by what the trust does, not by how well. Every funnel of numerators and
#: denominators is drawn per type, around the type's own value; a type with fewer than MIN_FUNNEL_UNITS
#: trusts compared has no funnel. Means and medians are centred on England's value and spread (the
#: warehouse has no median of a type's observations), so all their trusts form one group (ALL_UNITS), as
#: do local authorities, which have no type.
COMPARISON_GROUP = "trust_type"
#: How the between-trust variance tau² of an overdispersed funnel is estimated: so that the trusts'
#: winsorised (or truncated) z-scores, tau² added to their variance, are as spread as standard normal
#: ones (`nqs.stats.funnel.paule_mandel`). FunnelPlotR's DerSimonian-Laird from the winsorised phi
#: understates tau² by about a third, so where trusts genuinely vary (staff sickness, waiting times) it
#: flagged twice the nominal share of trusts with no real difference beyond the 95% limit.
TAU2_METHOD = "paule-mandel"
#: The values a metric can take, by its catalogue `unit`: SPC limits are clamped to them (`spc(bounds=)`),
#: so no process limit is drawn below 0 for a share, a rate or a count, nor above 1 for a share. A mean,
#: a median or a gap can be negative (an Oxford score lost, a gap in the other direction): no bound.
UNIT_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "proportion": (0.0, 1.0),
    "rate_per_1000": (0.0, None),
    "ratio": (0.0, None),
    "standardised_ratio": (0.0, None),
    "count": (0.0, None),
}


@dataclass(frozen=True)
class MetricDefinition:
    """What the benchmarking needs from one row of metric_catalogue (marts or published)."""

    metric_id: str
    title: str
    unit: str
    unit_multiplier: float
    improvement_direction: str
    target: float | None
    red_line: float | None
    min_denominator: float
    funnel_type: str
    overdispersion_method: str
    #: the latest month whose figures no longer change (its follow-up is complete), if known
    latest_complete_month: dt.date | None = None

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The range of values the metric can take (`UNIT_BOUNDS`), (None, None) for no bound."""
        return UNIT_BOUNDS.get(self.unit, (None, None))

    @classmethod
    def from_row(cls, row: dict) -> MetricDefinition:
        def number(value) -> float | None:
            return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)

        return cls(
            metric_id=row["metric_id"],
            title=row["title"],
            unit=row["unit"],
            unit_multiplier=number(row.get("unit_multiplier")) or 1.0,
            improvement_direction=row["improvement_direction"],
            target=number(row.get("target")),
            red_line=number(row.get("red_line")),
            min_denominator=number(row.get("min_denominator")) or 0.0,
            funnel_type=row.get("funnel_type") or "none",
            overdispersion_method=row.get("overdispersion_method") or "none",
            latest_complete_month=row.get("latest_complete_month"),
        )


def metric_definitions(catalogue: pl.DataFrame) -> list[MetricDefinition]:
    return [MetricDefinition.from_row(row) for row in catalogue.sort("metric_id").iter_rows(named=True)]


@dataclass
class BenchmarkingResult:
    tables: dict[str, pl.DataFrame]
    #: problems a person should know about (a funnel that could not be drawn), one line each
    notes: list[str]


def build_benchmarking(
    values: pl.DataFrame, catalogue: pl.DataFrame, organisations: pl.DataFrame | None = None
) -> BenchmarkingResult:
    """All four tables. `values` is metric_values of marts or published (any levels and period
    types: trust months, and trust financial years where present, are used; England's rows give a
    mean's or median's national value and standard deviation), `catalogue` its metric_catalogue (with
    latest_complete_month, if known), `organisations` org_code, org_name and trust_type (optional;
    without trust types every funnel is of all its units). The units compared are the reporting units
    (`UNIT_LEVELS`): trusts, and local authorities for the metrics they return."""
    metrics = metric_definitions(catalogue)
    names = _org_names(organisations)
    notes: list[str] = []
    trust = values.filter(pl.col("org_level").is_in(UNIT_LEVELS))
    points = spc_points(trust, metrics)
    summary = spc_summary(points, metrics, names)
    funnels = funnel_points(
        trust,
        metrics,
        notes,
        national=values.filter(pl.col("org_level") == "england"),
        trust_types=_trust_types(organisations),
    )
    alerts = alerts_table(points, funnels, metrics, names, trust.select("org_code", "org_level").unique())
    tables = benchmarking_tables()
    built = {"spc_points": points, "spc_summary": summary, "funnel_points": funnels, "alerts": alerts}
    return BenchmarkingResult(
        tables={name: tables[name].conform(built[name]) for name in tables}, notes=notes
    )


def _trust_types(organisations: pl.DataFrame | None) -> pl.DataFrame | None:
    """org_code and trust_type (the COMPARISON_GROUP column) of each trust, if the organisations carry it."""
    if organisations is None or COMPARISON_GROUP not in organisations.columns:
        return None
    return (
        organisations.filter(pl.col(COMPARISON_GROUP).is_not_null())
        .select("org_code", trust_type=COMPARISON_GROUP)
        .unique("org_code")
    )


def _org_names(organisations: pl.DataFrame | None) -> pl.DataFrame:
    if organisations is None or organisations.height == 0:
        return pl.DataFrame(schema={"org_code": pl.String, "org_name": pl.String})
    return organisations.select("org_code", "org_name").unique("org_code")


def _compared(min_denominator: float) -> pl.Expr:
    return (
        pl.col("value").is_not_null()
        & (pl.col("denominator") > 0)
        & (pl.col("denominator") >= min_denominator)
    )


# ---- SPC ------------------------------------------------------------------------------------------------


def spc_points(trust_values: pl.DataFrame, metrics: list[MetricDefinition]) -> pl.DataFrame:
    """One chart per trust series of each metric: every metric's series in one call of `spc()`."""
    months = trust_values.filter(pl.col("period_type") == "month").select(
        "metric_id", "org_code", "period_start", "numerator", "denominator", "value"
    )
    frames = []
    for metric in metrics:
        rows = months.filter(pl.col("metric_id") == metric.metric_id).with_columns(
            is_compared=_compared(metric.min_denominator)
        )
        if rows.height == 0:
            continue
        compared = rows.filter("is_compared")
        try:
            chart = spc(
                compared,
                date="period_start",
                value="value",
                facet="org_code",
                improvement=metric.improvement_direction,
                target=metric.target,
                fix_after=BASELINE_MONTHS,
                bounds=metric.bounds,
            ).rename({"facet": "org_code", "date": "period_start"})
        except StatsInputError as error:  # a value its unit cannot take: the metric's definition is wrong
            raise StatsInputError(f"metric {metric.metric_id} ({metric.unit}): {error}") from error
        frames.append(rows.join(chart.drop("value"), on=["org_code", "period_start"], how="left"))
    table = benchmarking_tables()["spc_points"]
    if not frames:
        return table.empty()
    return table.conform(pl.concat(frames, how="diagonal_relaxed")).sort(
        "metric_id", "org_code", "period_start"
    )


def spc_summary(
    points: pl.DataFrame, metrics: list[MetricDefinition], org_names: pl.DataFrame
) -> pl.DataFrame:
    """The latest compared month of each trust's chart, with its icons in words."""
    counts = points.group_by("metric_id", "org_code").agg(
        months=pl.col("value").is_not_null().sum().cast(pl.Int64),
        months_compared=pl.col("is_compared").sum().cast(pl.Int64),
    )
    latest = (
        points.filter("is_compared")
        .sort("period_start")
        .group_by("metric_id", "org_code")
        .last()
        .select(
            "metric_id",
            "org_code",
            pl.col("period_start").alias("latest_period"),
            pl.col("value").alias("latest_value"),
            "mean",
            "lpl",
            "upl",
            pl.col("point_type").alias("latest_point_type"),
            pl.col("special_cause_label").alias("latest_special_cause_label"),
            "variation_icon",
            "assurance_type",
            "short_group_warning",
        )
    )
    catalogue = pl.DataFrame(
        {
            "metric_id": [m.metric_id for m in metrics],
            "metric_title": [m.title for m in metrics],
            "target": [m.target for m in metrics],
            "improvement_direction": [m.improvement_direction for m in metrics],
            "min_denominator": [m.min_denominator for m in metrics],
        },
        schema_overrides={"target": pl.Float64},
    )
    summary = (
        counts.join(latest, on=["metric_id", "org_code"], how="left")
        .join(catalogue, on="metric_id", how="left")
        .join(org_names, on="org_code", how="left")
    )
    labels = [
        (
            variation_label(row["variation_icon"], row["months_compared"], row["min_denominator"]),
            assurance_label(row["assurance_type"], row["target"], row["improvement_direction"])
            if row["months_compared"]
            else "Not assessed",
        )
        for row in summary.iter_rows(named=True)
    ]
    summary = summary.with_columns(
        variation_label=pl.Series([v for v, _ in labels], dtype=pl.String),
        assurance_label=pl.Series([a for _, a in labels], dtype=pl.String),
    )
    return benchmarking_tables()["spc_summary"].conform(summary).sort("metric_id", "org_code")


# ---- funnels --------------------------------------------------------------------------------------------


def financial_year_start() -> pl.Expr:
    """1 April of the NHS financial year a period_start falls in."""
    year = pl.col("period_start").dt.year()
    start_year = pl.when(pl.col("period_start").dt.month() >= 4).then(year).otherwise(year - 1)
    return pl.date(start_year, 4, 1)


#: metric_values columns a funnel of a mean or median reads besides numerator and denominator
SPREAD_COLUMNS = ("value", "standard_error", "median_interpolated")


def funnel_inputs(trust_values: pl.DataFrame, metric_id: str) -> pl.DataFrame:
    """Trust numerators and denominators (and a mean's or median's value and standard error) per month
    and per financial year.

    Financial years are metric_values' own financial_year rows when it has them; otherwise the months
    summed by financial year (a ratio of additive counts; a mean or median always has its own rows)."""
    rows = _with_spread(trust_values.filter(pl.col("metric_id") == metric_id))
    columns = ["org_code", "period_type", "period_start", "numerator", "denominator", *SPREAD_COLUMNS]
    months = rows.filter(pl.col("period_type") == "month").select(columns)
    years = rows.filter(pl.col("period_type") == "financial_year").select(columns)
    if years.height == 0 and months.height:
        years = (
            months.group_by("org_code", financial_year_start().alias("period_start"))
            .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
            .with_columns(period_type=pl.lit("financial_year"))
            .with_columns([pl.lit(None, dtype=pl.Float64).alias(c) for c in SPREAD_COLUMNS])
            .select(columns)
        )
    return pl.concat([months, years])


def _with_spread(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with the spread columns, null where metric_values has none (older warehouses)."""
    missing = [c for c in SPREAD_COLUMNS if c not in frame.columns]
    return frame.with_columns([pl.lit(None, dtype=pl.Float64).alias(c) for c in missing])


def latest_complete_periods(metric: MetricDefinition, periods: pl.DataFrame) -> pl.DataFrame:
    """period_type, period_start and is_latest_complete_period for each distinct period: per period
    type, the latest period ending in the metric's latest complete month or before (as
    published.metric_values marks it), so a period whose follow-up is not complete is never taken as
    the latest. All false when the latest complete month is not known."""
    distinct = periods.select("period_type", "period_start").unique()
    month = metric.latest_complete_month
    if month is None:
        return distinct.with_columns(is_latest_complete_period=pl.lit(False))
    ends = distinct.with_columns(period_end=period_end())
    complete = ends.filter(is_complete_period(pl.lit(month)))
    latest = complete.group_by("period_type").agg(pl.col("period_start").max().alias("latest"))
    return (
        ends.join(latest, on="period_type", how="left")
        .with_columns(is_latest_complete_period=(pl.col("period_start") == pl.col("latest")).fill_null(False))
        .select("period_type", "period_start", "is_latest_complete_period")
    )


def funnel_points(
    trust_values: pl.DataFrame,
    metrics: list[MetricDefinition],
    notes: list[str] | None = None,
    national: pl.DataFrame | None = None,
    trust_types: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One funnel per metric, period (month, financial year) and trust type (`trust_types`: org_code,
    trust_type; without it, or for a mean or median, one group of all trusts) over the trusts that
    reach the metric's minimum denominator. A mean's or median's funnel is centred on the national
    value, with the national standard deviation, from `national` (England's metric_values rows)."""
    notes = notes if notes is not None else []
    frames = []
    for metric in metrics:
        if metric.funnel_type == "none":
            continue
        inputs = funnel_inputs(trust_values, metric.metric_id)
        if inputs.height == 0:
            continue
        if trust_types is None or metric.funnel_type in NORMAL_TYPES:
            inputs = inputs.with_columns(comparison_group=pl.lit(ALL_UNITS))
        else:
            inputs = inputs.join(trust_types, on="org_code", how="left").select(
                pl.exclude("trust_type"), comparison_group=pl.col("trust_type").fill_null(ALL_UNITS)
            )
        centres = _national_spread(national, metric) if metric.funnel_type in NORMAL_TYPES else {}
        charts = []
        for (period_type, period_start), period in inputs.partition_by(
            "period_type", "period_start", as_dict=True, maintain_order=True
        ).items():
            centre = centres.get((period_type, period_start), (None, None))
            charts.append(_one_funnel(metric, period_type, period_start, period, notes, centre))
        result = pl.concat(charts, how="diagonal_relaxed")
        result = result.join(
            latest_complete_periods(metric, result), on=["period_type", "period_start"], how="left"
        )
        frames.append(_orient(result, metric).with_columns(metric_id=pl.lit(metric.metric_id)))
    table = benchmarking_tables()["funnel_points"]
    if not frames:
        return table.empty()
    return table.conform(pl.concat(frames, how="diagonal_relaxed")).sort(
        "metric_id", "period_type", "period_start", "org_code"
    )


def _national_spread(
    national: pl.DataFrame | None, metric: MetricDefinition
) -> dict[tuple[str, dt.date], tuple[float | None, float | None]]:
    """(national value, standard deviation of one observation) per period of a mean or median, on the
    funnel's scale (unit multiplier removed), from England's value, standard error and number of
    observations: sd = standard error x sqrt(n). A median's value is its interpolated median."""
    if national is None or national.height == 0:
        return {}
    rows = _with_spread(national.filter(pl.col("metric_id") == metric.metric_id))
    centre = "median_interpolated" if metric.funnel_type == "median" else "value"
    out = {}
    for row in rows.iter_rows(named=True):
        value, se, n = row[centre], row["standard_error"], row["denominator"]
        usable = value is not None and se is not None and n is not None and se > 0 and n > 0
        out[(row["period_type"], row["period_start"])] = (
            (value / metric.unit_multiplier, se * math.sqrt(n) / metric.unit_multiplier)
            if usable
            else (None, None)
        )
    return out


def _one_funnel(
    metric: MetricDefinition,
    period_type: str,
    period_start,
    period: pl.DataFrame,
    notes: list[str],
    centre: tuple[float | None, float | None] = (None, None),
) -> pl.DataFrame:
    label = period_label(period_start, period_type)
    eligible = (pl.col("denominator") > 0) & (pl.col("denominator") >= metric.min_denominator)
    normal = metric.funnel_type in NORMAL_TYPES
    # a mean's or median's own value as its funnel compares it (a median's interpolated, since a median
    # of whole numbers moves in whole steps), in the metric's unit
    own = pl.col("median_interpolated") if metric.funnel_type == "median" else pl.col("value")
    rows = period.with_columns(period_label=pl.lit(label), own_value=own if normal else pl.lit(None))
    compared = rows.filter(eligible)
    if normal:
        compared = compared.with_columns(compared_value=pl.col("own_value") / metric.unit_multiplier).filter(
            pl.col("compared_value").is_not_null()
        )
    results = []
    for (group,), members in compared.partition_by(
        "comparison_group", as_dict=True, maintain_order=True
    ).items():
        one = _group_funnel(
            metric, members, notes, centre, label if group == ALL_UNITS else f"{label} {group}"
        )
        if one is not None:
            results.append(one.with_columns(comparison_group=pl.lit(group)))
    result = pl.concat(results) if results else None
    rows = rows.drop(SPREAD_COLUMNS)
    if result is None:
        raw = pl.when(pl.col("denominator") > 0).then(pl.col("numerator") / pl.col("denominator"))
        schema = benchmarking_tables()["funnel_points"].polars_schema
        statistics = [c for c in FUNNEL_COLUMNS if c not in ("group", "numerator", "denominator", "value")]
        return rows.with_columns(
            [pl.lit(None, dtype=schema[c]).alias(c) for c in statistics],
            value=pl.col("own_value") if normal else raw * metric.unit_multiplier,
            is_compared=pl.lit(False),
            units=pl.lit(0, dtype=pl.Int64),
        )
    scaled = ("value", "lcl95", "ucl95", "lcl998", "ucl998", "target", "sd")
    result = result.rename({"group": "org_code"}).with_columns(
        is_compared=pl.lit(True), units=pl.len().over("comparison_group").cast(pl.Int64)
    )
    if metric.funnel_type == "median":
        result = result.drop("numerator").join(
            compared.select("org_code", "numerator"), on="org_code", how="left"
        )
    group_units = result.group_by("comparison_group").agg(pl.col("units").first())
    others = (
        rows.join(result.select("org_code"), on="org_code", how="anti")
        .join(group_units, on="comparison_group", how="left")
        .with_columns(
            value=pl.col("own_value") / metric.unit_multiplier
            if normal
            else pl.when(pl.col("denominator") > 0).then(pl.col("numerator") / pl.col("denominator")),
            is_compared=pl.lit(False),
            units=pl.col("units").fill_null(0),
        )
    )
    kept = rows.select("org_code", "period_type", "period_start", "period_label").join(
        result, on="org_code", how="inner"
    )
    return pl.concat([kept, others], how="diagonal_relaxed").with_columns(
        [pl.col(c) * metric.unit_multiplier for c in scaled]
    )


def _group_funnel(
    metric: MetricDefinition,
    compared: pl.DataFrame,
    notes: list[str],
    centre: tuple[float | None, float | None],
    label: str,
) -> pl.DataFrame | None:
    """The funnel of one comparison group's compared trusts, or None (too few trusts, or a note why)."""
    normal = metric.funnel_type in NORMAL_TYPES
    target, sd = centre
    if compared.height < MIN_FUNNEL_UNITS:
        return None
    if normal and sd is None:
        notes.append(f"{metric.metric_id} {label}: no funnel: no national value and standard error")
        return None
    options = (
        {"target": target, "sd": sd}
        | ({"value": "compared_value"} if metric.funnel_type == "median" else {"numerator": "numerator"})
        if normal
        else {"numerator": "numerator"}
    )
    try:
        return funnel(
            compared,
            denominator="denominator",
            group="org_code",
            data_type=metric.funnel_type,
            method="shmi" if metric.overdispersion_method == "shmi" else "spiegelhalter",
            overdispersion=metric.overdispersion_method != "none",
            tau2_method=TAU2_METHOD,
            **options,
        )
    except StatsInputError as error:
        notes.append(f"{metric.metric_id} {label}: no funnel: {error}")
        return None


def _orient(result: pl.DataFrame, metric: MetricDefinition) -> pl.DataFrame:
    """Add the outlier status judged by the improvement direction, and in words."""
    compared = result.filter("is_compared")
    if compared.height:
        judged = orient_outliers(compared, metric.improvement_direction).select(
            "org_code", "period_type", "period_start", pl.col("outlier_status").alias("outlier_judgement")
        )
        result = result.join(judged, on=["org_code", "period_type", "period_start"], how="left")
    else:
        result = result.with_columns(outlier_judgement=pl.lit(None, dtype=pl.String))
    return result.with_columns(
        outlier_label=pl.col("outlier_judgement").replace_strict(OUTLIER_LABELS, default=None)
    )


__all__ = [
    "BenchmarkingResult",
    "MetricDefinition",
    "build_benchmarking",
    "funnel_points",
    "metric_definitions",
    "spc_points",
    "spc_summary",
]
