"""Where a month or financial year ends, and whether its follow-up is complete."""

from __future__ import annotations

import polars as pl


def period_end() -> pl.Expr:
    """The first day after a month or financial year (period_type, period_start)."""
    return (
        pl.when(pl.col("period_type") == "financial_year")
        .then(pl.col("period_start").dt.offset_by("1y"))
        .otherwise(pl.col("period_start").dt.offset_by("1mo"))
    )


def is_complete_period(latest_complete_month: pl.Expr) -> pl.Expr:
    """Whether a period ends in `latest_complete_month` or before (true where that month is not known)."""
    return (period_end() <= latest_complete_month.dt.offset_by("1mo")).fill_null(True)
