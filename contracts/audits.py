"""Contracts for national clinical audits: hip fracture (NHFD) and stroke (SSNAP)."""

from __future__ import annotations

from datetime import date, datetime

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check


class HipFractureEpisodeV1(ContractModel):
    """One row per hip fracture episode (NHFD); monthly files by admission month."""

    episode_id: str = pa.Field(
        str_matches=r"^HF[0-9]{8}$",
        description="NHFD episode reference, `HF` and eight digits; the natural key.",
    )
    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the admitting trust.")
    site_code: str = pa.Field(ods_site_code=(), description="ODS code of the admitting hospital site.")
    nhs_number: str = pa.Field(
        nhs_number=(), description="Patient's NHS number; pseudonymised at landing (nhs_number_hash)."
    )
    age: int = pa.Field(
        in_range={"min_value": 60, "max_value": 120},
        description="Age in years at admission (NHFD covers 60+).",
    )
    sex: str = pa.Field(in_domain={"domain": "sex"}, description="Sex: M or F.")
    imd_quintile: int = pa.Field(
        in_range={"min_value": 1, "max_value": 5},
        description="Index of Multiple Deprivation quintile of residence, 1 = most deprived.",
    )
    asa_grade: int = pa.Field(
        in_range={"min_value": 1, "max_value": 5},
        description="ASA physical status grade before surgery, 1..5.",
    )
    admission_at: datetime = pa.Field(not_in_future=(), description="Arrival in hospital (local time).")
    surgery_at: datetime = pa.Field(
        nullable=True,
        not_in_future=(),
        description="Start of hip fracture surgery; empty if not operated on.",
    )
    death_date: date = pa.Field(
        nullable=True, not_in_future=(), description="Date of death if known to the audit; empty otherwise."
    )

    class Config:
        name = "hip_fracture_audit.episodes.v1"
        unique_key = {"columns": ["episode_id"]}

    @row_check("surgery_at")
    def surgery_after_admission(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Surgery cannot start before the patient was admitted."""
        return each_row(data, pl.col("surgery_at") >= pl.col("admission_at"))

    @row_check("death_date")
    def death_not_before_admission(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A recorded death is on or after the admission date."""
        return each_row(data, pl.col("death_date") >= pl.col("admission_at").dt.date())


class StrokeAdmissionV1(ContractModel):
    """One row per stroke admission (SSNAP); monthly files by arrival month."""

    record_id: str = pa.Field(
        str_matches=r"^SS[0-9]{8}$",
        description="SSNAP record reference, `SS` and eight digits; the natural key.",
    )
    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the admitting trust.")
    site_code: str = pa.Field(ods_site_code=(), description="ODS code of the admitting hospital site.")
    nhs_number: str = pa.Field(
        nhs_number=(), description="Patient's NHS number; pseudonymised at landing (nhs_number_hash)."
    )
    age: int = pa.Field(
        in_range={"min_value": 18, "max_value": 120}, description="Age in years at arrival (adults)."
    )
    sex: str = pa.Field(in_domain={"domain": "sex"}, description="Sex: M or F.")
    imd_quintile: int = pa.Field(
        in_range={"min_value": 1, "max_value": 5},
        description="Index of Multiple Deprivation quintile of residence, 1 = most deprived.",
    )
    stroke_type: str = pa.Field(in_domain={"domain": "stroke_type"}, description="infarction or haemorrhage.")
    nihss_on_arrival: int = pa.Field(
        in_range={"min_value": 0, "max_value": 42}, description="NIH Stroke Scale score on arrival, 0..42."
    )
    arrival_at: datetime = pa.Field(not_in_future=(), description="Clock start: arrival at hospital.")
    stroke_unit_arrival_at: datetime = pa.Field(
        nullable=True,
        not_in_future=(),
        description="Arrival on a stroke unit; empty if the patient never got there.",
    )
    thrombolysed: bool = pa.Field(description="Whether the patient received thrombolysis (source Y/N).")

    class Config:
        name = "stroke_audit.admissions.v1"
        unique_key = {"columns": ["record_id"]}

    @row_check("stroke_unit_arrival_at")
    def stroke_unit_after_arrival(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A patient reaches the stroke unit after arriving at hospital."""
        return each_row(data, pl.col("stroke_unit_arrival_at") >= pl.col("arrival_at"))
