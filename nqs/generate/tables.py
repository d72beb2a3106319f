"""The source tables the generator writes: folder, file prefix, columns in order, key.

This mirrors the shared build spec exactly; landing reads the same layout, so a column added here
must be added to the contracts too. A table delivered under two contract versions has one spec per
version (`EVENTS` for incident contract v1, `EVENTS_V2` for v2), written to the same files.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.referral_to_treatment import BAND_COLUMNS


@dataclass(frozen=True)
class TableSpec:
    """One source table as it appears on disk."""

    source: str
    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    monthly: bool = True

    def file_name(self, month_label: str | None = None) -> str:
        """Path of a file relative to the output folder (`incidents/events_2024-04.csv`)."""
        if not self.monthly:
            return f"{self.source}/{self.table}.csv"
        return f"{self.source}/{self.table}_{month_label}.csv"


ORGANISATIONS = TableSpec(
    "organisations",
    "organisations",
    (
        "org_code",
        "org_name",
        "org_level",
        "org_type",
        "parent_code",
        "open_date",
        "close_date",
        "successor_code",
    ),
    key=("org_code",),
    monthly=False,
)
EVENTS = TableSpec(
    "incidents",
    "events",
    (
        "event_id",
        "trust_code",
        "site_code",
        "event_date",
        "reported_date",
        "event_category",
        "degree_of_harm",
        "care_setting",
        "specialty",
        "patient_age_band",
        "is_never_event",
        "nhs_number",
    ),
    key=("event_id",),
)
EPISODES = TableSpec(
    "hip_fracture_audit",
    "episodes",
    (
        "episode_id",
        "trust_code",
        "site_code",
        "nhs_number",
        "age",
        "sex",
        "imd_quintile",
        "asa_grade",
        "admission_at",
        "surgery_at",
        "death_date",
    ),
    key=("episode_id",),
)
ADMISSIONS = TableSpec(
    "stroke_audit",
    "admissions",
    (
        "record_id",
        "trust_code",
        "site_code",
        "nhs_number",
        "age",
        "sex",
        "imd_quintile",
        "stroke_type",
        "nihss_on_arrival",
        "arrival_at",
        "stroke_unit_arrival_at",
        "thrombolysed",
    ),
    key=("record_id",),
)
PROCEDURES = TableSpec(
    "joint_registry",
    "procedures",
    (
        "procedure_id",
        "trust_code",
        "site_code",
        "nhs_number",
        "procedure_date",
        "joint",
        "age",
        "sex",
        "imd_quintile",
        "asa_grade",
    ),
    key=("procedure_id",),
)
REVISIONS = TableSpec(
    "joint_registry",
    "revisions",
    (
        "revision_id",
        "primary_procedure_id",
        "primary_procedure_date",
        "trust_code",
        "revision_date",
        "revision_reason",
    ),
    key=("revision_id",),
)
PROMS = TableSpec(
    "joint_registry",
    "proms",
    (
        "procedure_id",
        "joint",
        "pre_op_score",
        "post_op_score",
        "pre_op_date",
        "post_op_date",
        "post_op_satisfaction",
    ),
    key=("procedure_id",),
)
STAFF_MONTHS = TableSpec(
    "workforce",
    "staff_months",
    (
        "staff_id",
        "trust_code",
        "reporting_month",
        "staff_group",
        "fte",
        "start_date",
        "leaving_date",
        "sickness_fte_days",
        "available_fte_days",
    ),
    key=("staff_id", "reporting_month"),
)
VACANCIES = TableSpec(
    "workforce",
    "vacancies",
    (
        "trust_code",
        "reporting_month",
        "staff_group",
        "establishment_fte",
        "vacancy_fte",
        "bank_fte",
        "agency_fte",
    ),
    key=("trust_code", "reporting_month", "staff_group"),
)
OCCUPANCY = TableSpec(
    "bed_availability",
    "occupancy",
    ("trust_code", "reporting_month", "ward_type", "available_bed_days", "occupied_bed_days"),
    key=("trust_code", "reporting_month", "ward_type"),
)

EVENTS_V2 = TableSpec(
    "incidents",
    "events",
    (
        "event_id",
        "trust_code",
        "site_code",
        "event_date",
        "reported_date",
        "event_category",
        "physical_harm",
        "psychological_harm",
        "service_area",
        "location_type",
        "specialty",
        "patient_age_band",
        "is_never_event",
        "nhs_number",
    ),
    key=("event_id",),
)
RTT_PATHWAYS = TableSpec(
    "referral_to_treatment",
    "pathways",
    (
        "reporting_month",
        "trust_code",
        "treatment_function_code",
        "pathway_type",
        *BAND_COLUMNS,
        "total_pathways",
        "unknown_clock_start_pathways",
    ),
    key=("trust_code", "reporting_month", "treatment_function_code", "pathway_type"),
)

FRIENDS_AND_FAMILY = TableSpec(
    "patient_experience",
    "friends_and_family",
    (
        "trust_code",
        "reporting_month",
        "setting",
        "eligible",
        "responses",
        "very_good",
        "good",
        "neither_good_nor_poor",
        "poor",
        "very_poor",
        "dont_know",
    ),
    key=("trust_code", "reporting_month", "setting"),
)
#: Quarterly: one file per financial quarter, named after the quarter's first month.
COMPLAINTS = TableSpec(
    "patient_experience",
    "complaints",
    (
        "trust_code",
        "quarter_start",
        "subject_area",
        "complaints_received",
        "complaints_resolved",
        "upheld",
        "partially_upheld",
        "not_upheld",
    ),
    key=("trust_code", "quarter_start", "subject_area"),
)

BIRTHS = TableSpec(
    "maternity",
    "births",
    (
        "birth_id",
        "delivery_id",
        "birth_order",
        "trust_code",
        "site_code",
        "mother_nhs_number",
        "mother_age",
        "mother_ethnic_category",
        "imd_quintile",
        "delivery_date",
        "gestation_weeks",
        "gestation_days",
        "delivery_mode",
        "birth_outcome",
        "birthweight_g",
        "baby_death_date",
        "perineal_trauma",
        "blood_loss_ml",
    ),
    key=("birth_id",),
)
DISCHARGE_DELAYS = TableSpec(
    "adult_social_care",
    "discharge_delays",
    (
        "la_code",
        "reporting_month",
        "patients_discharged",
        "discharged_on_ready_date",
        "delay_days",
        "delay_days_social_care",
    ),
    key=("la_code", "reporting_month"),
)
#: Annual: one file per financial year, named after the year's first month (April).
OUTCOMES = TableSpec(
    "adult_social_care",
    "outcomes",
    ("la_code", "financial_year_start", "measure_id", "numerator", "denominator"),
    key=("la_code", "financial_year_start", "measure_id"),
)
INTERVENTIONS = TableSpec(
    "personalised_care",
    "interventions",
    ("trust_code", "reporting_month", "intervention", "people_eligible", "people_with_intervention"),
    key=("trust_code", "reporting_month", "intervention"),
)

ALL_TABLES: tuple[TableSpec, ...] = (
    ORGANISATIONS,
    EVENTS,
    EPISODES,
    ADMISSIONS,
    PROCEDURES,
    REVISIONS,
    PROMS,
    STAFF_MONTHS,
    VACANCIES,
    EVENTS_V2,
    OCCUPANCY,
    FRIENDS_AND_FAMILY,
    COMPLAINTS,
    RTT_PATHWAYS,
    BIRTHS,
    DISCHARGE_DELAYS,
    OUTCOMES,
    INTERVENTIONS,
)
SOURCE_FOLDERS: tuple[str, ...] = tuple(dict.fromkeys(spec.source for spec in ALL_TABLES))
