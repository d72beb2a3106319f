"""Alerts with their history: red-line breaches, SPC special causes of concern and funnel outliers.

History is derived from the data, so a rebuild gives the same answer: for each metric, organisation and
kind of alert, the periods in which the condition could be assessed are taken in order, and each run of
consecutive assessed periods in which it held is one episode. An episode is cleared by the first
assessed period after it in which the condition did not hold, and active while there is none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from nqs.benchmarking.periods import is_complete_period
from nqs.benchmarking.schema import ALL_UNITS, benchmarking_tables
from nqs.benchmarking.text import format_value, period_label, period_noun, sentence_title

if TYPE_CHECKING:
    from nqs.benchmarking.build import MetricDefinition

KINDS = ("red_line_breach", "spc_concern", "funnel_outlier")
SEVERITIES = {2: "high", 1: "medium"}
EPISODE_KEY = ["metric_id", "org_code", "kind", "period_type"]

#: the columns every assessed period carries into an episode
CONDITION_COLUMNS = {
    "metric_id": pl.String,
    "org_code": pl.String,
    "kind": pl.String,
    "period_type": pl.String,
    "period_start": pl.Date,
    "held": pl.Boolean,
    "severity_rank": pl.Int64,
    "signal": pl.String,
    "side": pl.String,
    "value": pl.Float64,
    "threshold": pl.Float64,
    "national": pl.Float64,
    # the trusts a funnel outlier is compared with, in words ("for acute trusts", "nationally")
    "compared_with": pl.String,
}


def _worse_than(value: pl.Expr, line: float, improvement: str) -> pl.Expr:
    return value < line if improvement == "increase" else value > line


def red_line_conditions(points: pl.DataFrame, metrics: list[MetricDefinition]) -> pl.DataFrame:
    """Every compared trust month of a metric with a red line: whether it was worse than the line."""
    frames = []
    for m in metrics:
        if m.red_line is None or m.improvement_direction not in ("increase", "decrease"):
            continue
        side = "below" if m.improvement_direction == "increase" else "above"
        frames.append(
            points.filter((pl.col("metric_id") == m.metric_id) & pl.col("is_compared")).select(
                "metric_id",
                "org_code",
                kind=pl.lit("red_line_breach"),
                period_type=pl.lit("month"),
                period_start="period_start",
                held=_worse_than(pl.col("value"), m.red_line, m.improvement_direction),
                severity_rank=pl.lit(2),
                signal=pl.lit(f"{side} the red line of {format_value(m.red_line, m.unit)}"),
                side=pl.lit(side),
                value="value",
                threshold=pl.lit(m.red_line),
                national=pl.lit(None, dtype=pl.Float64),
                compared_with=pl.lit(None, dtype=pl.String),
            )
        )
    return _stack(frames)


def spc_conditions(points: pl.DataFrame, metrics: list[MetricDefinition]) -> pl.DataFrame:
    """Every compared trust month of a metric with an improvement direction: special cause of concern?"""
    directed = [m.metric_id for m in metrics if m.improvement_direction in ("increase", "decrease")]
    label = pl.col("special_cause_label")
    high = label.str.contains("Above|Increasing")
    threshold = (
        pl.when(label == "Above UCL")
        .then(pl.col("upl"))
        .when(label == "Below LCL")
        .then(pl.col("lpl"))
        .when(label.str.starts_with("2 in 3"))
        .then(pl.when(high).then(pl.col("upl")).otherwise(pl.col("lpl")))
        .when(label.str.starts_with("7 Points"))
        .then(pl.col("mean"))
    )
    return _stack(
        [
            points.filter(pl.col("metric_id").is_in(directed) & pl.col("is_compared")).select(
                "metric_id",
                "org_code",
                kind=pl.lit("spc_concern"),
                period_type=pl.lit("month"),
                period_start="period_start",
                held=pl.col("point_type") == "special_cause_concern",
                severity_rank=pl.lit(1),
                signal=label,
                side=pl.when(high).then(pl.lit("above")).otherwise(pl.lit("below")),
                value="value",
                threshold=threshold,
                national=pl.lit(None, dtype=pl.Float64),
                compared_with=pl.lit(None, dtype=pl.String),
            )
        ]
    )


def funnel_conditions(funnels: pl.DataFrame, metrics: list[MetricDefinition]) -> pl.DataFrame:
    """Every trust compared in a funnel of a metric with an improvement direction: worse than expected?

    Only periods whose follow-up is complete (ending in the metric's latest complete month or before)
    raise alerts: a year of revisions within a year still being followed up is not yet a judgement."""
    directed = [m.metric_id for m in metrics if m.improvement_direction in ("increase", "decrease")]
    complete_months = pl.DataFrame(
        {
            "metric_id": [m.metric_id for m in metrics],
            "latest_complete_month": [m.latest_complete_month for m in metrics],
        },
        schema={"metric_id": pl.String, "latest_complete_month": pl.Date},
    )
    judged = funnels.filter(pl.col("metric_id").is_in(directed) & pl.col("is_compared")).join(
        complete_months, on="metric_id", how="left"
    )
    judgement = pl.col("outlier_judgement")
    alarm = judgement == "alarm_worse"
    high = pl.col("outlier_95") == "high"
    return _stack(
        [
            judged.filter(is_complete_period(pl.col("latest_complete_month"))).select(
                "metric_id",
                "org_code",
                kind=pl.lit("funnel_outlier"),
                period_type="period_type",
                period_start="period_start",
                held=judgement.is_in(["alert_worse", "alarm_worse"]),
                severity_rank=pl.when(alarm).then(2).otherwise(1),
                signal=pl.when(alarm).then(pl.lit("alarm (99.8%)")).otherwise(pl.lit("alert (95%)")),
                side=pl.when(high).then(pl.lit("above")).otherwise(pl.lit("below")),
                value="value",
                threshold=pl.when(alarm)
                .then(pl.when(high).then(pl.col("ucl998")).otherwise(pl.col("lcl998")))
                .otherwise(pl.when(high).then(pl.col("ucl95")).otherwise(pl.col("lcl95"))),
                national="target",
                compared_with=pl.when(pl.col("comparison_group") == ALL_UNITS)
                .then(pl.lit("nationally"))
                .otherwise(
                    pl.lit("for ") + pl.col("comparison_group").str.replace_all("_", " ") + pl.lit(" trusts")
                ),
            )
        ]
    )


def _stack(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f.cast(CONDITION_COLUMNS) for f in frames if f.height]  # type: ignore[arg-type]
    return pl.concat(frames) if frames else pl.DataFrame(schema=CONDITION_COLUMNS)


def episodes(conditions: pl.DataFrame) -> pl.DataFrame:
    """One row per run of consecutive assessed periods in which the condition held.

    `conditions` has one row per assessed period (see CONDITION_COLUMNS). Each episode carries its first
    and last period, the number of periods, the first later period in which the condition no longer held
    (`cleared`), its worst severity, and the details of its last period."""
    ordered = conditions.sort(*EPISODE_KEY, "period_start")
    starts_run = (pl.col("held") != pl.col("held").shift(1).over(EPISODE_KEY)).fill_null(True)
    ordered = ordered.with_columns(
        run=starts_run.cum_sum(),
        next_period=pl.col("period_start").shift(-1).over(EPISODE_KEY),
    )
    return (
        ordered.filter("held")
        .group_by("run", maintain_order=True)
        .agg(
            pl.col(EPISODE_KEY).first(),
            first_raised=pl.col("period_start").first(),
            last_seen=pl.col("period_start").last(),
            cleared=pl.col("next_period").last(),
            periods=pl.len().cast(pl.Int64),
            severity_rank=pl.col("severity_rank").max(),
            signal=pl.col("signal").last(),
            side=pl.col("side").last(),
            value=pl.col("value").last(),
            threshold=pl.col("threshold").last(),
            national=pl.col("national").last(),
            compared_with=pl.col("compared_with").last(),
        )
        .drop("run")
        .with_columns(
            status=pl.when(pl.col("cleared").is_null()).then(pl.lit("active")).otherwise(pl.lit("cleared")),
            severity=pl.col("severity_rank").replace_strict(SEVERITIES, return_dtype=pl.String),
        )
    )


def alerts_table(
    points: pl.DataFrame,
    funnels: pl.DataFrame,
    metrics: list[MetricDefinition],
    org_names: pl.DataFrame,
    org_levels: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every alert episode; `org_levels` (org_code, org_level) gives each unit's level, trust if absent."""
    conditions = pl.concat(
        [
            red_line_conditions(points, metrics),
            spc_conditions(points, metrics),
            funnel_conditions(funnels, metrics),
        ]
    )
    found = episodes(conditions).join(org_names, on="org_code", how="left")
    if org_levels is None:
        org_levels = pl.DataFrame(schema={"org_code": pl.String, "org_level": pl.String})
    found = found.join(org_levels, on="org_code", how="left")
    by_id = {m.metric_id: m for m in metrics}
    messages, labels, titles = [], [], []
    for row in found.iter_rows(named=True):
        metric = by_id[row["metric_id"]]
        messages.append(message(row, metric))
        labels.append(period_label(row["last_seen"], row["period_type"]))
        titles.append(metric.title)
    found = found.with_columns(
        alert_id=pl.concat_str([*EPISODE_KEY, pl.col("first_raised").cast(pl.String)], separator="|"),
        metric_title=pl.Series(titles, dtype=pl.String),
        org_level=pl.col("org_level").fill_null("trust"),
        period_label=pl.Series(labels, dtype=pl.String),
        message=pl.Series(messages, dtype=pl.String),
    )
    kind_order = pl.col("kind").replace_strict({k: i for i, k in enumerate(KINDS)}, return_dtype=pl.Int64)
    found = found.sort("metric_id", "org_code", kind_order, "period_type", "first_raised")
    return benchmarking_tables()["alerts"].conform(found)


def message(episode: dict, metric: MetricDefinition) -> str:
    """The alert in one sentence a board member understands."""
    org = episode.get("org_name")
    who = f"{org} ({episode['org_code']})" if org else episode["org_code"]
    kind, period_type = episode["kind"], episode["period_type"]
    title = sentence_title(metric.title)
    when = period_label(episode["last_seen"], period_type)
    first = period_label(episode["first_raised"], period_type)
    n = episode["periods"]
    run = f"{n} {period_noun(period_type, n)} in a row since {first}" if n > 1 else ""

    def fmt(value: float | None) -> str:
        return format_value(value, metric.unit)

    value, side = fmt(episode["value"]), episode["side"]
    if kind == "red_line_breach":
        text = f"{who}: {title} was {value} in {when}, {side} the red line of {fmt(episode['threshold'])}"
        text += f" ({run})" if run else ""
        back = "above" if side == "below" else "below"
        cleared = f"back {back} the red line in"
    elif kind == "spc_concern":
        text = (
            f"{who}: {title} shows special cause variation of concern in {when} ({value}): "
            f"{_rule(episode['signal'], fmt(episode['threshold']))}"
        )
        text += f"; a concern for {run}" if run else ""
        cleared = "no longer a concern in"
    else:
        level = "99.8%" if episode["signal"].startswith("alarm") else "95%"
        text = (
            f"{who}: {title} was {value} in {when} against {fmt(episode['national'])} "
            f"{episode.get('compared_with') or 'nationally'}: "
            f"worse than expected, {side} the {level} limit of {fmt(episode['threshold'])} for a trust of "
            f"its size ({episode['signal'].split(' ')[0]})"
        )
        text += f"; outside the 95% limit for {run}" if run else ""
        cleared = "within the expected range in"
    if episode["cleared"] is not None:
        return f"{text}; {cleared} {period_label(episode['cleared'], period_type)}."
    return f"{text}."


def _rule(label: str, threshold: str) -> str:
    """An SPC special cause in words."""
    return {
        "Above UCL": f"above the upper process limit of {threshold}",
        "Below LCL": f"below the lower process limit of {threshold}",
        "7 Point Trend (Increasing)": "7 or more months in a row each higher than the one before",
        "7 Point Trend (Decreasing)": "7 or more months in a row each lower than the one before",
        "2 in 3 Above CL": f"2 of 3 months in a row close to the upper process limit of {threshold}",
        "2 in 3 Below CL": f"2 of 3 months in a row close to the lower process limit of {threshold}",
        "7 Points Above CL": f"7 or more months in a row above its average of {threshold}",
        "7 Points Below CL": f"7 or more months in a row below its average of {threshold}",
    }.get(label, label)
