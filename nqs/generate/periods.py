"""Calendar of the generated span: months as day numbers, so records can be drawn with numpy.

Every date in the generator is an integer number of days since 1970-01-01 (the epoch polars and
numpy share) and every timestamp an integer number of seconds; only the writer turns them into text.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

import numpy as np

EPOCH = date(1970, 1, 1)
SECONDS_PER_DAY = 86_400


def day_number(d: date) -> int:
    """Days since the epoch, the unit every generated date is drawn in."""
    return (d - EPOCH).days


@dataclass(frozen=True)
class Month:
    """One month of the span, with its position so each month gets its own random stream."""

    index: int
    year: int
    month: int

    @property
    def label(self) -> str:
        """`YYYY-MM`, the suffix of the monthly file names."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def n_days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def first_day(self) -> int:
        return day_number(date(self.year, self.month, 1))

    @property
    def last_day(self) -> int:
        return self.first_day + self.n_days - 1

    @property
    def last_date_text(self) -> str:
        """Last day of the month as `YYYY-MM-DD` (a merger's close date)."""
        return date(self.year, self.month, self.n_days).isoformat()

    @property
    def is_winter(self) -> bool:
        """December to February: the NHS winter pressures months."""
        return self.month in (12, 1, 2)

    def weekdays(self) -> np.ndarray:
        """Day numbers of the month falling Monday to Friday (planned surgery happens on these)."""
        days = np.arange(self.first_day, self.last_day + 1)
        # 1970-01-01 was a Thursday: (day + 3) % 7 gives Monday = 0.
        return days[(days + 3) % 7 < 5]


_END_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def parse_end(end: str) -> tuple[int, int]:
    """Read `YYYY-MM`; rejecting anything else early beats a confusing failure deep in generation."""
    match = _END_PATTERN.match(end)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"end must be YYYY-MM, got {end!r}")
    return int(match.group(1)), int(match.group(2))


def month_span(end: str, months: int) -> list[Month]:
    """The `months` calendar months ending with `end`, oldest first."""
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    year, month = parse_end(end)
    last = year * 12 + (month - 1)
    span = []
    for index, absolute in enumerate(range(last - months + 1, last + 1)):
        span.append(Month(index=index, year=absolute // 12, month=absolute % 12 + 1))
    return span


def weekday_weights(days: np.ndarray, weekend_weight: float) -> np.ndarray:
    """Normalised weights over days, damping weekends (fewer staff report and operate then)."""
    weights = np.where((days + 3) % 7 < 5, 1.0, weekend_weight)
    return weights / weights.sum()


def period_ended(span: list[Month], month: Month, months: int) -> Month | None:
    """The first month of the period of `months` months that `month` ends, if the span holds all of
    that period; otherwise None. Periods follow the financial year: a quarter starts in January, April,
    July or October, a year in April."""
    if (month.month - 3) % months != 0 or month.index < months - 1:
        return None
    return span[month.index - months + 1]


def quarter_ended(span: list[Month], month: Month) -> Month | None:
    """The first month of the quarter (January, April, July, October) `month` ends, if the span holds
    all of that quarter; otherwise None."""
    return period_ended(span, month, 3)
