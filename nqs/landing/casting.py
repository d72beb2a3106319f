"""From the text of a CSV to the contract's types, one cell at a time, without losing a failing cell.

pandera's polars backend coerces a column as a whole: one bad value fails the column's dtype, and no
row is named. So landing reads every column as text and casts here first; a non-empty value that
does not survive the cast is a row failure (`type:<dtype>`, with a reason naming the expected
format), and pandera then sees a typed frame.

Before casting, text is normalised where the meaning is not in doubt, and each change is recorded as
a minor finding (the row is accepted with the normalised value):

- `whitespace`: spaces around a value are removed (` RAA ` is `RAA`; a value of only spaces is empty);
- `code_case`: ODS codes are upper case by definition, so `raa` is `RAA`.

Anything else stays as delivered: a date in another format (`31/01/2025`, `2025/01/31`) is not
guessed at, because `01/02/2025` is the 1st of February in England and the 2nd of January in the
tools that wrote some files. Such rows are quarantined with a reason naming the expected format.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from contracts.base import type_check_name
from contracts.sources import SourceTable

DATE_FORMAT = "%Y-%m-%d"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
TRUE_TEXT, FALSE_TEXT = "Y", "N"

FINDING_SCHEMA: dict[str, pl.DataType] = {
    "row_number": pl.Int64(),
    "column_name": pl.String(),
    "check_name": pl.String(),
    "reason": pl.String(),
}
WHITESPACE_CHECK = "whitespace"
CODE_CASE_CHECK = "code_case"


@cache
def contract_dtypes(table: SourceTable) -> dict[str, pl.DataType]:
    """Contract column -> polars dtype (an instance, e.g. `pl.Int64()`), in contract order."""
    dtypes = {name: column.dtype.type for name, column in table.model.to_schema().columns.items()}
    return {name: dtype() if isinstance(dtype, type) else dtype for name, dtype in dtypes.items()}


def empty_as_null(column: str) -> pl.Expr:
    """The collections' convention: an empty field is a missing value."""
    text = pl.col(column)
    return pl.when(text == "").then(None).otherwise(text).alias(column)


def normalise_text(
    raw: pl.DataFrame, columns: list[str], code_columns: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`raw` with `columns` trimmed and `code_columns` upper-cased, and one finding per changed cell.

    Returns (normalised frame, findings in `FINDING_SCHEMA`; severity is the caller's: minor).
    """

    def normalised(column: str) -> pl.Expr:
        text = pl.col(column).str.strip_chars()
        return text.str.to_uppercase() if column in code_columns else text

    changes = {
        WHITESPACE_CHECK: {c: pl.col(c) != pl.col(c).str.strip_chars() for c in columns},
        CODE_CASE_CHECK: {
            c: pl.col(c).str.strip_chars() != pl.col(c).str.strip_chars().str.to_uppercase()
            for c in code_columns
        },
    }
    found = [
        flagged_cells(raw, flags, check, reason)
        for check, flags, reason in (
            (WHITESPACE_CHECK, changes[WHITESPACE_CHECK], "spaces around the value removed"),
            (CODE_CASE_CHECK, changes[CODE_CASE_CHECK], "code upper-cased"),
        )
        if flags
    ]
    findings = pl.concat(found) if found else pl.DataFrame(schema=FINDING_SCHEMA)
    if not findings.height:
        return raw, findings
    return raw.with_columns(normalised(c) for c in columns), findings


def flagged_cells(raw: pl.DataFrame, flags: dict[str, pl.Expr], check: str, reason: str) -> pl.DataFrame:
    """One finding (`FINDING_SCHEMA`) per (row, column) whose flag (an expression per column) is true."""
    marked = raw.select("_row_number", *(flag.fill_null(False).alias(c) for c, flag in flags.items()))
    marked = marked.filter(pl.any_horizontal(list(flags)))
    return (
        marked.unpivot(index="_row_number", variable_name="column_name", value_name="hit")
        .filter(pl.col("hit"))
        .select(
            pl.col("_row_number").alias("row_number"),
            "column_name",
            check_name=pl.lit(check),
            reason=pl.lit(reason),
        )
        .cast(FINDING_SCHEMA)
    )


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


def _reason(dtype: pl.DataType) -> pl.Expr:
    """Why a text `value` did not cast to `dtype`, naming the format the contract expects."""
    value = pl.col("value")

    def rules(*pairs: tuple[str, str], otherwise: str) -> pl.Expr:
        expr = pl.lit(otherwise)
        for pattern, reason in reversed(pairs):
            expr = pl.when(value.str.contains(pattern)).then(pl.lit(reason)).otherwise(expr)
        return expr

    if dtype == pl.Date:
        return rules(
            (r"^\d{4}-\d{2}-\d{2}$", "not a real calendar date (expected YYYY-MM-DD)"),
            (r"^\d{1,2}/\d{1,2}/\d{4}$", "date written DD/MM/YYYY; expected YYYY-MM-DD"),
            (r"^\d{4}/\d{1,2}/\d{1,2}$", "date written YYYY/MM/DD; expected YYYY-MM-DD"),
            (r"^\d{4}-\d{2}-\d{2}[T ]", "a date and time where a date is expected (YYYY-MM-DD)"),
            otherwise="not a date in the format YYYY-MM-DD",
        )
    if isinstance(dtype, pl.Datetime):
        return rules(
            (r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", "not a real date and time (YYYY-MM-DDTHH:MM:SS)"),
            (r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "space between date and time; expected YYYY-MM-DDTHH:MM:SS"),
            (r"^\d{4}-\d{2}-\d{2}$", "a date without a time; expected YYYY-MM-DDTHH:MM:SS"),
            otherwise="not a date and time in the format YYYY-MM-DDTHH:MM:SS",
        )
    if dtype == pl.Boolean:
        return pl.lit(f"expected {TRUE_TEXT} or {FALSE_TEXT}")
    if dtype.is_integer():
        return rules(
            (r"^[+-]?\d+$", f"whole number out of the range of {dtype}"),
            (r"^[+-]?\d*\.\d*$", "a decimal where a whole number is expected"),
            otherwise="not a whole number",
        )
    return rules(
        (r"(?i)^[+-]?(nan|inf|infinity)$", "not a finite number"),
        (r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", f"number out of the range of {dtype}"),
        otherwise="not a number",
    )


def cast_to_contract(raw: pl.DataFrame, dtypes: dict[str, pl.DataType]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed contract columns, and one failure row per (row, column) whose value did not cast.

    `raw` holds the contract columns as text (empty already null) plus `_row_number`.
    Returns (typed frame with `_row_number`, failures with row_number/column_name/check_name/reason).
    """
    typed = raw.select("_row_number", *(cast_expr(c, t) for c, t in dtypes.items()))
    checked = [c for c, t in dtypes.items() if t != pl.String]
    lost = {c: raw[c].is_not_null() & typed[c].is_null() for c in checked}
    failures = [
        raw.filter(mask)
        .select(pl.col("_row_number").alias("row_number"), pl.col(c).alias("value"))
        .select(
            "row_number",
            column_name=pl.lit(c),
            check_name=pl.lit(type_check_name(dtypes[c])),
            reason=_reason(dtypes[c]),
        )
        for c, mask in lost.items()
        if mask.any()
    ]
    found = pl.concat(failures) if failures else pl.DataFrame(schema=FINDING_SCHEMA)
    return typed, found.cast(FINDING_SCHEMA).sort("row_number", "column_name")


def non_empty_counts(raw: pl.DataFrame, columns: list[str]) -> dict[str, int]:
    """Non-null values per column: the denominator of "most values of a column failed"."""
    if not columns:
        return {}
    return raw.select(pl.col(columns).count()).row(0, named=True)
