"""Contracts for national clinical audits: hip fracture (NHFD) and stroke (SSNAP).

Both audits cover adults admitted to hospital; the record is the admission. Ages above 105 and very
long waits are real but rare, so they are minor findings (recorded, row accepted), not rejections.
"""

from __future__ import annotations

from datetime import date, datetime

import pandera.polars as pa

from contracts.base import PLAUSIBLE_MAX_AGE, ContractModel


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
        not_before={"other": "admission_at"},
        description="Start of hip fracture surgery, not before admission; empty if not operated on.",
    )
    death_date: date = pa.Field(
        nullable=True,
        not_in_future=(),
        not_before={"other": "admission_at"},
        description="Date of death if known to the audit, not before the admission date; empty otherwise.",
    )

    class Config:
        name = "hip_fracture_audit.episodes.v1"
        unique_key = {"columns": ["episode_id"]}
        plausible_range = {"column": "age", "max_value": PLAUSIBLE_MAX_AGE}
        # NHFD's standard is surgery within 36 hours; a week or more happens (unfit for theatre) but rarely
        plausible_delay = {"column": "surgery_at", "since": "admission_at", "max_days": 7}


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
        not_before={"other": "arrival_at"},
        description="Arrival on a stroke unit, not before arrival at hospital; empty if the patient never "
        "got there.",
    )
    thrombolysed: bool = pa.Field(description="Whether the patient received thrombolysis (source Y/N).")

    class Config:
        name = "stroke_audit.admissions.v1"
        unique_key = {"columns": ["record_id"]}
        plausible_range = {"column": "age", "max_value": PLAUSIBLE_MAX_AGE}
        # SSNAP's standard is four hours; a week or more is possible (stroke found late) but rare
        plausible_delay = {"column": "stroke_unit_arrival_at", "since": "arrival_at", "max_days": 7}
