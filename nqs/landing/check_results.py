"""Data-quality results: every check of every load, with its category, rows checked and rows failed.

Landing records one row per check per file (`CHECK_RESULT_SCHEMA`), whether or not the check found
anything, so a source's quality can be charted month by month. Checks fall in the three categories
of the Kahn framework that OHDSI's Data Quality Dashboard uses:

- conformance: the value has the agreed type, format or code (types, patterns, code lists, headers);
- completeness: a value or column that must be there is there;
- plausibility: the value is believable (ranges, dates in order or not in the future, codes open on
  the activity date, natural keys unique).
"""

from __future__ import annotations

import re
from datetime import date, datetime

import polars as pl

from contracts.base import Severity, failure_attribution, type_check_name
from contracts.reference_checks import MEMBERSHIP_CHECKS
from contracts.sources import SourceTable
from nqs.landing.casting import CODE_CASE_CHECK, WHITESPACE_CHECK

CHECK_RESULT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "table_name": pl.String(),
    "source_file": pl.String(),
    "file_period": pl.Date(),
    "contract_version": pl.String(),
    "check_name": pl.String(),
    "column_name": pl.String(),
    "category": pl.String(),
    "severity": pl.String(),
    "rows_checked": pl.Int64(),
    "rows_failed": pl.Int64(),
    "loaded_at": pl.Datetime("us"),
}

#: Category of each check by name; `type:*` checks are conformance, `critical:*` follow their reason.
CATEGORIES: dict[str, str] = {
    "not_nullable": "completeness",
    "critical:empty_file": "completeness",
    "critical:missing_column": "completeness",
    "critical:no_header": "conformance",
    "critical:unexpected_column": "conformance",
    "critical:unreadable": "conformance",
    "critical:contract": "conformance",
    "critical:not_csv": "conformance",
    "critical:wrong_delimiter": "conformance",
    "critical:wrong_source": "conformance",
    "critical:duplicate_column": "conformance",
    "critical:ragged_rows": "conformance",
    "critical:wrong_type": "conformance",
    "critical:duplicate_keys": "plausibility",
    "ragged_row": "conformance",
    "field_too_long": "plausibility",
    "encoding": "conformance",
    WHITESPACE_CHECK: "conformance",
    CODE_CASE_CHECK: "conformance",
    "str_matches": "conformance",
    "in_domain": "conformance",
    "isin": "conformance",
    "nhs_number": "conformance",
    "ods_trust_code": "conformance",
    "ods_site_code": "conformance",
    "first_of_month": "conformance",
    "in_range": "plausibility",
    "greater_than_or_equal_to": "plausibility",
    "less_than_or_equal_to": "plausibility",
    "not_in_future": "plausibility",
    "empty_unless": "plausibility",
    "not_before": "plausibility",
    "not_after": "plausibility",
    "plausible_range": "plausibility",
    "plausible_delay": "plausibility",
    "unique_key": "plausibility",
    "known_trust_code": "plausibility",
    "open_trust_code": "plausibility",
    "known_site_code": "plausibility",
    "open_site_code": "plausibility",
    "site_of_trust": "plausibility",
    "first_of_quarter": "conformance",
    "sums_to": "plausibility",
    "ons_la_code": "conformance",
    "financial_year_start": "conformance",
    "known_la_code": "plausibility",
    "open_la_code": "plausibility",
}
#: Checks written as contract methods (dates in order and the like) are plausibility checks.
DEFAULT_CATEGORY = "plausibility"

#: Why a row failed, for checks whose name alone does not say (pandera's own checks name themselves).
REASONS: dict[str, str] = {
    "not_nullable": "required value is missing",
    "unique_key": "natural key already seen earlier in the file",
    "known_trust_code": "trust code not in the organisations reference",
    "open_trust_code": "trust closed before the activity date (use its successor's code)",
    "known_site_code": "site code not in the organisations reference",
    "open_site_code": "site closed before the activity date (use its successor's code)",
    "site_of_trust": "site belongs to another trust in the organisations reference",
    "known_la_code": "local authority code not in the organisations reference",
    "open_la_code": "local authority closed before the activity date (use its successor's code)",
}

#: Checks made while reading a file, before its contract: (check, severity, per column?).
ENCODING_CHECK, FIELD_TOO_LONG_CHECK, RAGGED_ROW_CHECK = "encoding", "field_too_long", "ragged_row"
READING_CHECKS: list[tuple[str, Severity, bool]] = [
    (RAGGED_ROW_CHECK, Severity.MAJOR, False),
    (FIELD_TOO_LONG_CHECK, Severity.MAJOR, True),
    (ENCODING_CHECK, Severity.MINOR, True),
    (WHITESPACE_CHECK, Severity.MINOR, True),
]
#: Registered column checks whose columns hold ODS (or ONS) codes, upper case by definition (`code_case`).
CODE_CHECKS = ("ods_trust_code", "ods_site_code", "ons_la_code")


_PERIOD = re.compile(r"_(\d{4})-(\d{2})$")


def category(check_name: str) -> str:
    """conformance, completeness or plausibility."""
    if check_name.startswith("type:"):
        return "conformance"
    return CATEGORIES.get(check_name, DEFAULT_CATEGORY)


def file_period(source_file: str) -> date | None:
    """First day of the month a file covers, from its `<table>_<YYYY-MM>` name; None for reference files."""
    stem = source_file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    match = _PERIOD.search(stem)
    return date(int(match[1]), int(match[2]), 1) if match else None


def code_columns(table: SourceTable) -> list[str]:
    """Columns carrying an ODS code check: trimmed and upper-cased before casting."""
    schema = table.model.to_schema()
    return [
        name for name, column in schema.columns.items() if {c.name for c in column.checks} & set(CODE_CHECKS)
    ]


def check_inventory(table: SourceTable, *, with_membership: bool) -> pl.DataFrame:
    """Every check landing applies to one file of `table`: (check_name, column_name, severity)."""
    schema = table.model.to_schema()
    rows: list[tuple[str, str | None, str]] = []
    for check, severity, per_column in READING_CHECKS:
        columns = list(schema.columns) if per_column else [None]
        rows += [(check, column, str(severity)) for column in columns]
    rows += [(CODE_CASE_CHECK, column, str(Severity.MINOR)) for column in code_columns(table)]
    for name, column in schema.columns.items():
        dtype = column.dtype.type
        dtype = dtype() if isinstance(dtype, type) else dtype
        if dtype != pl.String:
            rows.append((type_check_name(dtype), name, str(Severity.MAJOR)))
        if not column.nullable:
            rows.append(("not_nullable", name, str(Severity.MAJOR)))
        rows += [(check.name, name, str(Severity.MAJOR)) for check in column.checks]
    for check in schema.checks:
        column, severity = failure_attribution(check)
        rows.append((check.name, column, str(severity)))
    if with_membership:
        rows += [
            (check, column, str(Severity.MAJOR))
            for column, checks in MEMBERSHIP_CHECKS.items()
            if column in table.columns
            for check in checks
        ]
    return pl.DataFrame(
        rows, schema={"check_name": pl.String, "column_name": pl.String, "severity": pl.String}, orient="row"
    ).unique(maintain_order=True)


def check_results(
    table: SourceTable,
    source_file: str,
    rows_read: int,
    failures: pl.DataFrame,
    *,
    with_membership: bool,
    loaded_at: datetime,
) -> pl.DataFrame:
    """One row per check: rows checked (rows read) and distinct rows failed, in `CHECK_RESULT_SCHEMA`.

    `failures` has row_number, column_name, check_name and severity; a check that failed without
    being in the inventory (a whole-file failure) is reported too, with 0 rows failed when the file
    had no readable rows (a failure with a null row_number counts no row).
    """
    failed = (
        failures.group_by("check_name", "column_name", "severity")
        .agg(pl.col("row_number").drop_nulls().n_unique().alias("rows_failed"))
        .cast({"rows_failed": pl.Int64})
    )
    critical = failures.filter(pl.col("severity") == str(Severity.CRITICAL)).height > 0
    inventory = pl.DataFrame(
        schema={"check_name": pl.String, "column_name": pl.String, "severity": pl.String}
    )
    if not critical:  # a file that failed as a whole was not checked row by row
        inventory = check_inventory(table, with_membership=with_membership)
    results = inventory.join(
        failed, on=["check_name", "column_name", "severity"], how="full", coalesce=True, nulls_equal=True
    )
    return (
        results.with_columns(
            source=pl.lit(table.source),
            table_name=pl.lit(table.table),
            source_file=pl.lit(source_file),
            file_period=pl.lit(file_period(source_file), dtype=pl.Date),
            contract_version=pl.lit(table.version),
            category=pl.col("check_name").map_elements(category, return_dtype=pl.String),
            rows_checked=pl.lit(rows_read, dtype=pl.Int64),
            rows_failed=pl.col("rows_failed").fill_null(0),
            loaded_at=pl.lit(loaded_at, dtype=pl.Datetime("us")),
        )
        .select(CHECK_RESULT_SCHEMA.keys())
        .cast(CHECK_RESULT_SCHEMA)
        .sort("check_name", "column_name", nulls_last=True)
    )
