"""Contract for the organisations reference (ODS-like): regions, ICBs, trusts and their sites.

Every other source's trust and site codes are checked against the organisations accepted here, so
this contract also checks the file's own hierarchy (a parent that exists, a code shaped for its
level, a successor only for a closed organisation). Version 2 adds the upper-tier local authorities
(ONS codes), each under the ICB it is mapped to, so adult social care returns are checked against
the same file.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ODS_PATTERNS, ONS_LA_PATTERN, ContractModel, each_row, row_check
from contracts.domains import DOMAINS


def _code_matches_level(patterns: dict[str, str] = ODS_PATTERNS) -> pl.Expr:
    code, level = pl.col("org_code"), pl.col("org_level")
    expr = pl.lit(False)
    for org_level, pattern in patterns.items():
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


#: Code shapes of organisations version 2 lists: ODS codes, and ONS codes for local authorities.
CODE_PATTERNS_V2: dict[str, str] = {**ODS_PATTERNS, "local_authority": ONS_LA_PATTERN}


class OrganisationV2(OrganisationV1):
    """One row per organisation (region, ICB, trust, site or local authority), current and closed.

    Changed from v1: `org_level` may be `local_authority` (an upper-tier council with adult social
    services responsibilities, under its ONS code such as E06000001) and `org_type` then says which
    kind of council (county, metropolitan_district, london_borough, unitary_authority); a local
    authority's parent is the ICB it is mapped to. Every other column and check is carried over.
    """

    org_code: str = pa.Field(
        description="ODS code, or for a local authority its ONS code; its shape depends on org_level "
        "(e.g. Y56, QE1, RXX, RXX01, E06000001)."
    )
    org_level: str = pa.Field(
        in_domain={"domain": "org_level_v2"}, description="region, icb, trust, site or local_authority."
    )
    org_type: str = pa.Field(
        in_domain={"domain": "org_type_v2"},
        description="Kind of organisation: region, icb, site; for trusts acute, mental_health, "
        "community, ambulance or specialist; for local authorities county, metropolitan_district, "
        "london_borough or unitary_authority.",
    )
    parent_code: str = pa.Field(
        nullable=True,
        description="Code of the organisation one level up (ICB's region, trust's ICB, site's trust, "
        "local authority's primary ICB: the ICB most of its residents live in); empty for regions.",
    )

    class Config:
        name = "organisations.organisations.v2"
        unique_key = {"columns": ["org_code"]}

    @row_check("org_code")
    def code_shaped_for_level(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """An org_code has the shape of its org_level (ODS codes; ONS codes for local authorities)."""
        return each_row(data, _code_matches_level(CODE_PATTERNS_V2))

    @row_check("org_type")
    def type_fits_level(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Trusts carry a trust type, local authorities a kind of council; others their level."""
        level, kind = pl.col("org_level"), pl.col("org_type")
        typed = {"trust": DOMAINS["trust_type"], "local_authority": DOMAINS["local_authority_type"]}
        expr = kind == level
        for org_level, kinds in typed.items():
            expr = pl.when(level == org_level).then(kind.is_in(list(kinds))).otherwise(expr)
        return each_row(data, expr)

    @row_check("parent_code")
    def local_authority_under_icb(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A local authority's parent is an ICB of the file (the ICB it is mapped to)."""
        icbs = pl.col("org_code").filter(pl.col("org_level") == "icb").implode()
        is_local_authority = pl.col("org_level") == "local_authority"
        return each_row(data, ~is_local_authority | pl.col("parent_code").is_in(icbs))
