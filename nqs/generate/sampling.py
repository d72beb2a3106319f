"""Vectorised sampling helpers shared by the source generators (no per-record Python loops)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from nqs.generate.periods import SECONDS_PER_DAY, Month, weekday_weights


def categorical(rng: np.random.Generator, probs: Sequence[float], size: int) -> np.ndarray:
    """Category indices drawn from one distribution; `probs` are relative weights (need not sum to 1)."""
    cumulative = np.cumsum(np.asarray(probs, dtype=float))
    cumulative /= cumulative[-1]  # exactly 1.0 at the end: zero-probability tail categories never drawn
    return np.minimum(np.searchsorted(cumulative, rng.random(size), side="right"), len(cumulative) - 1)


def categorical_by_group(rng: np.random.Generator, groups: np.ndarray, prob_matrix: np.ndarray) -> np.ndarray:
    """Category indices where each record's distribution is the row of `prob_matrix` for its group.

    Used where the mix depends on context (event categories differ by care setting), drawn in one pass
    over cumulative probabilities instead of one draw per record.
    """
    matrix = np.asarray(prob_matrix, dtype=float)
    cumulative = np.cumsum(matrix, axis=1)
    cumulative /= cumulative[:, -1:]
    u = rng.random(len(groups))
    out = np.empty(len(groups), dtype=np.int64)
    for group in np.unique(groups):
        mask = groups == group
        out[mask] = np.searchsorted(cumulative[group], u[mask], side="right")
    return np.minimum(out, matrix.shape[1] - 1)


def poisson_counts(rng: np.random.Generator, expected: np.ndarray) -> np.ndarray:
    """Per-unit record counts: real monthly counts scatter around their expectation."""
    return rng.poisson(np.maximum(expected, 0.0))


def days_in_month(
    rng: np.random.Generator, month: Month, size: int, weekend_weight: float = 1.0
) -> np.ndarray:
    """Day numbers within the month, weekends damped by `weekend_weight`."""
    days = np.arange(month.first_day, month.last_day + 1)
    if weekend_weight == 1.0:
        return rng.integers(month.first_day, month.last_day + 1, size=size)
    return rng.choice(days, size=size, p=weekday_weights(days, weekend_weight))


def timestamps_in_month(rng: np.random.Generator, month: Month, size: int) -> np.ndarray:
    """Seconds since the epoch at minute resolution, busier by day than at night (emergency arrivals)."""
    days = rng.integers(month.first_day, month.last_day + 1, size=size)
    hour_weights = np.array([2, 2, 1.5, 1.5, 1.5, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 4, 4, 3, 3])
    hours = categorical(rng, hour_weights, size)
    minutes = rng.integers(0, 60, size=size)
    return days.astype(np.int64) * SECONDS_PER_DAY + hours * 3600 + minutes * 60


def round_to_minute(seconds: np.ndarray) -> np.ndarray:
    """Clinical systems record times to the minute."""
    return (np.asarray(seconds, dtype=np.int64) // 60) * 60


def clipped_int_normal(
    rng: np.random.Generator, mean: float, sd: float, low: int, high: int, size: int
) -> np.ndarray:
    """Integer values from a normal curve kept inside the collection's permitted range (e.g. ages).

    Values outside the range are drawn again (a few times) rather than clipped, so the limits do not
    collect a spike of implausibly many 105-year-olds.
    """
    values = np.rint(rng.normal(mean, sd, size))
    for _ in range(5):
        outside = (values < low) | (values > high)
        if not outside.any():
            break
        values[outside] = np.rint(rng.normal(mean, sd, int(outside.sum())))
    return np.clip(values, low, high).astype(np.int64)


def lookup(labels: Sequence[str], index: np.ndarray) -> pl.Series:
    """Labels for category indices, gathered inside polars so strings are never built per row in Python."""
    return pl.Series(list(labels), dtype=pl.String).gather(pl.Series(np.asarray(index, dtype=np.int64)))


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Identifiers such as `W000123456`: a fixed prefix and a zero-padded number."""
    digits = pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return prefix + digits


def dates(days: np.ndarray) -> pl.Series:
    """A polars Date series from day numbers."""
    return pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)


def datetimes(seconds: np.ndarray) -> pl.Series:
    """A polars Datetime series from seconds since the epoch."""
    return (pl.Series(np.asarray(seconds, dtype=np.int64)) * 1_000_000).cast(pl.Datetime("us"))


def with_nulls(series: pl.Series, missing: np.ndarray) -> pl.Series:
    """A copy of the series with nulls where `missing` is set (a field left empty in the extract)."""
    return series.clone().scatter(np.flatnonzero(missing), None)
