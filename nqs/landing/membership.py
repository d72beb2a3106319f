"""Organisation codes checked against the organisations reference: known, open, and consistent.

A well-formed code is not enough: it must name a trust (or site, or local authority) the reference
lists, still open on the day of the activity (after a merger, records use the successor's codes), and
a site must belong to the trust the row names. These checks need the reference, so they run beside
the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from contracts.sources import SourceTable

_CODES_SCHEMA = {"code": pl.String, "parent_code": pl.String, "close_date": pl.Date}
_FAILURE_SCHEMA = {"row_number": pl.Int64, "column_name": pl.String, "check_name": pl.String}
#: Code columns checked against the reference, and the prefix of their checks (`known_<prefix>_code`,
#: `open_<prefix>_code`, as `contracts.reference_checks` names them).
_CODE_COLUMNS = {"trust_code": "trust", "site_code": "site", "la_code": "la"}
#: The `ReferenceCodes` attribute holding each prefix's codes.
_REFERENCE_CODES = {"trust": "trusts", "site": "sites", "la": "local_authorities"}


@dataclass(frozen=True, eq=False)
class ReferenceCodes:
    """Valid trust, site and local authority codes (columns code, parent_code, close_date) from
    accepted organisations (a reference of contract version 1 lists no local authorities)."""

    trusts: pl.DataFrame
    sites: pl.DataFrame
    local_authorities: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_CODES_SCHEMA))

    @classmethod
    def from_organisations(cls, organisations: pl.DataFrame) -> ReferenceCodes:
        """Build from rows typed per the organisations contract."""

        def level(name: str) -> pl.DataFrame:
            return (
                organisations.filter(pl.col("org_level") == name)
                .select(code="org_code", parent_code="parent_code", close_date="close_date")
                .cast(_CODES_SCHEMA)
            )

        return cls(trusts=level("trust"), sites=level("site"), local_authorities=level("local_authority"))

    @property
    def trust_codes(self) -> frozenset[str]:
        return frozenset(self.trusts["code"].to_list())

    @property
    def site_codes(self) -> frozenset[str]:
        return frozenset(self.sites["code"].to_list())


def _lookup(typed: pl.DataFrame, column: str, codes: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Left-join each row's code to the reference, marking whether it was found."""
    found = codes.select(
        pl.col("code").alias(column),
        pl.lit(True).alias(f"{prefix}_known"),
        pl.col("parent_code").alias(f"{prefix}_parent"),
        pl.col("close_date").alias(f"{prefix}_close_date"),
    )
    return typed.join(found, on=column, how="left")


def _activity_date(typed: pl.DataFrame, column: str | None) -> pl.Expr:
    if column is None:
        return pl.lit(None, dtype=pl.Date)
    expr = pl.col(column)
    return expr.dt.date() if isinstance(typed.schema[column], pl.Datetime) else expr


def membership_failures(typed: pl.DataFrame, table: SourceTable, reference: ReferenceCodes) -> pl.DataFrame:
    """One failure row (row_number, column_name, check_name) per code the reference does not support.

    `typed` has the contract columns and `_row_number`. Rows with a null code are left to the
    contract's nullability check.
    """
    checks: list[tuple[str, str, pl.Expr]] = []
    frame = typed.select(
        "_row_number",
        *(c for c in _CODE_COLUMNS if c in typed.columns),
        _activity_date(typed, table.activity_date_column).alias("_activity"),
    )
    for column, prefix in _CODE_COLUMNS.items():
        if column in frame.columns:
            frame = _lookup(frame, column, getattr(reference, _REFERENCE_CODES[prefix]), prefix)
            known = pl.col(f"{prefix}_known").fill_null(False)
            checks += [
                (column, f"known_{prefix}_code", pl.col(column).is_not_null() & ~known),
                (
                    column,
                    f"open_{prefix}_code",
                    known & (pl.col("_activity") > pl.col(f"{prefix}_close_date")),
                ),
            ]
    if {"site_code", "trust_code"} <= set(frame.columns):
        belongs = pl.col("site_parent") == pl.col("trust_code")
        site_known = pl.col("site_known").fill_null(False)
        checks.append(("site_code", "site_of_trust", site_known & pl.col("trust_known") & ~belongs))
    found = [
        frame.filter(failed.fill_null(False)).select(
            pl.col("_row_number").alias("row_number"), column_name=pl.lit(column), check_name=pl.lit(check)
        )
        for column, check, failed in checks
    ]
    return pl.concat(found) if found else pl.DataFrame(schema=_FAILURE_SCHEMA)
