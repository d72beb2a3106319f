"""From the text of a CSV to the contract's types, one cell at a time, without losing a failing cell.

pandera's polars backend coerces a column as a whole: one bad value fails the column's dtype, and no
row is named. So landing reads every column as text and casts here first; a non-empty value that
does not survive the cast is a row failure (`type:<dtype>`), and pandera then sees a typed frame.
"""

from __future__ import annotations

import polars as pl

DATE_FORMAT = "%Y-%m-%d"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
TRUE_TEXT, FALSE_TEXT = "Y", "N"


def empty_as_null(column: str) -> pl.Expr:
    """The collections' convention: an empty field is a missing value."""
    text = pl.col(column)
    return pl.when(text == "").then(None).otherwise(text).alias(column)


def cast_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """Text to `dtype`; a value that does not parse becomes null (never an exception)."""
    text = pl.col(column)
    if dtype == pl.String:
        result = text
    elif dtype == pl.Boolean:
        result = pl.when(text == TRUE_TEXT).then(True).when(text == FALSE_TEXT).then(False).otherwise(None)
    elif dtype == pl.Date:
        result = text.str.to_date(DATE_FORMAT, strict=False)
    elif isinstance(dtype, pl.Datetime):
        result = text.str.to_datetime(TIMESTAMP_FORMAT, time_unit=dtype.time_unit or "us", strict=False)
    elif dtype.is_float():
        number = text.cast(dtype, strict=False)
        result = pl.when(number.is_finite()).then(number)  # NaN and infinity are not measurements
    elif dtype.is_integer():
        result = text.cast(dtype, strict=False)
    else:
        raise TypeError(f"no cast from text to {dtype} for column {column}")
    return result.alias(column)


def type_check_name(dtype: pl.DataType) -> str:
    """`type:Int64`, `type:Date`, ...: the check name of a value that is not of its column's type."""
    return f"type:{dtype.__class__.__name__}"


def cast_to_contract(raw: pl.DataFrame, dtypes: dict[str, pl.DataType]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed contract columns, and one failure row per (row, column) whose value did not cast.

    `raw` holds the contract columns as text (empty already null) plus `_row_number`.
    Returns (typed frame with `_row_number`, failures with row_number/column_name/check_name).
    """
    typed = raw.select("_row_number", *(cast_expr(c, t) for c, t in dtypes.items()))
    checked = [c for c, t in dtypes.items() if t != pl.String]
    lost = pl.DataFrame(
        {"row_number": raw["_row_number"], **{c: raw[c].is_not_null() & typed[c].is_null() for c in checked}}
    )
    lost = lost.filter(pl.any_horizontal(checked)) if checked else lost.clear()
    failures = (
        lost.unpivot(index="row_number", variable_name="column_name", value_name="lost")
        .filter(pl.col("lost"))
        .select(
            "row_number",
            "column_name",
            check_name=pl.col("column_name").replace_strict(
                {c: type_check_name(dtypes[c]) for c in checked}, return_dtype=pl.String
            ),
        )
    )
    return typed, failures.cast({"row_number": pl.Int64})
