"""Contract for the organisations reference (ODS-like): regions, ICBs, trusts and their sites.

Every other source's trust and site codes are checked against the organisations accepted here, so
this contract also checks the file's own hierarchy (a parent that exists, a code shaped for its
level, a successor only for a closed organisation).
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ODS_PATTERNS, ContractModel, each_row, row_check
from contracts.domains import DOMAINS


def _code_matches_level() -> pl.Expr:
    code, level = pl.col("org_code"), pl.col("org_level")
    expr = pl.lit(False)
    for org_level, pattern in ODS_PATTERNS.items():
        expr = pl.when(level == org_level).then(code.str.contains(pattern)).otherwise(expr)
    return expr


class OrganisationV1(ContractModel):
    """One row per organisation (region, ICB, trust or site), current and closed."""

    org_code: str = pa.Field(
        description="ODS code; its shape depends on org_level (e.g. Y56, QE1, RXX, RXX01)."
    )
    org_name: str = pa.Field(description="Organisation name as published by ODS.")
    org_level: str = pa.Field(in_domain={"domain": "org_level"}, description="region, icb, trust or site.")
    org_type: str = pa.Field(
        in_domain={"domain": "org_type"},
        description="Kind of organisation: region, icb, site, or for trusts acute, mental_health, "
        "community, ambulance or specialist.",
    )
    parent_code: str = pa.Field(
        nullable=True,
        description="Code of the organisation one level up (ICB's region, trust's ICB, site's trust); "
        "empty for regions.",
    )
    open_date: date = pa.Field(description="Date the organisation opened.")
    close_date: date = pa.Field(
        nullable=True,
        not_before={"other": "open_date"},
        description="Date the organisation closed, not before it opened; empty if open.",
    )
    successor_code: str = pa.Field(
        nullable=True,
        description="Code of the organisation that took over a closed one's services; empty otherwise.",
    )

    class Config:
        name = "organisations.organisations.v1"
        unique_key = {"columns": ["org_code"]}

    @row_check("org_code")
    def code_shaped_for_level(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """An org_code has the ODS shape of its org_level (a trust code where a trust is listed)."""
        return each_row(data, _code_matches_level())

    @row_check("org_type")
    def type_fits_level(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Trusts carry a trust type; regions, ICBs and sites carry their level as type."""
        level, kind = pl.col("org_level"), pl.col("org_type")
        trust_types = list(DOMAINS["trust_type"])
        return each_row(
            data, pl.when(level == "trust").then(kind.is_in(trust_types)).otherwise(kind == level)
        )

    @row_check("parent_code")
    def parent_required_below_region(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Every organisation below a region names its parent; regions have none."""
        is_region = pl.col("org_level") == "region"
        return each_row(data, is_region == pl.col("parent_code").is_null())

    @row_check("parent_code")
    def parent_listed(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A parent code is itself an organisation in the file."""
        return each_row(data, pl.col("parent_code").is_in(pl.col("org_code").implode()))

    @row_check("org_code")
    def site_code_within_trust(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A site's code starts with its parent trust's code."""
        is_site = pl.col("org_level") == "site"
        within = pl.col("org_code").str.starts_with(pl.col("parent_code"))
        return each_row(data, ~is_site | within)

    @row_check("successor_code")
    def successor_only_when_closed(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Only a closed organisation has a successor, and the successor is in the file."""
        successor = pl.col("successor_code")
        listed = successor.is_in(pl.col("org_code").implode())
        return each_row(data, successor.is_null() | (pl.col("close_date").is_not_null() & listed))
