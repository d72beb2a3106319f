"""Every failure of a file as one row: (row_number, column_name, check_name, severity, reason).

The failures come from reading (ragged rows, oversized fields, decoded characters), from casting
(`nqs.landing.casting`), from pandera's failure cases of the contract and from the organisations
reference (`nqs.landing.membership`); each carries a one-line `reason` (`check_reasons` for the
contract's checks, `nqs.landing.check_results.REASONS` for landing's own).

Row numbers are 1-based data records within the file (the header and blank lines are not counted),
as everywhere else. pandera reports a failing row by its 0-based position in the frame it validated;
`contract_failures` maps that position back to the record's row number. A failure case without an
index (a column that could not be checked at all) condemns the whole file.
"""

from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from contracts.base import Severity, failure_attribution
from contracts.sources import SourceTable
from nqs.landing.casting import flagged_cells
from nqs.landing.check_results import ENCODING_CHECK, FIELD_TOO_LONG_CHECK, RAGGED_ROW_CHECK, REASONS
from nqs.landing.membership import ReferenceCodes, membership_failures
from nqs.landing.reading import EXTRA_PREFIX, ROW_NUMBER, UTF8, Delivered, FileFailure
from nqs.landing.whole_file import MAX_FIELD_BYTES

FAILURE_SCHEMA: dict[str, pl.DataType] = {
    "row_number": pl.Int64(),
    "column_name": pl.String(),
    "check_name": pl.String(),
    "severity": pl.String(),
    "reason": pl.String(),
}


def with_severity(failures: pl.DataFrame, severity: Severity) -> pl.DataFrame:
    return failures.with_columns(severity=pl.lit(str(severity)))


def reading_failures(raw: pl.DataFrame, delivered: Delivered) -> tuple[pl.DataFrame, pl.Series]:
    """Ragged rows, oversized fields and decoded characters; and which rows are well formed.

    Most rows ragged fails the file (`nqs.landing.whole_file.escalate_ragged_rows`, checked first).
    """
    width = len(delivered.header)
    counts = delivered.row_field_counts
    well_formed = (counts == width).alias("well_formed")
    found: list[pl.DataFrame] = []
    ragged = raw.select(ROW_NUMBER, counts.alias("fields")).filter(~well_formed)
    if ragged.height:
        found.append(
            ragged.select(
                pl.col(ROW_NUMBER).alias("row_number"),
                column_name=pl.lit(None, dtype=pl.String),
                check_name=pl.lit(RAGGED_ROW_CHECK),
                severity=pl.lit(str(Severity.MAJOR)),
                reason=pl.format("{} fields where the header has {}", pl.col("fields"), pl.lit(width)),
            )
        )
    text_columns = [c for c in raw.columns if c != ROW_NUMBER]
    long_flags = {c: pl.col(c).str.len_bytes() > MAX_FIELD_BYTES for c in text_columns}
    too_long = flagged_cells(raw, long_flags, FIELD_TOO_LONG_CHECK, f"longer than {MAX_FIELD_BYTES} bytes")
    found.append(with_severity(too_long, Severity.MAJOR))
    if delivered.encoding != UTF8:
        non_ascii = {c: pl.col(c).str.contains(r"[^\x00-\x7F]") for c in text_columns}
        reason = f"decoded from {delivered.encoding}; the collection's files are UTF-8"
        found.append(with_severity(flagged_cells(raw, non_ascii, ENCODING_CHECK, reason), Severity.MINOR))
    failures = pl.concat([f.select(FAILURE_SCHEMA.keys()).cast(FAILURE_SCHEMA) for f in found])
    # a surplus field belongs to no contract column; it is reported against the row (ragged_row)
    failures = failures.filter(~pl.col("column_name").fill_null("").str.starts_with(EXTRA_PREFIX))
    return failures, well_formed


@cache
def _attributions(table: SourceTable) -> pl.DataFrame:
    """check_number -> (column, severity) for the contract's dataframe-level checks."""
    rows = [(i, *failure_attribution(check)) for i, check in enumerate(table.model.to_schema().checks)]
    return pl.DataFrame(
        {
            "check_number": pl.Series([r[0] for r in rows], dtype=pl.Int32),
            "attributed_column": pl.Series([r[1] for r in rows], dtype=pl.String),
            "attributed_severity": pl.Series([str(r[2]) for r in rows], dtype=pl.String),
        }
    )


@cache
def check_reasons(table: SourceTable) -> dict[str, str]:
    """A one-line reason per contract check, keyed `<column>/<check>` (column empty for frame checks).

    `<check>` is pandera's name of the check as in its failure cases (`in_range(60, 120)`, `nhs_number`).
    """
    schema = table.model.to_schema()

    def described(check: pa.Check, owner: object | None = None) -> str:
        if check.name in REASONS:
            return REASONS[check.name]
        if check.error:  # pandera's built-in checks name themselves with their arguments
            return f"fails {check.error}"
        stats = check.statistics or {}
        if "domain" in stats:
            return f"not in the code list '{stats['domain']}'"
        function = getattr(owner, check.name, None) or getattr(check._check_fn, "func", None)
        doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
        if not doc:
            return f"fails {check.name}"
        line = doc[0]
        for key, value in stats.items():  # a reusable check's docstring names its arguments in backticks
            line = line.replace(f"`{key}`", f"`{value}`")
        return f"expected: {line}"

    reasons = {
        f"{name}/{check.error or check.name}": described(check)
        for name, column in schema.columns.items()
        for check in column.checks
    }
    reasons |= {f"/{check.error or check.name}": described(check, table.model) for check in schema.checks}
    return reasons


def contract_failures(table: SourceTable, typed: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """pandera's failure cases as failure rows; a case without a row fails the file (FileFailure)."""
    try:
        with config_context(
            validation_enabled=True,  # whatever PANDERA_* says: landing without checks would accept anything
            validation_depth=ValidationDepth.SCHEMA_AND_DATA,
            use_narwhals_backend=False,  # failure cases are read in the polars backend's layout
        ):
            table.model.validate(typed.drop(ROW_NUMBER), lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    whole = cases.filter(pl.col("index").is_null())
    if whole.height:
        first = whole.row(0, named=True)
        column = first["column"] if first["schema_context"] == "Column" else None
        where = f"column '{column}' " if column else ""
        reason = str(first["failure_case"]).strip().splitlines()[0][:200]
        raise FileFailure(
            "contract",
            column,
            f"failed contract {table.model.__name__} as a whole: {where}check {first['check']} ({reason})",
            rows=raw,
        )
    positions = typed.select(pl.col(ROW_NUMBER).alias("row_number")).with_row_index("index")
    by_row = cases.with_columns(pl.col("index").cast(pl.UInt32)).join(positions, on="index", how="left")
    by_row = by_row.join(_attributions(table), on="check_number", how="left")
    is_frame_check = pl.col("schema_context") == "DataFrameSchema"
    reasons = check_reasons(table)
    return by_row.select(
        "row_number",
        column_name=pl.when(is_frame_check).then(pl.col("attributed_column")).otherwise(pl.col("column")),
        check_name=pl.col("check").str.replace(r"\(.*$", ""),
        severity=pl.when(is_frame_check)
        .then(pl.col("attributed_severity"))
        .otherwise(pl.lit(str(Severity.MAJOR))),
        reason=pl.format(
            "{}/{}", pl.when(is_frame_check).then(pl.lit("")).otherwise("column"), "check"
        ).replace_strict(reasons, default=None, return_dtype=pl.String),
    ).with_columns(
        reason=pl.coalesce(
            "reason",
            pl.col("check_name").replace_strict(REASONS, default=None, return_dtype=pl.String),
            pl.format("fails {}", pl.col("check_name")),
        )
    )


def reference_failures(typed: pl.DataFrame, table: SourceTable, reference: ReferenceCodes) -> pl.DataFrame:
    """Organisation codes unknown to the reference or closed on the activity date (major)."""
    found = membership_failures(typed, table, reference)
    return found.with_columns(
        severity=pl.lit(str(Severity.MAJOR)),
        reason=pl.col("check_name").replace_strict(REASONS, default=None, return_dtype=pl.String),
    )


def combine(type_failures: pl.DataFrame, *others: pl.DataFrame | None) -> pl.DataFrame:
    """All failures of a file; a cell that failed its type is not also reported as missing."""
    rest = pl.concat(
        [f.select(FAILURE_SCHEMA.keys()).cast(FAILURE_SCHEMA) for f in others if f is not None and f.height]
        or [pl.DataFrame(schema=FAILURE_SCHEMA)]
    )
    rest = rest.join(
        type_failures.select("row_number", "column_name", lost=pl.lit(True)),
        on=["row_number", "column_name"],
        how="left",
    ).filter(~(pl.col("lost").fill_null(False) & (pl.col("check_name") == "not_nullable")))
    return pl.concat(
        [type_failures.select(FAILURE_SCHEMA.keys()).cast(FAILURE_SCHEMA), rest.select(FAILURE_SCHEMA.keys())]
    ).cast(FAILURE_SCHEMA)


def critical_failures(failure: FileFailure, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A whole-file failure as failure rows: one per readable row, and the same for the check results,
    which record the failure even when no row could be read (one row without a row number)."""
    failures = rows.select(
        pl.col(ROW_NUMBER).alias("row_number"),
        column_name=pl.lit(failure.column, dtype=pl.String),
        check_name=pl.lit(f"critical:{failure.reason}"),
        severity=pl.lit(str(Severity.CRITICAL)),
        reason=pl.lit(failure.detail),
    )
    recorded = (
        failures
        if failures.height
        else pl.DataFrame(
            {
                "row_number": [None],
                "column_name": [failure.column],
                "check_name": [f"critical:{failure.reason}"],
                "severity": [str(Severity.CRITICAL)],
                "reason": [failure.detail],
            },
            schema=FAILURE_SCHEMA,
        )
    )
    return failures, recorded
