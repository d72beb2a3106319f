"""SPC (Making Data Count) and funnel charts from the benchmarking marts, as SVG or PNG.

Every drawn element carries an id (`gid`) naming what it is (mean, upl, lpl, target, points-<type>,
variation-icon, assurance-icon, national, limit-95-upper ...), so the SVG can be checked and styled.
A chart is drawn once as a figure (`spc_figure`, `funnel_figure`) and then written to a file
(`spc_chart`, `funnel_chart`) or returned as SVG markup to place inside an HTML page (`inline_svg`).
"""

from __future__ import annotations

import io
import re
from html import escape
from pathlib import Path

import matplotlib
import numpy as np
import polars as pl
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from nqs.benchmarking.schema import ALL_UNITS
from nqs.benchmarking.text import format_value
from nqs.charts.data import ChartError, FunnelPeriod, SpcSeries
from nqs.charts.labels import PointLabel, place_labels
from nqs.charts.style import (
    ASSURANCE_ICONS,
    BLUE,
    DARK,
    GREY,
    NHS_BLUE,
    ORANGE,
    POINT_COLOURS,
    POINT_NAMES,
    RED,
    VARIATION_ICONS,
    draw_icon,
)
from nqs.stats import funnel_limits
from nqs.stats.funnel import NORMAL_TYPES

FORMATS = (".svg", ".png")
#: reproducible files: no creation date, a fixed salt for SVG ids, text kept as text
RC = {"svg.hashsalt": "nqs", "svg.fonttype": "none", "font.family": "DejaVu Sans"}


def _axis_formatter(unit: str) -> FuncFormatter:
    if unit == "proportion":
        return FuncFormatter(
            lambda v, _: f"{v * 100:.0f}%" if abs(v * 100 - round(v * 100)) < 1e-9 else f"{v * 100:.1f}%"
        )
    return FuncFormatter(lambda v, _: f"{v:,.4g}")


def _save(figure: Figure, output: Path) -> Path:
    if output.suffix.lower() not in FORMATS:
        raise ChartError(f"output must end .svg or .png, not '{output.name}'")
    output.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Date": None} if output.suffix.lower() == ".svg" else {}
    try:
        with matplotlib.rc_context(RC):
            figure.savefig(output, dpi=150, metadata=metadata)
    except OSError as error:
        raise ChartError(f"cannot write {output}: {error.strerror or error}") from None
    return output


#: What refers to an id inside matplotlib's SVG: the ids themselves, url(#...) and href="#...".
_SVG_IDS = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def inline_svg(figure: Figure, *, id_prefix: str, title: str, description: str) -> str:
    """The figure as an `<svg>` element for an HTML page: every id prefixed (a page holds many charts,
    and matplotlib reuses ids such as its marker and clip-path ids from chart to chart), announced as
    one image with its title and description for screen readers, and scaled to its container."""
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    markup = buffer.getvalue()
    markup = markup[markup.index("<svg") :]
    markup = _SVG_IDS.sub(lambda m: f"{m[1]}{id_prefix}-{m[2]}", markup)
    label = f"{id_prefix}-title {id_prefix}-desc"
    opening = markup.index(">") + 1
    return (
        markup[: opening - 1]
        + f' role="img" aria-labelledby="{label}" class="chart">'
        + f'<title id="{id_prefix}-title">{escape(title)}</title>'
        + f'<desc id="{id_prefix}-desc">{escape(description)}</desc>'
        + markup[opening:]
    )


def spc_chart(series: SpcSeries, output: Path) -> Path:
    """An XmR chart in the Making Data Count style, written to `output` (.svg or .png)."""
    return _save(spc_figure(series), output)


def funnel_chart(period: FunnelPeriod, output: Path) -> Path:
    """A funnel plot, written to `output` (.svg or .png)."""
    return _save(funnel_figure(period), output)


def spc_figure(series: SpcSeries) -> Figure:
    """An XmR chart in the Making Data Count style, with the series' variation and assurance icons."""
    metric, summary = series.metric, series.summary
    points = series.points.filter("is_compared")
    dates = points["period_start"].to_list()
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(10, 5.6))
        axes = figure.add_axes((0.08, 0.2, 0.74, 0.62))
        for column, gid, style in (
            ("upl", "upl", "--"),
            ("lpl", "lpl", "--"),
            ("mean", "mean", "-"),
        ):
            values = points[column].to_numpy()
            if not np.all(np.isnan(values.astype(float))):
                axes.plot(
                    dates,
                    values,
                    linestyle=style,
                    color=DARK if gid == "mean" else GREY,
                    linewidth=1.4 if gid == "mean" else 1.1,
                    gid=gid,
                    label={"mean": "Mean", "upl": "Process limits"}.get(gid, "_nolegend_"),
                )
        if metric.target is not None:
            axes.axhline(
                metric.target, color=RED, linestyle="--", linewidth=1.2, gid="target", label="Target"
            )
        if metric.red_line is not None:
            axes.axhline(
                metric.red_line, color=RED, linestyle=":", linewidth=1.6, gid="red-line", label="Red line"
            )
        axes.plot(dates, points["value"].to_list(), color=GREY, linewidth=1.2, gid="value-line", zorder=2)
        for kind, colour in POINT_COLOURS.items():
            chosen = points.filter(pl.col("point_type") == kind)
            if chosen.height:
                axes.scatter(
                    chosen["period_start"].to_list(),
                    chosen["value"].to_list(),
                    s=38,
                    color=colour,
                    zorder=3,
                    gid=f"points-{kind}",
                    label=POINT_NAMES[kind],
                    edgecolors="white",
                    linewidths=0.6,
                )
        axes.yaxis.set_major_formatter(_axis_formatter(metric.unit))
        axes.xaxis.set_major_formatter(DateFormatter("%b %Y"))
        axes.grid(axis="y", color="#E8EDEE", linewidth=0.8)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.set_ylabel(metric.title if metric.unit != "proportion" else f"{metric.title} (%)", fontsize=9)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize=8, frameon=False)
        who = f"{series.org_name} ({series.org_code})" if series.org_name else series.org_code
        figure.text(
            0.08, 0.95, f"{metric.title}", fontsize=14, fontweight="bold", color=NHS_BLUE, gid="title"
        )
        latest = summary.get("latest_period")
        subtitle = f"{who}: monthly XmR chart"
        if latest is not None:
            subtitle += f", latest {latest:%B %Y} {format_value(summary['latest_value'], metric.unit)}"
        figure.text(0.08, 0.905, subtitle, fontsize=10, color=DARK, gid="subtitle")
        notes = [summary.get("variation_label") or "", summary.get("assurance_label") or ""]
        skipped = series.points.height - points.height
        if skipped:
            notes.append(
                f"{skipped} month(s) below the minimum denominator of {metric.min_denominator:g} not shown"
            )
        if summary.get("short_group_warning"):
            notes.append("fewer than 13 months: trial limits")
        figure.text(0.08, 0.865, "; ".join(n for n in notes if n), fontsize=8, color=GREY, gid="labels")
        figure.text(0.8725, 0.8, "Variation", fontsize=8, ha="center", color=DARK)
        figure.text(0.9525, 0.8, "Assurance", fontsize=8, ha="center", color=DARK)
        icon = summary.get("variation_icon") or "common_cause"
        colour, letter = VARIATION_ICONS[icon]
        draw_icon(figure, (0.835, 0.62, 0.075, 0.16), colour, letter, icon, "variation-icon")
        assurance = summary.get("assurance_type")
        if assurance is not None:
            colour, letter = ASSURANCE_ICONS[assurance]
            draw_icon(figure, (0.915, 0.62, 0.075, 0.16), colour, letter, assurance, "assurance-icon")
        else:
            figure.text(0.952, 0.7, "no target", fontsize=7, color=GREY, ha="center", gid="assurance-none")
        return figure


def _outlier_labels(units: pl.DataFrame) -> list[PointLabel]:
    """Every unit worse than expected, and better ones beyond the 99.8% limit: alarms first, the worse
    first, then the furthest from the national value, so a crowded chart names the most important."""
    labelled = units.filter(
        pl.col("outlier_judgement").str.ends_with("worse")
        | pl.col("outlier_judgement").str.starts_with("alarm")
    ).sort(
        pl.col("outlier_judgement").str.starts_with("alarm"),
        pl.col("outlier_judgement").str.ends_with("worse"),
        pl.col("z_adjusted").abs(),
        descending=True,
        nulls_last=True,
    )
    return [
        PointLabel(
            row["org_code"],
            row["denominator"],
            row["value"],
            gid=f"outlier-{row['org_code']}",
            bold=row["outlier_judgement"].startswith("alarm"),
        )
        for row in labelled.iter_rows(named=True)
    ]


def _centre_name(group: str) -> str:
    """The funnel's centre line in words: National, or the trust type compared (Acute trusts)."""
    return "National" if group == ALL_UNITS else f"{group.replace('_', ' ').capitalize()} trusts"


def funnel_figure(period: FunnelPeriod) -> Figure:
    """A funnel plot: the national value, 95% and 99.8% limits, and the outliers labelled."""
    metric = period.metric
    units = period.units.filter("is_compared")
    scale = metric.unit_multiplier
    first = units.row(0, named=True)
    national = first["target"]
    grid = np.linspace(max(units["denominator"].min() * 0.6, 1e-9), units["denominator"].max() * 1.08, 300)
    method = "shmi" if metric.overdispersion_method == "shmi" else "spiegelhalter"
    # a mean's or median's limits are national ± z·sd/√n, sd in the metric's unit like the target
    sd = first.get("sd")
    lcl95, ucl95, lcl998, ucl998 = funnel_limits(
        metric.funnel_type,
        method,
        grid,
        national / scale,
        first["tau2"],
        first["adjusted"],
        None if sd is None else sd / scale,
    )
    observations = metric.funnel_type in NORMAL_TYPES
    judged = units["outlier_judgement"].to_list()
    colours = [
        ORANGE
        if j.endswith("worse")
        else BLUE
        if j.endswith("better")
        else GREY
        if j == "none"
        else "#361475"
        for j in judged
    ]
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(10, 6))
        axes = figure.add_axes((0.09, 0.2, 0.86, 0.64))
        axes.axhline(
            national,
            color=DARK,
            linewidth=1.4,
            gid="national",
            label=f"{_centre_name(period.comparison_group)} {format_value(national, metric.unit)}",
        )
        for values, gid, style, label in (
            (ucl95, "limit-95-upper", "--", "95% limits (alert)"),
            (lcl95, "limit-95-lower", "--", "_nolegend_"),
            (ucl998, "limit-998-upper", "-", "99.8% limits (alarm)"),
            (lcl998, "limit-998-lower", "-", "_nolegend_"),
        ):
            axes.plot(
                grid,
                values * scale,
                color=GREY if "95-" in gid else "#425563",
                linestyle=style,
                linewidth=1.1,
                gid=gid,
                label=label,
            )
        axes.scatter(
            units["denominator"].to_list(),
            units["value"].to_list(),
            c=colours,
            s=30,
            zorder=3,
            edgecolors="white",
            linewidths=0.5,
            gid="units",
        )
        for colour, name in (
            (ORANGE, "Worse than expected"),
            (BLUE, "Better than expected"),
            (GREY, "Within the limits"),
        ):
            axes.scatter([], [], color=colour, s=30, label=name)
        axes.yaxis.set_major_formatter(_axis_formatter(metric.unit))
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        axes.grid(color="#E8EDEE", linewidth=0.8)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        if observations:
            # the limits of a mean or median are national ± z·sd/√n; a median of whole numbers is interpolated
            axes.set_xlabel(
                f"Number of observations (n); limits: national ± z × {format_value(sd, metric.unit)} / √n",
                fontsize=9,
            )
            interpolated = " (interpolated between whole values)" if metric.funnel_type == "median" else ""
            axes.set_ylabel(f"{metric.title}{interpolated}", fontsize=9)
        else:
            axes.set_xlabel(f"Denominator ({period.unit_noun.removesuffix('s')} size)", fontsize=9)
            axes.set_ylabel(
                metric.title if metric.unit != "proportion" else f"{metric.title} (%)", fontsize=9
            )
        low, high = units["value"].min(), units["value"].max()
        pad = (high - low) * 0.12 or abs(national) * 0.2 or 1
        axes.set_ylim(
            max(
                min(low, float(np.nanmin(lcl998 * scale))) - pad,
                # no limit below 0 is drawn for a proportion, or a mean or median of values none below 0
                0 if metric.unit == "proportion" or (observations and low >= 0) else -np.inf,
            ),
            max(high, float(np.nanmax(ucl998[grid >= units["denominator"].min()] * scale))) + pad,
        )
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), fontsize=8, frameon=False, ncol=3)
        left_out = place_labels(
            axes,
            _outlier_labels(units),
            fontsize=8,
            color=DARK,
            points=list(zip(units["denominator"].to_list(), units["value"].to_list(), strict=True)),
        )
        if left_out:
            figure.text(
                0.09,
                0.035,
                f"Also outside the limits, not labelled for lack of room: {', '.join(left_out)}",
                fontsize=8,
                color=DARK,
                gid="outliers-not-labelled",
            )
        figure.text(
            0.09,
            0.94,
            f"{metric.title}: {period.period_label}",
            fontsize=14,
            fontweight="bold",
            color=NHS_BLUE,
            gid="title",
        )
        worse = sum(j.endswith("worse") for j in judged)
        adjusted = (
            f"limits widened for overdispersion (phi {first['phi']:.2f})"
            if first["adjusted"]
            else "limits not adjusted for overdispersion"
        )
        figure.text(
            0.09,
            0.895,
            f"Funnel plot of {units.height} {period.unit_noun}, {worse} worse than expected; {adjusted}",
            fontsize=10,
            color=DARK,
            gid="subtitle",
        )
        too_small = period.units.height - units.height
        if too_small:
            figure.text(
                0.09,
                0.86,
                f"{too_small} trust(s) below the minimum denominator of {metric.min_denominator:g} not shown",
                fontsize=8,
                color=GREY,
            )
        return figure
