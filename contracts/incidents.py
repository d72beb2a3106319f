"""Contract for patient safety incidents (Learn from Patient Safety Events, LFPSE)."""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check


class IncidentEventV1(ContractModel):
    """One row per reported patient safety event; monthly files by reported month."""

    event_id: str = pa.Field(
        str_matches=r"^W[0-9]{9}$", description="LFPSE event reference, `W` and nine digits; the natural key."
    )
    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the reporting trust.")
    site_code: str = pa.Field(ods_site_code=(), description="ODS code of the site where the event happened.")
    event_date: date = pa.Field(not_in_future=(), description="Date the event happened.")
    reported_date: date = pa.Field(
        not_in_future=(), description="Date the event was reported; the file's month is this date's month."
    )
    event_category: str = pa.Field(
        in_domain={"domain": "event_category"},
        description="What kind of event (medication, patient_fall, ...).",
    )
    degree_of_harm: str = pa.Field(
        in_domain={"domain": "degree_of_harm"},
        description="LFPSE physical harm level: none, low, moderate, severe or fatal.",
    )
    care_setting: str = pa.Field(
        in_domain={"domain": "care_setting"}, description="Setting of care in which the event happened."
    )
    specialty: str = pa.Field(
        in_domain={"domain": "specialty"},
        description="Specialty from the collection's list (general_medicine, elderly_care, ..., other).",
    )
    patient_age_band: str = pa.Field(
        in_domain={"domain": "patient_age_band"}, description="Patient's age band at the event."
    )
    is_never_event: bool = pa.Field(description="Whether the event is a Never Event (source Y/N).")
    nhs_number: str = pa.Field(
        nullable=True,
        nhs_number=(),
        description="Patient's NHS number; empty when the patient is unknown (LFPSE allows this). "
        "Pseudonymised at landing (nhs_number_hash).",
    )

    class Config:
        name = "incidents.events.v1"
        unique_key = {"columns": ["event_id"]}

    @row_check("event_date")
    def event_not_after_report(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """An event happened on or before the day it was reported (the file's month is the report's)."""
        return each_row(data, pl.col("event_date") <= pl.col("reported_date"))
