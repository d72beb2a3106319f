"""Contracts for the workforce returns (Electronic Staff Record): staff-months and vacancies.

FTE follows ESR: contracted hours over the standard week, 0 to 1.5 (more than full time is possible
for a few staff on extended contracts, beyond 1.5 is an error). FTE days available in a month are
at most FTE times the days in that month; sickness absence cannot exceed them.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check

#: Rounding allowance: FTE and FTE days are reported to two decimals.
ROUNDING_TOLERANCE = 0.01


class StaffMonthV1(ContractModel):
    """One row per staff member per month employed; monthly files by reporting month."""

    staff_id: str = pa.Field(
        str_matches=r"^E[0-9]{8}$",
        description="ESR person reference, `E` and eight digits; a direct identifier, pseudonymised at "
        "landing (staff_id_hash). With reporting_month, the natural key.",
    )
    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the employing trust.")
    reporting_month: date = pa.Field(
        first_of_month=(), not_in_future=(), description="The month reported, as its first day."
    )
    staff_group: str = pa.Field(in_domain={"domain": "staff_group"}, description="NHS staff group.")
    fte: float = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.5}, description="Contracted full-time equivalent, 0..1.5."
    )
    start_date: date = pa.Field(not_in_future=(), description="Date the person started with the trust.")
    leaving_date: date = pa.Field(
        nullable=True,
        not_in_future=(),
        description="Date the person left; only in their last month, and within that month.",
    )
    sickness_fte_days: float = pa.Field(
        ge=0.0,
        description="FTE days lost to sickness absence in the month; no more than available_fte_days.",
    )
    available_fte_days: float = pa.Field(
        ge=0.0,
        description="FTE days available in the month: fte times the days in the month, less for part months.",
    )

    class Config:
        name = "workforce.staff_months.v1"
        unique_key = {"columns": ["staff_id", "reporting_month"]}

    @row_check("sickness_fte_days")
    def sickness_within_available(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Days lost to sickness cannot exceed the days the person was available to work."""
        return each_row(data, pl.col("sickness_fte_days") <= pl.col("available_fte_days"))

    @row_check("available_fte_days")
    def available_within_fte(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Days available are at most FTE times the days in the month (to the two decimals reported)."""
        days = pl.col("reporting_month").dt.month_end().dt.day()
        return each_row(data, pl.col("available_fte_days") <= pl.col("fte") * days + ROUNDING_TOLERANCE)

    @row_check("leaving_date")
    def leaving_within_month(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A leaving date falls inside the reporting month it is reported in."""
        leaving, month = pl.col("leaving_date"), pl.col("reporting_month")
        return each_row(data, (leaving >= month) & (leaving <= month.dt.month_end()))

    @row_check("start_date")
    def started_by_month_end(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A person reported in a month started on or before that month's last day."""
        return each_row(data, pl.col("start_date") <= pl.col("reporting_month").dt.month_end())


class VacancyV1(ContractModel):
    """One row per trust per month per staff group: establishment, vacancies and temporary staffing."""

    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the trust.")
    reporting_month: date = pa.Field(
        first_of_month=(), not_in_future=(), description="The month reported, as its first day."
    )
    staff_group: str = pa.Field(in_domain={"domain": "staff_group"}, description="NHS staff group.")
    establishment_fte: float = pa.Field(
        ge=0.0, description="Funded establishment, FTE (the denominator of the vacancy rate)."
    )
    vacancy_fte: float = pa.Field(ge=0.0, description="Funded posts not filled by substantive staff, FTE.")
    bank_fte: float = pa.Field(ge=0.0, description="Bank (internal temporary) staff used, FTE.")
    agency_fte: float = pa.Field(ge=0.0, description="Agency staff used, FTE.")

    class Config:
        name = "workforce.vacancies.v1"
        unique_key = {"columns": ["trust_code", "reporting_month", "staff_group"]}

    @row_check("vacancy_fte")
    def vacancies_within_establishment(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Vacant posts are part of the funded establishment, so never more than it."""
        return each_row(data, pl.col("vacancy_fte") <= pl.col("establishment_fte") + ROUNDING_TOLERANCE)
