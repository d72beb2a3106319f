"""Words for numbers, periods and icons, so tables, alerts and charts say things the same way."""

from __future__ import annotations

import datetime as dt
import math

#: Making Data Count's meaning of each variation icon (NHSRplotthedots' icon names).
VARIATION_LABELS = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation of an improving nature: higher values",
    "improvement_low": "Special cause variation of an improving nature: lower values",
    "concern_high": "Special cause variation of a concerning nature: higher values",
    "concern_low": "Special cause variation of a concerning nature: lower values",
    "neutral_high": "Special cause variation, neither improvement nor concern: higher values",
    "neutral_low": "Special cause variation, neither improvement nor concern: lower values",
}

#: Making Data Count's meaning of each assurance icon.
ASSURANCE_LABELS = {
    "consistent_pass": "The process is expected to consistently pass the target",
    "consistent_fail": "The process is expected to consistently fail the target",
    "inconsistent": "Hit and miss: the process may pass or fail the target subject to random variation",
}

OUTLIER_LABELS = {
    "none": "Within the expected range",
    "alarm_worse": "Worse than expected (beyond the 99.8% limit: alarm)",
    "alert_worse": "Worse than expected (beyond the 95% limit: alert)",
    "alarm_better": "Better than expected (beyond the 99.8% limit)",
    "alert_better": "Better than expected (beyond the 95% limit)",
    "alarm_high": "Higher than expected (beyond the 99.8% limit)",
    "alert_high": "Higher than expected (beyond the 95% limit)",
    "alarm_low": "Lower than expected (beyond the 99.8% limit)",
    "alert_low": "Lower than expected (beyond the 95% limit)",
}


def variation_label(icon: str | None, compared: int = 1, min_denominator: float | None = None) -> str:
    if icon is None or compared == 0:
        floor = f" of {min_denominator:g}" if min_denominator else ""
        return f"Not assessed: no month reached the minimum denominator{floor}"
    return VARIATION_LABELS[icon]


def assurance_label(assurance: str | None, target: float | None, improvement: str) -> str:
    if assurance is not None:
        return ASSURANCE_LABELS[assurance]
    if target is None or (isinstance(target, float) and math.isnan(target)):
        return "No target"
    if improvement == "neutral":
        return "No assurance for a measure with no improvement direction"
    return "No assurance: the chart has no process limits"


def format_value(value: float | None, unit: str) -> str:
    """A value in the metric's unit as a person would write it: 41%, 5.5%, 9.1 per 1,000, 18.0."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    if unit == "proportion":
        percent = value * 100
        text = f"{percent:.1f}"
        return (text[:-2] if text.endswith(".0") else text) + "%"
    if unit == "rate_per_1000":
        return f"{value:,.1f} per 1,000"
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit == "ratio":
        return f"{value:.2f}"
    return f"{value:,.1f}"


def financial_year_label(start: dt.date) -> str:
    return f"{start.year}-{(start.year + 1) % 100:02d}"


def financial_year_start(label: str) -> dt.date:
    """1 April of an NHS financial year written 2025-26."""
    return dt.date(int(label[:4]), 4, 1)


def period_label(start: dt.date, period_type: str) -> str:
    if period_type == "financial_year":
        return financial_year_label(start)
    return f"{start:%B %Y}"


def period_noun(period_type: str, count: int) -> str:
    noun = {"financial_year": "year", "quarter": "quarter"}.get(period_type, "month")
    return noun if count == 1 else noun + "s"


def sentence_title(title: str) -> str:
    """A title inside a sentence: first letter lower case unless the first word is an acronym."""
    first = title.split(" ", 1)[0]
    if len(first) > 1 and first[:2].isupper():
        return title
    return title[:1].lower() + title[1:]
