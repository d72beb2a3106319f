"""Contracts for the National Joint Registry: primary procedures, revisions and PROMs.

PROMs follow the national programme: the Oxford Hip or Knee Score (0 to 48, higher is better) before
the operation and again about six months after it.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa

from contracts.base import PLAUSIBLE_MAX_AGE, ContractModel

_OXFORD_SCORE = {"min_value": 0, "max_value": 48}


class JointProcedureV1(ContractModel):
    """One row per primary hip or knee replacement; monthly files by procedure month."""

    procedure_id: str = pa.Field(
        str_matches=r"^NJ[0-9]{9}$",
        description="NJR procedure reference, `NJ` and nine digits; the natural key.",
    )
    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the operating trust.")
    site_code: str = pa.Field(ods_site_code=(), description="ODS code of the operating hospital site.")
    nhs_number: str = pa.Field(
        nhs_number=(), description="Patient's NHS number; pseudonymised at landing (nhs_number_hash)."
    )
    procedure_date: date = pa.Field(not_in_future=(), description="Date of the primary operation.")
    joint: str = pa.Field(in_domain={"domain": "joint"}, description="hip or knee.")
    age: int = pa.Field(
        in_range={"min_value": 18, "max_value": 120}, description="Age in years at the operation."
    )
    sex: str = pa.Field(in_domain={"domain": "sex"}, description="Sex: M or F.")
    imd_quintile: int = pa.Field(
        in_range={"min_value": 1, "max_value": 5},
        description="Index of Multiple Deprivation quintile of residence, 1 = most deprived.",
    )
    asa_grade: int = pa.Field(
        in_range={"min_value": 1, "max_value": 5}, description="ASA physical status grade, 1..5."
    )

    class Config:
        name = "joint_registry.procedures.v1"
        unique_key = {"columns": ["procedure_id"]}
        plausible_range = {"column": "age", "max_value": PLAUSIBLE_MAX_AGE}


class JointRevisionV1(ContractModel):
    """One row per revision of a primary procedure; monthly files by revision month.

    The record carries the date of the primary it revises (as NJR revision records do), so the order
    of the two operations is checked within the file.
    """

    revision_id: str = pa.Field(
        str_matches=r"^RV[0-9]{9}$",
        description="NJR revision reference, `RV` and nine digits; the natural key.",
    )
    primary_procedure_id: str = pa.Field(
        str_matches=r"^NJ[0-9]{9}$", description="procedure_id of the primary operation being revised."
    )
    primary_procedure_date: date = pa.Field(
        not_in_future=(), description="Date of the primary operation being revised."
    )
    trust_code: str = pa.Field(
        ods_trust_code=(), description="ODS code of the trust performing the revision."
    )
    revision_date: date = pa.Field(
        not_in_future=(),
        not_before={"other": "primary_procedure_date"},
        description="Date of the revision operation, not before the primary it revises.",
    )
    revision_reason: str = pa.Field(
        in_domain={"domain": "revision_reason"},
        description="Main reason for revision (infection, wear, ...).",
    )

    class Config:
        name = "joint_registry.revisions.v1"
        unique_key = {"columns": ["revision_id"]}


class JointPromV1(ContractModel):
    """One row per procedure with Oxford Hip/Knee Scores; monthly files by post-operative month."""

    procedure_id: str = pa.Field(
        str_matches=r"^NJ[0-9]{9}$", description="procedure_id of the primary operation; the natural key."
    )
    joint: str = pa.Field(in_domain={"domain": "joint"}, description="hip or knee (which Oxford score).")
    pre_op_score: int = pa.Field(
        in_range=_OXFORD_SCORE, description="Oxford score before the operation, 0..48, higher is better."
    )
    post_op_score: int = pa.Field(
        in_range=_OXFORD_SCORE, description="Oxford score about six months after, 0..48, higher is better."
    )
    pre_op_date: date = pa.Field(
        not_in_future=(), description="Date the pre-operative questionnaire was completed."
    )
    post_op_date: date = pa.Field(
        not_in_future=(),
        not_before={"other": "pre_op_date"},
        description="Date the post-operative questionnaire was completed, not before the pre-operative "
        "one; sets the file month.",
    )
    post_op_satisfaction: str = pa.Field(
        nullable=True,
        in_domain={"domain": "proms_satisfaction"},
        description='Answer to "Overall, how would you describe the results of your operation?" '
        "(excellent, very_good, good, fair, poor); empty when not answered.",
    )

    class Config:
        name = "joint_registry.proms.v1"
        unique_key = {"columns": ["procedure_id"]}
        # the post-operative questionnaire is sent six months after the operation
        plausible_delay = {"column": "post_op_date", "since": "pre_op_date", "min_days": 90, "max_days": 548}
