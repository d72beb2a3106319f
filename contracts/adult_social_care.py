"""Contracts for adult social care returns by local authority: hospital discharge and ASCOF outcomes.

Both are aggregate returns keyed by the council's ONS code (`la_code`), which landing checks against
the local authorities of the organisations reference (version 2). They arrive at different
frequencies, as the real collections do:

- `discharge_delays` is monthly, shaped like NHS England's discharge delay data by local authority
  of residence: patients discharged once they no longer met the criteria to reside, how many left on
  their discharge ready date, and the days the others waited, with the days attributable to social
  care (awaiting a care home place, a home care package or a social care assessment).
- `outcomes` is annual, shaped like the Adult Social Care Outcomes Framework (ASCOF) measures by
  council: one row per council, financial year and measure with its numerator and denominator. Its
  file covers a whole financial year and is named after the year's last month (March).
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check

LA_CODE_DESCRIPTION = (
    "ONS code of the upper-tier local authority (the council with adult social services "
    "responsibilities) the row is about."
)


class DischargeDelayV1(ContractModel):
    """One row per local authority per month: discharges of patients ready to leave hospital."""

    la_code: str = pa.Field(
        ons_la_code=(),
        description=LA_CODE_DESCRIPTION + " For discharges, the council of the patient's residence.",
    )
    reporting_month: date = pa.Field(
        first_of_month=(), not_in_future=(), description="The month reported, as its first day."
    )
    patients_discharged: int = pa.Field(
        ge=0,
        description="Adults discharged from acute hospital beds in the month after their discharge "
        "ready date (the day they no longer met the criteria to reside).",
    )
    discharged_on_ready_date: int = pa.Field(
        ge=0, description="Of those, patients discharged on their discharge ready date (no delay)."
    )
    delay_days: int = pa.Field(
        ge=0, description="Days between discharge ready date and discharge, summed over the patients."
    )
    delay_days_social_care: int = pa.Field(
        ge=0,
        description="Of those days, days whose main reason was awaiting social care: a care home "
        "place, a home care package or a social care assessment.",
    )

    class Config:
        name = "adult_social_care.discharge_delays.v1"
        unique_key = {"columns": ["la_code", "reporting_month"]}

    @row_check("discharged_on_ready_date")
    def on_ready_date_within_discharged(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """No more patients can leave on their ready date than were discharged."""
        return each_row(data, pl.col("discharged_on_ready_date") <= pl.col("patients_discharged"))

    @row_check("delay_days_social_care")
    def social_care_days_within_delay_days(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Days attributable to social care are part of all the days delayed."""
        return each_row(data, pl.col("delay_days_social_care") <= pl.col("delay_days"))


class SocialCareOutcomeV1(ContractModel):
    """One row per local authority, financial year and ASCOF measure: numerator and denominator."""

    la_code: str = pa.Field(ons_la_code=(), description=LA_CODE_DESCRIPTION)
    financial_year_start: date = pa.Field(
        financial_year_start=(),
        not_in_future=(),
        description="The financial year (April to March) the measure covers, as its first day.",
    )
    measure_id: str = pa.Field(
        in_domain={"domain": "ascof_measure"},
        description="ASCOF measure: 2B1 (people aged 65 and over still at home 91 days after "
        "discharge from hospital into reablement or rehabilitation) or 3A (people who use services "
        "who are extremely or very satisfied with their care and support, Adult Social Care Survey).",
    )
    numerator: int = pa.Field(
        ge=0,
        description="2B1: of the denominator, people at home 91 days after discharge; 3A: "
        "respondents extremely or very satisfied.",
    )
    denominator: int = pa.Field(
        ge=0,
        description="2B1: people aged 65 and over discharged from hospital into reablement or "
        "rehabilitation from October to December of the year; 3A: survey respondents who answered "
        "the satisfaction question.",
    )

    class Config:
        name = "adult_social_care.outcomes.v1"
        unique_key = {"columns": ["la_code", "financial_year_start", "measure_id"]}

    @row_check("numerator")
    def numerator_within_denominator(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A measure's numerator counts people of its denominator, so is never larger."""
        return each_row(data, pl.col("numerator") <= pl.col("denominator"))
