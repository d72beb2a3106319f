"""Statistical process control: XmR charts with the NHS "Making Data Count" rules.

`spc()` reproduces NHSRplotthedots' `ptd_spc()` (its data, its icons and its assurance) point for point;
README.md beside this file lists where and why it deliberately differs.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import polars as pl

from nqs.stats._common import StatsInputError, label_column, numeric_column, r_mean, require_columns

Improvement = Literal["increase", "decrease", "neutral"]

LIMIT = 2.66  # process limits at mean ± 2.66 × mean moving range (3 sigma for an XmR chart)
LIMIT_CLOSE = 2 * (LIMIT / 3)  # the 2-sigma band, computed as the reference does
SCREEN = 3.267  # a moving range at or above 3.267 × the mean moving range is left out of the limits
RUN = 7  # points in a trend or a shift
SHORT_GROUP = 13  # a segment with fewer points gets trial limits and a warning
MIN_FIX_AFTER = 12

COMMON_CAUSE = "Common Cause"
POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)

#: What each point is judged to be, and its series' icons: what clamping the limits to `bounds` never changes.
SIGNAL_COLUMNS = (
    "relative_to_mean",
    "outside_limits",
    "close_to_limits",
    "special_cause_label",
    "point_type",
    "variation_icon",
    "assurance_type",
)
SPC_COLUMNS = (
    "facet",
    "date",
    "value",
    "rebase_group",
    "mean",
    "lpl",
    "upl",
    "lower_2sigma",
    "upper_2sigma",
    *SIGNAL_COLUMNS,
    "short_group_warning",
    "target",
)


# ---- the rules, on all points at once ------------------------------------------------------------------
#
# Points are in (series, date) order; `segment` numbers each run of points sharing limits (a series, or the
# part of it between rebase dates). No rule looks across a segment boundary.


def _same(segment: np.ndarray, lag: int) -> np.ndarray:
    """For i >= lag: whether point i and point i - lag are in the same segment."""
    return segment[lag:] == segment[:-lag]


def steps(y: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """sign(y[i] - y[i - 1]) within a segment; 0 at a segment's first point."""
    out = np.zeros(len(y), dtype=np.int8)
    if len(y) > 1:
        out[1:] = np.sign(np.diff(y)) * _same(segment, 1)
    return out


def trend_ends(y: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """+1 (-1) where a point ends 7 points each strictly above (below) the one before; else 0."""
    step = steps(y, segment)
    out = np.zeros(len(y), dtype=np.int8)
    if len(y) < RUN:
        return out
    for direction in (1, -1):
        count = np.concatenate(([0], np.cumsum(step == direction)))
        # the RUN - 1 steps into points i - 5 .. i; a segment's first point has step 0, so no window
        # reaching back into another segment can be complete
        window = count[RUN:] - count[1 : len(count) - RUN + 1]
        out[RUN - 1 :][window == RUN - 1] = direction
    return out


def shift_ends(relative_to_mean: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """+1 (-1) where a point ends 7 points all above (below) the mean; a point on the mean breaks it."""
    n = len(relative_to_mean)
    ends = relative_to_mean != 0
    for lag in range(1, RUN):
        if lag >= n:
            break
        ends[lag:] &= (relative_to_mean[lag:] == relative_to_mean[:-lag]) & _same(segment, lag)
    ends[: RUN - 1] = False
    return np.where(ends, relative_to_mean, 0).astype(np.int8)


def part_of_run(ends: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """A point belongs to a run of 7 if the run ends on it or on one of the 6 points after it."""
    n = len(ends)
    out = ends != 0
    for lag in range(1, min(RUN, n)):
        out[: n - lag] |= (ends[lag:] != 0) & _same(segment, lag)
    return out


def two_in_three(close: np.ndarray, relative_to_mean: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Points that are themselves close to a limit, in a window of 3 consecutive points with at least 2
    close to a limit and all 3 on the same side of the mean."""
    n = len(close)
    in_window = np.zeros(n, dtype=bool)
    if n < 3:
        return in_window
    c = close.astype(np.int8)
    r = relative_to_mean.astype(np.int64)
    window = (c[:-2] + c[1:-1] + c[2:] >= 2) & (np.abs(r[:-2] + r[1:-1] + r[2:]) == 3) & _same(segment, 2)
    for offset in range(3):
        in_window[offset : n - 2 + offset] |= window
    return in_window & close


def special_causes(
    y: np.ndarray, relative_to_mean: np.ndarray, close: np.ndarray, outside: np.ndarray, segment: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each point's label (beyond a limit, then trend, then 2 of 3, then shift, else common cause) and its
    direction (+1 high, -1 low, 0 common cause)."""
    n = len(y)
    trend = part_of_run(trend_ends(y, segment), segment)
    two_three = two_in_three(close, relative_to_mean, segment)
    shift = part_of_run(shift_ends(relative_to_mean, segment), segment)
    step = steps(y, segment)
    # a point in two trends (the end of one, the start of the next) takes the direction to its right
    right = np.zeros(n, dtype=bool)
    right[:-1] = trend[:-1] & trend[1:] & _same(segment, 1)
    trend_direction = np.where(right, np.append(step[1:], 0), step)
    above = relative_to_mean > 0
    side = np.where(above, "Above", "Below")
    labels = np.select(
        [outside, trend, two_three, shift],
        [
            np.where(relative_to_mean == 1, "Above UCL", "Below LCL"),
            np.where(trend_direction == 1, "7 Point Trend (Increasing)", "7 Point Trend (Decreasing)"),
            np.char.add(np.char.add("2 in 3 ", side), " CL"),
            np.char.add(np.char.add("7 Points ", side), " CL"),
        ],
        default=COMMON_CAUSE,
    ).astype(object)
    direction = np.select(
        [outside, trend, two_three | shift],
        [
            np.where(relative_to_mean == 1, 1, -1),
            np.where(trend_direction == 1, 1, -1),
            np.where(above, 1, -1),
        ],
        default=0,
    )
    return labels, direction


def point_types(direction: np.ndarray, improvement: Improvement) -> np.ndarray:
    """Turn each signal's direction into improvement, concern, or neutral high/low."""
    if improvement == "neutral":
        kinds = ("special_cause_neutral_low", "common_cause", "special_cause_neutral_high")
    elif improvement == "increase":
        kinds = ("special_cause_concern", "common_cause", "special_cause_improvement")
    else:
        kinds = ("special_cause_improvement", "common_cause", "special_cause_concern")
    return np.array(kinds, dtype=object)[direction + 1]


def variation_icon(last_point_type: str, improvement: Improvement) -> str:
    """The Making Data Count variation icon (NHSRplotthedots' icon file name, without `.svg`)."""
    if last_point_type == "special_cause_improvement":
        return "improvement_high" if improvement == "increase" else "improvement_low"
    if last_point_type == "special_cause_concern":
        return "concern_low" if improvement == "increase" else "concern_high"
    if last_point_type == "special_cause_neutral_high":
        return "neutral_high"
    if last_point_type == "special_cause_neutral_low":
        return "neutral_low"
    return "common_cause"


def assurance_type(target: float | None, lpl: float, upl: float, improvement: Improvement) -> str | None:
    """Whether the last limits consistently pass or fail the target, or it is hit and miss.

    None with no target, for a neutral measure, or where the last segment has no limits."""
    if target is None or improvement == "neutral" or math.isnan(lpl) or math.isnan(upl):
        return None
    increasing = improvement == "increase"
    if target > upl:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if increasing else "consistent_fail"
    return "inconsistent"


def limits(y: np.ndarray, fix_after: int | None, screen_outliers: bool) -> tuple[float, float]:
    """One segment's mean and mean moving range (NaN when there is no moving range to average)."""
    base = y if fix_after is None else y[:fix_after]
    mean = r_mean(base)
    ranges = np.abs(np.diff(base))
    mean_range = r_mean(ranges)
    if screen_outliers:
        # NaN when there are no ranges: nothing passes, as in the reference
        ranges = ranges[ranges < SCREEN * mean_range]
        mean_range = r_mean(ranges)
    return mean, mean_range


# ---- inputs ---------------------------------------------------------------------------------------------


def _dates(frame: pl.DataFrame, column: str) -> pl.Series:
    series = frame.get_column(column)
    if series.dtype in (pl.Date,) or isinstance(series.dtype, pl.Datetime):
        parsed = series
    elif series.dtype == pl.String:
        text = series.str.strip_chars()
        parsed = text.str.to_date("%Y-%m-%d", strict=False)
        if parsed.null_count() > series.null_count():
            try:
                as_datetime = text.str.to_datetime(strict=False)
            except pl.exceptions.PolarsError:  # no datetime format fits either
                as_datetime = None
            if as_datetime is not None and as_datetime.null_count() < parsed.null_count():
                parsed = as_datetime
    else:
        raise StatsInputError(f"column '{column}' is not a date (it holds {series.dtype})")
    missing = parsed.is_null()
    if missing.any():
        row = int(missing.arg_true()[0])
        original = series[row]
        if original is None or str(original).strip() == "":
            raise StatsInputError(f"column '{column}' has no date in row {row + 1}")
        raise StatsInputError(f"column '{column}' is not a date (YYYY-MM-DD) in row {row + 1}: {original!r}")
    return parsed.alias("date")


def _as_date_values(values: Iterable[object], dtype: pl.DataType, what: str) -> set:
    out = set()
    for value in values:
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                raise StatsInputError(f"{what} is not a date (YYYY-MM-DD): {value!r}") from None
        elif isinstance(value, dt.datetime | dt.date):
            parsed = value
        else:
            raise StatsInputError(f"{what} is not a date: {value!r}")
        if dtype == pl.Date:
            parsed = parsed.date() if isinstance(parsed, dt.datetime) else parsed
        elif not isinstance(parsed, dt.datetime):
            parsed = dt.datetime.combine(parsed, dt.time())
        out.add(parsed)
    return out


def spc(
    frame: pl.DataFrame,
    *,
    date: str,
    value: str,
    facet: str | None = None,
    improvement: Improvement = "increase",
    target: float | Mapping[str, float] | None = None,
    rebase: Sequence[object] | Mapping[str, Sequence[object]] = (),
    fix_after: int | None = None,
    screen_outliers: bool = True,
    bounds: tuple[float | None, float | None] = (None, None),
) -> pl.DataFrame:
    """XmR chart data for each series (one per `facet` value), one row per point.

    improvement: which direction is better ("increase", "decrease") or neither ("neutral").
    target: one target for every series, or a target per facet value; drives `assurance_type`.
    rebase: dates at which new limits start (the first point of each new segment), for every series,
        or a mapping from facet value to its dates. A date matching no point is ignored, with a warning.
    fix_after: compute each segment's limits from its first n points only (n >= 12).
    screen_outliers: leave large moving ranges out of the limits (see SCREEN).
    bounds: (lowest, highest) value the measure can take, None for no bound: a proportion's (0, 1), a
        rate's or a count's (0, None). Process limits and 2-sigma lines are clamped to them, so no limit
        is drawn where no value can be; a value beyond a bound raises StatsInputError. With every value
        within its bounds, clamping changes no signal, icon or assurance (nothing can lie beyond a
        limit at a bound).

    Columns: see SPC_COLUMNS. `facet` is null when no facet column is given. `rebase_group` counts
    rebase dates passed so far (0 before the first). Limits are null where a segment has no moving range
    to compute them from; `outside_limits`/`close_to_limits` are null there too. `variation_icon`
    (from the last point) and `assurance_type` (last limits against the target) repeat on every row of
    a series. Raises StatsInputError for unusable input.
    """
    if improvement not in ("increase", "decrease", "neutral"):
        raise StatsInputError(f"improvement must be increase, decrease or neutral, not {improvement!r}")
    if fix_after is not None and (isinstance(fix_after, bool) or int(fix_after) != fix_after):
        raise StatsInputError(f"fix_after must be a whole number, not {fix_after!r}")
    if fix_after is not None and fix_after < MIN_FIX_AFTER:
        raise StatsInputError(f"fix_after must be at least {MIN_FIX_AFTER} points, not {fix_after}")
    require_columns(frame, date, value, facet)

    values = numeric_column(frame, value)
    dates = _dates(frame, date)
    facets = (
        label_column(frame, facet) if facet is not None else pl.Series([None] * frame.height, dtype=pl.String)
    )
    data = pl.DataFrame({"facet": facets, "date": dates, "value": values})

    repeated = ~data.select(pl.struct("facet", "date").is_first_distinct()).to_series()
    if repeated.any():
        row = int(repeated.arg_true()[0])
        where = f" for {facet} {data['facet'][row]!r}" if facet is not None else ""
        raise StatsInputError(f"duplicate date {data['date'][row]}{where} in row {row + 1}")

    low, high = _bounds(bounds)
    _require_within(data["value"], low, high)

    facet_values = set(data["facet"].unique().to_list())
    targets = _targets(target, facet, facet_values)
    rebase_dates = _rebase(rebase, facet, facet_values, data["date"].dtype)

    data = data.sort("facet", "date", nulls_last=False)
    all_dates = set(data["date"].to_list())
    unused = sorted({d for dates_ in rebase_dates.values() for d in dates_} - all_dates)
    if unused:
        warnings.warn(
            f"rebase dates match no point and are ignored: {', '.join(map(str, unused))}", stacklevel=2
        )

    if data.height == 0:
        return pl.DataFrame(schema=_schema(data["date"].dtype))
    return _chart(data, improvement, targets, rebase_dates, fix_after, screen_outliers, (low, high))


def _bounds(bounds) -> tuple[float | None, float | None]:
    try:
        low, high = bounds
    except (TypeError, ValueError):
        raise StatsInputError(f"bounds must be (lowest, highest), not {bounds!r}") from None
    low = None if low is None else _number(low, "lower bound")
    high = None if high is None else _number(high, "upper bound")
    if low is not None and high is not None and low >= high:
        raise StatsInputError(f"the lower bound {low} must be below the upper bound {high}")
    return low, high


def _require_within(values: pl.Series, low: float | None, high: float | None) -> None:
    beyond = pl.Series([False] * values.len(), dtype=pl.Boolean)
    if low is not None:
        beyond = beyond | (values < low).fill_null(False)
    if high is not None:
        beyond = beyond | (values > high).fill_null(False)
    if beyond.any():
        row = int(beyond.arg_true()[0])
        where = (
            f"at least {low}" if high is None else f"at most {high}" if low is None else f"{low} to {high}"
        )
        raise StatsInputError(
            f"value {values[row]!r} in row {row + 1} is out of the measure's range ({where})"
        )


def _targets(target, facet: str | None, facet_values: set) -> dict:
    if target is None:
        return {}
    if isinstance(target, Mapping):
        if facet is None:
            raise StatsInputError("a target per facet needs a facet column")
        unknown = sorted(set(map(str, target)) - facet_values)
        if unknown:
            raise StatsInputError(f"target given for facets not in column '{facet}': {', '.join(unknown)}")
        return {str(k): _number(v, "target") for k, v in target.items()}
    number = _number(target, "target")
    return {f: number for f in facet_values}


def _number(value, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StatsInputError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise StatsInputError(f"{what} must be a finite number, not {value!r}")
    return number


def _rebase(rebase, facet: str | None, facet_values: set, dtype: pl.DataType) -> dict:
    if isinstance(rebase, Mapping):
        if facet is None:
            raise StatsInputError("rebase dates per facet need a facet column")
        unknown = sorted(set(map(str, rebase)) - facet_values)
        if unknown:
            raise StatsInputError(f"rebase given for facets not in column '{facet}': {', '.join(unknown)}")
        return {str(k): _as_date_values(_listed(v), dtype, "rebase date") for k, v in rebase.items()}
    if isinstance(rebase, str | dt.date):
        rebase = [rebase]
    dates = _as_date_values(rebase, dtype, "rebase date")
    return {f: dates for f in facet_values} if dates else {}


def _listed(value) -> list:
    return [value] if isinstance(value, str | dt.date) else list(value)


def _chart(
    data: pl.DataFrame,
    improvement: Improvement,
    targets: dict,
    rebase_dates: dict,
    fix_after: int | None,
    screen_outliers: bool,
    value_range: tuple[float | None, float | None] = (None, None),
) -> pl.DataFrame:
    """The chart for points sorted by facet and date."""
    n = data.height
    y = data["value"].to_numpy()
    facets = data["facet"].to_list()
    series_start = np.ones(n, dtype=bool)
    series_start[1:] = np.array([a != b for a, b in zip(facets[1:], facets[:-1], strict=True)], dtype=bool)
    if rebase_dates:
        dates = data["date"].to_list()
        rebased = np.array(
            [d in rebase_dates.get(f, ()) for f, d in zip(facets, dates, strict=True)], dtype=bool
        )
    else:
        rebased = np.zeros(n, dtype=bool)
    # rebase_group counts the rebase dates passed within the series
    passed = np.cumsum(rebased)
    rebase_group = passed - np.maximum.accumulate(np.where(series_start, passed - rebased, 0))
    segment_start = series_start | rebased
    segment = np.cumsum(segment_start) - 1
    bounds = np.append(np.flatnonzero(segment_start), n)

    mean = np.empty(n)
    mean_range = np.empty(n)
    short = np.empty(n, dtype=bool)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        mean[a:b], mean_range[a:b] = limits(y[a:b], fix_after, screen_outliers)
        short[a:b] = b - a < SHORT_GROUP
    lpl = mean - LIMIT * mean_range
    upl = mean + LIMIT * mean_range
    lower_2sigma = mean - LIMIT_CLOSE * mean_range
    upper_2sigma = mean + LIMIT_CLOSE * mean_range
    low, high = value_range  # no limit where no value can be (np.maximum and np.minimum keep NaN)
    if low is not None:
        lpl, lower_2sigma = np.maximum(lpl, low), np.maximum(lower_2sigma, low)
    if high is not None:
        upl, upper_2sigma = np.minimum(upl, high), np.minimum(upper_2sigma, high)
    has_limits = ~np.isnan(mean_range)
    relative = np.sign(y - mean).astype(np.int8)
    outside = has_limits & ((y > upl) | (y < lpl))
    close = has_limits & ~outside & ((y < lower_2sigma) | (y > upper_2sigma))
    labels, direction = special_causes(y, relative, close, outside, segment)
    kinds = point_types(direction, improvement)

    last = np.append(np.flatnonzero(series_start)[1:], n) - 1
    icons = np.empty(n, dtype=object)
    assurance = np.empty(n, dtype=object)
    target = np.full(n, np.nan)
    for first, end in zip(np.flatnonzero(series_start), last, strict=True):
        goal = targets.get(facets[first])
        icons[first : end + 1] = variation_icon(kinds[end], improvement)
        assurance[first : end + 1] = assurance_type(goal, lpl[end], upl[end], improvement)
        if goal is not None:
            target[first : end + 1] = goal

    def missing_without_limits(values: np.ndarray) -> pl.Series:
        return pl.Series(values).set(pl.Series(~has_limits), None)

    out = pl.DataFrame(
        {
            "facet": data["facet"],
            "date": data["date"],
            "value": y,
            "rebase_group": rebase_group.astype(np.int64),
            "mean": mean,
            "lpl": lpl,
            "upl": upl,
            "lower_2sigma": lower_2sigma,
            "upper_2sigma": upper_2sigma,
            "relative_to_mean": relative.astype(np.int64),
            "outside_limits": missing_without_limits(outside),
            "close_to_limits": missing_without_limits(close),
            "special_cause_label": pl.Series(labels.tolist(), dtype=pl.String),
            "point_type": pl.Series(kinds.tolist(), dtype=pl.String),
            "variation_icon": pl.Series(icons.tolist(), dtype=pl.String),
            "assurance_type": pl.Series(assurance.tolist(), dtype=pl.String),
            "short_group_warning": short,
            "target": target,
        }
    )
    # limits that cannot be computed (no moving range to average) are reported as missing
    return out.with_columns(
        pl.col("mean", "lpl", "upl", "lower_2sigma", "upper_2sigma", "target").fill_nan(None)
    )


def _schema(date_dtype: pl.DataType) -> dict:
    floats = ("value", "mean", "lpl", "upl", "lower_2sigma", "upper_2sigma", "target")
    schema = {}
    for name in SPC_COLUMNS:
        if name == "date":
            schema[name] = date_dtype
        elif name in floats:
            schema[name] = pl.Float64
        elif name in ("rebase_group", "relative_to_mean"):
            schema[name] = pl.Int64
        elif name in ("outside_limits", "close_to_limits", "short_group_warning"):
            schema[name] = pl.Boolean
        else:
            schema[name] = pl.String
    return schema
