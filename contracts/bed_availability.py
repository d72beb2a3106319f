"""Contract for bed availability and occupancy (KH03-like): overnight bed days by trust and ward type."""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check


class BedOccupancyV1(ContractModel):
    """One row per trust per month per ward type: overnight bed days available and occupied."""

    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the trust.")
    reporting_month: date = pa.Field(
        first_of_month=(), not_in_future=(), description="The month reported, as its first day."
    )
    ward_type: str = pa.Field(
        in_domain={"domain": "ward_type"},
        description="Sector the beds are counted in: general_acute, maternity, mental_illness or "
        "learning_disabilities (the KH03 sectors).",
    )
    available_bed_days: int = pa.Field(
        ge=0, description="Overnight beds open and staffed, summed over the days of the month."
    )
    occupied_bed_days: int = pa.Field(
        ge=0,
        description="Overnight beds occupied at midnight, summed over the days of the month (the "
        "denominator of rates per 1,000 occupied bed days).",
    )

    class Config:
        name = "bed_availability.occupancy.v1"
        unique_key = {"columns": ["trust_code", "reporting_month", "ward_type"]}

    @row_check("occupied_bed_days")
    def occupied_within_available(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """No more beds can be occupied than were available."""
        return each_row(data, pl.col("occupied_bed_days") <= pl.col("available_bed_days"))
