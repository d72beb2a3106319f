"""Input validation and the arithmetic both charts share.

Sums and means are accumulated in extended precision, one element after another, and a mean gets the
same second correcting pass that R's `mean()` applies. Doing the arithmetic the way the reference
implementations do keeps results identical to the last bit in practice, which matters where a rule
compares a value with a limit or a mean exactly (a point *on* the mean breaks a run).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl


class StatsInputError(ValueError):
    """Input the statistics cannot use. The message is one line, naming the column and, where it
    applies, the row (1-based, counting data rows only, as a spreadsheet user would)."""


def r_sum(values: np.ndarray) -> float:
    """Sum accumulated left to right in extended precision, as R's `sum()` does."""
    if len(values) == 0:
        return 0.0
    return float(np.cumsum(np.asarray(values, dtype=np.longdouble))[-1])


def r_mean(values: np.ndarray) -> float:
    """Mean as R computes it: an extended-precision sum, divided, then corrected by the mean residual."""
    n = len(values)
    if n == 0:
        return math.nan
    x = np.asarray(values, dtype=np.longdouble)
    s = np.cumsum(x)[-1] / n
    if np.isfinite(s):
        s = s + np.cumsum(x - s)[-1] / n
    return float(s)


def require_columns(frame: pl.DataFrame, *columns: str | None) -> None:
    for column in columns:
        if column is not None and column not in frame.columns:
            available = ", ".join(frame.columns) or "none"
            raise StatsInputError(f"column '{column}' not found in the input (columns: {available})")


def numeric_column(frame: pl.DataFrame, column: str) -> np.ndarray:
    """The column as float64; a missing, non-numeric or non-finite value is an error naming its row."""
    series = frame.get_column(column)
    if series.dtype == pl.Boolean or not (series.dtype.is_numeric() or series.dtype == pl.String):
        raise StatsInputError(f"column '{column}' is not numeric (it holds {series.dtype})")
    if series.dtype == pl.String:
        cast = series.str.strip_chars().cast(pl.Float64, strict=False)
    else:
        cast = series.cast(pl.Float64)
    values = cast.to_numpy()
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        row = int(bad[0])
        original = series[row]
        if original is None or (isinstance(original, str) and original.strip() == ""):
            raise StatsInputError(f"column '{column}' has no value in row {row + 1}")
        kind = "a number" if np.isnan(values[row]) and cast[row] is None else "a finite number"
        raise StatsInputError(f"column '{column}' is not {kind} in row {row + 1}: {original!r}")
    return values


def label_column(frame: pl.DataFrame, column: str) -> pl.Series:
    """The column as text labels; a missing label is an error naming its row."""
    series = frame.get_column(column).cast(pl.String)
    missing = series.is_null()
    if missing.any():
        row = int(missing.arg_true()[0])
        raise StatsInputError(f"column '{column}' has no value in row {row + 1}")
    return series
