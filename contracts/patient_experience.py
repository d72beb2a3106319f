"""Contracts for patient experience: Friends and Family Test returns and written complaints (KO41a).

Both are aggregate returns, not patient-level: counts per trust and period, never a person. The
Friends and Family Test (FFT) is monthly, one row per trust, month and setting, with the responses
to "Overall, how was your experience of our service?" by answer. Written complaints about hospital
and community health services (KO41a) are quarterly, one row per trust, financial quarter and
subject area; a quarter's file is named after the quarter's first month
(`complaints_2025-04.csv` holds April to June 2025), which is also its landed month partition.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check

#: The answers of the FFT question, in the order of the return; their counts sum to the responses.
FFT_ANSWERS = ("very_good", "good", "neither_good_nor_poor", "poor", "very_poor", "dont_know")
#: The outcomes of the complaints resolved in a quarter; their counts sum to the complaints resolved.
COMPLAINT_OUTCOMES = ("upheld", "partially_upheld", "not_upheld")


def _answer(label: str) -> int:
    return pa.Field(ge=0, description=f'Responses answering "{label}".')


class FriendsAndFamilyV1(ContractModel):
    """One row per trust per month per setting: FFT responses by answer, shaped like NHS England's data."""

    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the trust.")
    reporting_month: date = pa.Field(
        first_of_month=(), not_in_future=(), description="The month reported, as its first day."
    )
    setting: str = pa.Field(
        in_domain={"domain": "fft_setting"},
        description="Service whose patients answered: inpatient, emergency_department (A&E), "
        "outpatient, maternity_birth (the birth touch point), community or mental_health.",
    )
    eligible: int = pa.Field(
        ge=0,
        nullable=True,
        description="Patients eligible to answer in the month (discharged inpatients, A&E attendances), "
        "where the setting's return counts them; empty where it does not.",
    )
    responses: int = pa.Field(ge=0, description="Responses received in the month, every answer included.")
    very_good: int = _answer("very good")
    good: int = _answer("good")
    neither_good_nor_poor: int = _answer("neither good nor poor")
    poor: int = _answer("poor")
    very_poor: int = _answer("very poor")
    dont_know: int = _answer("don't know")

    class Config:
        name = "patient_experience.friends_and_family.v1"
        unique_key = {"columns": ["trust_code", "reporting_month", "setting"]}
        sums_to = {"column": "responses", "parts": list(FFT_ANSWERS)}

    @row_check("responses")
    def responses_within_eligible(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """No more patients answered than were eligible to (where eligible patients are counted)."""
        return each_row(data, pl.col("responses") <= pl.col("eligible"))


class WrittenComplaintsV1(ContractModel):
    """One row per trust per financial quarter per subject area: written complaints, shaped like KO41a."""

    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the trust.")
    quarter_start: date = pa.Field(
        first_of_quarter=(),
        not_in_future=(),
        description="The financial quarter reported, as the first day of its first month (April, July, "
        "October or January).",
    )
    subject_area: str = pa.Field(
        in_domain={"domain": "complaint_subject"},
        description="What the complaints are mainly about, in KO41a's subject areas.",
    )
    complaints_received: int = pa.Field(ge=0, description="New written complaints received in the quarter.")
    complaints_resolved: int = pa.Field(
        ge=0,
        description="Written complaints resolved in the quarter, whenever received: the sum of the outcomes.",
    )
    upheld: int = pa.Field(ge=0, description="Complaints resolved in the quarter and upheld in full.")
    partially_upheld: int = pa.Field(
        ge=0, description="Complaints resolved in the quarter and upheld in part."
    )
    not_upheld: int = pa.Field(ge=0, description="Complaints resolved in the quarter and not upheld.")

    class Config:
        name = "patient_experience.complaints.v1"
        unique_key = {"columns": ["trust_code", "quarter_start", "subject_area"]}
        sums_to = {"column": "complaints_resolved", "parts": list(COMPLAINT_OUTCOMES)}
