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
        *(c for c in ("trust_code", "site_code", "la_code") if c in typed.columns),
        _activity_date(typed, table.activity_date_column).alias("_activity"),
    )
    if "trust_code" in frame.columns:
        frame = _lookup(frame, "trust_code", reference.trusts, "trust")
        trust_known = pl.col("trust_known").fill_null(False)
        checks += [
            ("trust_code", "known_trust_code", pl.col("trust_code").is_not_null() & ~trust_known),
            (
                "trust_code",
                "open_trust_code",
                trust_known & (pl.col("_activity") > pl.col("trust_close_date")),
            ),
        ]
    if "site_code" in frame.columns:
        frame = _lookup(frame, "site_code", reference.sites, "site")
        site_known = pl.col("site_known").fill_null(False)
        checks += [
            ("site_code", "known_site_code", pl.col("site_code").is_not_null() & ~site_known),
            ("site_code", "open_site_code", site_known & (pl.col("_activity") > pl.col("site_close_date"))),
        ]
        if "trust_code" in frame.columns:
            belongs = pl.col("site_parent") == pl.col("trust_code")
            checks.append(("site_code", "site_of_trust", site_known & pl.col("trust_known") & ~belongs))
    if "la_code" in frame.columns:
        frame = _lookup(frame, "la_code", reference.local_authorities, "la")
        la_known = pl.col("la_known").fill_null(False)
        checks += [
            ("la_code", "known_la_code", pl.col("la_code").is_not_null() & ~la_known),
            ("la_code", "open_la_code", la_known & (pl.col("_activity") > pl.col("la_close_date"))),
        ]
    found = [
        frame.filter(failed.fill_null(False)).select(
            pl.col("_row_number").alias("row_number"), column_name=pl.lit(column), check_name=pl.lit(check)
        )
        for column, check, failed in checks
    ]
    return pl.concat(found) if found else pl.DataFrame(schema=_FAILURE_SCHEMA)
