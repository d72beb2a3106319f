"""The board report as one HTML page: the content laid out, its charts drawn inline as SVG.

The charts are `nqs.charts`' own (the figures `nqs chart spc` and `nqs chart funnel` write to files),
placed in the page with `inline_svg`, so the page needs no file, script or request beside itself.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from nqs.benchmarking.text import format_value, period_label
from nqs.charts.render import funnel_figure, inline_svg, spc_figure
from nqs.report.content import Figure, MetricSection, PrioritySection, ReportContent

TEMPLATE = "board_report.html.j2"
#: Alerts listed in full under a metric; the rest are folded away (a <details> element).
ALERTS_SHOWN = 10
KIND_NAMES = {
    "red_line_breach": "Red line breached",
    "spc_concern": "SPC: special cause of concern",
    "funnel_outlier": "Funnel plot: worse than expected",
}
NO_FIGURE = "–"
#: What a cell shows for a figure suppressed under disclosure control.
SUPPRESSED = "*"


@dataclass
class MetricView:
    section: MetricSection
    anchor: str
    spc_svg: Markup | None = None
    spc_summary: dict | None = None
    funnel_svg: Markup | None = None
    funnel_caption: str = ""
    alerts_shown: int | str = NO_FIGURE
    full_anchor: str = ""
    full_title: str = ""


@dataclass
class PriorityView:
    section: PrioritySection
    anchor: str
    depth: int
    heading: int
    metrics: list[MetricView]

    @property
    def full_metrics(self) -> list[MetricView]:
        return [m for m in self.metrics if m.section.shown_under is None]


def _count(number: float | None, suppressed: bool) -> str:
    """A published count; `*` where disclosure control suppressed it (published as null)."""
    if number is None or (isinstance(number, float) and math.isnan(number)):
        return SUPPRESSED if suppressed else NO_FIGURE
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,.1f}"


def metric_value(value: float | None, metric: MetricSection) -> str:
    """A value as the board reads it: in the metric's unit, a gap of proportions in percentage points."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_FIGURE
    if metric.metric.unit == "gap" and metric.base_unit == "proportion":
        return f"{value * 100:.1f} percentage points"
    return format_value(value, metric.metric.unit)


def _shown_value(figure: Figure | None, metric: MetricSection) -> str:
    if figure is None:
        return NO_FIGURE
    if figure.is_suppressed and figure.value is None:
        return figure.value_display or SUPPRESSED
    return metric_value(figure.value, metric)


def _interval(figure: Figure | None, metric: MetricSection) -> str:
    if figure is None:
        return NO_FIGURE
    if figure.ci_lower is None or figure.ci_upper is None:
        return SUPPRESSED if figure.is_suppressed else NO_FIGURE
    lower, upper = metric_value(figure.ci_lower, metric), metric_value(figure.ci_upper, metric)
    shared = " percentage points"
    if lower.endswith(shared):
        lower = lower.removesuffix(shared)
    return f"{lower} to {upper}"


def _percent(share: float | None) -> str:
    """A share of rows: one decimal, and under 0.1% said so rather than rounded to 0.0%."""
    if share is None:
        return NO_FIGURE
    return "under 0.1%" if 0 < share < 0.001 else f"{share * 100:.1f}%"


def _month(day: dt.date | None) -> str:
    return NO_FIGURE if day is None else f"{day:%B %Y}"


def _slug(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        count=_count,
        shown_value=_shown_value,
        interval=_interval,
        value=metric_value,
        month=_month,
        period=lambda day, kind: period_label(day, kind),
        timestamp=lambda at: f"{at:%d %B %Y %H:%M} UTC",
        percent=_percent,
        kind=lambda kind: KIND_NAMES.get(kind, kind),
        slug=_slug,
    )
    return env


def _metric_view(section: MetricSection, anchor: str) -> MetricView:
    view = MetricView(section=section, anchor=anchor)
    if section.shown_under is not None or section.month is None:
        return view
    view.alerts_shown = len(section.alerts)
    metric = section.metric
    if section.spc is not None:
        summary = section.spc.summary
        view.spc_summary = summary
        view.spc_svg = Markup(
            inline_svg(
                spc_figure(section.spc),
                id_prefix=f"{anchor}-spc",
                title=f"{metric.title}: England's monthly SPC chart to {section.month:%B %Y}",
                description=(
                    f"Latest {format_value(summary['latest_value'], metric.unit)}. "
                    f"{summary['variation_label']}. {summary['assurance_label']}."
                ),
            )
        )
    if section.funnel is not None:
        units = section.funnel.units.filter("is_compared")
        worse = sum(j.endswith("worse") for j in units["outlier_judgement"].drop_nulls())
        better = sum(j.endswith("better") for j in units["outlier_judgement"].drop_nulls())
        noun = section.funnel.unit_noun
        view.funnel_caption = f"{units.height} {noun}, {worse} worse and {better} better than expected"
        view.funnel_svg = Markup(
            inline_svg(
                funnel_figure(section.funnel),
                id_prefix=f"{anchor}-funnel",
                title=f"{metric.title}: funnel plot of {noun}, {section.funnel.period_label}",
                description=f"{view.funnel_caption}.",
            )
        )
    return view


def _anchor(priority_id: str, metric_id: str | None = None) -> str:
    anchor = f"priority-{_slug(priority_id)}"
    return anchor if metric_id is None else f"{anchor}--{_slug(metric_id)}"


def page_views(content: ReportContent) -> list[PriorityView]:
    """Each priority with its anchors, heading level and charts drawn."""
    top = min((len(p.path) for p in content.priorities), default=1)
    titles = {p.priority_id: p.title for p in content.priorities}
    views: list[PriorityView] = []
    for section in content.priorities:
        metrics = []
        for metric in section.metrics:
            view = _metric_view(metric, _anchor(section.priority_id, metric.metric.metric_id))
            if metric.shown_under is not None:
                view.full_anchor = _anchor(metric.shown_under, metric.metric.metric_id)
                view.full_title = titles[metric.shown_under]
            metrics.append(view)
        depth = len(section.path) - top
        views.append(PriorityView(section, _anchor(section.priority_id), depth, min(2 + depth, 4), metrics))
    return views


def render_page(content: ReportContent, *, title: str, source_name: str) -> tuple[str, list[PriorityView]]:
    views = page_views(content)
    html = (
        environment()
        .get_template(TEMPLATE)
        .render(
            content=content,
            priorities=views,
            title=title,
            source_name=source_name,
            alerts_shown=ALERTS_SHOWN,
        )
    )
    return html, views
