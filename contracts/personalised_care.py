"""Contract for the personalised care return: people offered personalised care interventions.

Shaped like NHS England's personalised care collections: per trust and month, for each intervention,
the people on the trust's caseload eligible for it and those who have it: a personalised care and
support plan (people with long-term conditions on the caseload), or a personal health budget (people
with a right to have one: NHS continuing healthcare at home, section 117 aftercare, wheelchairs).
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check


class PersonalisedCareInterventionV1(ContractModel):
    """One row per trust per month per intervention: people eligible and people with it."""

    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the trust.")
    reporting_month: date = pa.Field(
        first_of_month=(), not_in_future=(), description="The month reported, as its first day."
    )
    intervention: str = pa.Field(
        in_domain={"domain": "personalised_care_intervention"},
        description="care_and_support_plan (a personalised care and support plan agreed with the "
        "person) or personal_health_budget.",
    )
    people_eligible: int = pa.Field(
        ge=0,
        description="People on the caseload at the month's end eligible for the intervention: with a "
        "long-term condition (care and support plans) or a right to have a personal health budget.",
    )
    people_with_intervention: int = pa.Field(
        ge=0,
        description="Of those, people with the intervention in place at the month's end (a plan "
        "agreed or reviewed in the last 12 months; a budget in use).",
    )

    class Config:
        name = "personalised_care.interventions.v1"
        unique_key = {"columns": ["trust_code", "reporting_month", "intervention"]}

    @row_check("people_with_intervention")
    def people_with_intervention_within_eligible(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Only eligible people are counted as having the intervention."""
        return each_row(data, pl.col("people_with_intervention") <= pl.col("people_eligible"))
