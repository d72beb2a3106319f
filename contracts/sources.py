"""The registry of source tables: the one place that says which files exist and which contract reads them.

Landing assets, quarantine outputs, the dbt source definitions and the contract reference are
generated from `SOURCE_TABLES`, so adding a source (or a new contract version) means adding one
entry here (see contracts/README.md). A contract package kept outside this repository registers its
tables by naming its modules in `NQS_CONTRACT_MODULES` (comma-separated); each such module's
`SOURCE_TABLES` list (and `SOURCE_DESCRIPTIONS`, if any) is added to these when the registry is first
imported.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from contracts.adult_social_care import DischargeDelayV1, SocialCareOutcomeV1
from contracts.audits import HipFractureEpisodeV1, StrokeAdmissionV1
from contracts.base import FINANCIAL_YEAR_FIRST_MONTH, ContractModel
from contracts.bed_availability import BedOccupancyV1
from contracts.incidents import IncidentEventV1, IncidentEventV2
from contracts.joint_registry import JointProcedureV1, JointPromV1, JointRevisionV1
from contracts.maternity import MaternityBirthV1
from contracts.patient_experience import FriendsAndFamilyV1, WrittenComplaintsV1
from contracts.personalised_care import PersonalisedCareInterventionV1
from contracts.reference import OrganisationV1, OrganisationV2
from contracts.referral_to_treatment import RttPathwayV1
from contracts.versions import ContractVersion, union_columns
from contracts.workforce import StaffMonthV1, VacancyV1

Family = Literal[
    "reference",
    "incident",
    "audit",
    "registry",
    "workforce",
    "experience",
    "capacity",
    "access",
    "social_care",
    "personalised_care",
]

#: The first month of the national extracts these contracts describe.
FIRST_EXTRACT = date(2023, 4, 1)
CONTRACT_MODULES_VARIABLE = "NQS_CONTRACT_MODULES"
#: The file `nqs generate` writes beside the sources it generated, listing what it planted; its
#: `SYNTHETIC_FLAG` set to true marks the folder's sources synthetic (landing may then pseudonymise
#: them with the sample key; any other sources need NQS_PSEUDONYM_KEY).
SOURCES_MANIFEST = "_manifest.json"
SYNTHETIC_FLAG = "synthetic"


def first_version(
    model: type[ContractModel], change: str, valid_from: date = FIRST_EXTRACT
) -> ContractVersion:
    """The v1 entry of a table that has had one contract so far."""
    return ContractVersion("v1", model, valid_from, change)


def latest_period_ended_by(month: date, months: int) -> date:
    """The first month of the latest period of `months` months that ends in `month` or before.

    Periods follow the financial year: a month is its own period, a quarter starts in April, July,
    October or January, a year in April. So with `months` 12 and `month` March 2026 it is April 2025
    (the year that ends then); with February 2026 it is April 2024.
    """
    after = month.year * 12 + month.month  # the month after `month`, counted from year 0
    start_of_after = after - (after % 12 + 1 - FINANCIAL_YEAR_FIRST_MONTH) % months
    first = start_of_after - months
    return date(first // 12, first % 12 + 1, 1)


@dataclass(frozen=True)
class SourceTable:
    """One table of one national collection, as delivered in files, and the contracts that read it.

    `versions` lists every contract version data may arrive under, oldest first; `model` and
    `version` are the newest (set from `versions`). A table built the older way, with `model` (and
    `version`) but no `versions`, has that one version; a table built from another with a different
    `model` (a test's variant of a contract) has only that model, under the newest version's label.
    """

    source: str  #: folder under the sources directory, e.g. "incidents"
    table: str  #: table name, the file prefix, e.g. "events"
    family: Family
    file_glob: str  #: files of this table inside the source folder, e.g. "events_*.csv"
    key_columns: tuple[str, ...]  #: natural key, unique within a file
    identifier_columns: tuple[str, ...]  #: direct identifiers, replaced by `<column>_hash` at landing
    description: str
    #: the date the activity happened; an organisation code must be open on it (None: no such check)
    activity_date_column: str | None = None
    #: months after the end of the month a file covers by which the collection delivers it (March's
    #: file with a lag of 1 is due by the end of April); None: the table's files cover no month
    delivery_lag_months: int | None = None
    #: months one file covers, counted from the month in its name: 1 for a monthly return, 3 for a
    #: quarterly one (named and partitioned by the quarter's first month: `complaints_2025-04.csv`
    #: holds April to June, due `delivery_lag_months` after June ends), 12 for an annual one (named
    #: after April: `outcomes_2025-04.csv` holds the financial year April 2025 to March 2026). Periods
    #: follow the financial year (`period_first_month`).
    months_per_file: int = 1
    versions: tuple[ContractVersion, ...] = ()
    model: type[ContractModel] | None = None  #: the newest version's model
    version: str | None = None  #: the newest version's label

    def __post_init__(self) -> None:
        if self.months_per_file < 1 or 12 % self.months_per_file:
            raise ValueError(
                f"source table {self.source}/{self.table}: months_per_file must divide a year "
                f"(1, 2, 3, 4, 6 or 12), got {self.months_per_file}"
            )
        versions = tuple(self.versions)
        if not versions:
            if self.model is None:
                raise ValueError(f"source table {self.source}/{self.table} needs versions (or a model)")
            versions = (ContractVersion(self.version or "v1", self.model, None, "first version"),)
        elif self.model is not None and self.model is not versions[-1].model:
            latest = versions[-1]
            versions = (
                dataclasses.replace(latest, model=self.model, version=self.version or latest.version),
            )
        labels = [v.version for v in versions]
        if len(set(labels)) != len(labels):
            raise ValueError(f"source table {self.source}/{self.table} repeats a version label: {labels}")
        starts = [v.valid_from for v in versions if v.valid_from is not None]
        if starts != sorted(starts):
            raise ValueError(f"versions of {self.source}/{self.table} must be listed oldest first")
        object.__setattr__(self, "versions", versions)
        object.__setattr__(self, "model", versions[-1].model)
        object.__setattr__(self, "version", versions[-1].version)

    @property
    def name(self) -> str:
        """`<source>__<table>`, the stem of the table's staging model and landing asset."""
        return f"{self.source}__{self.table}"

    def at_version(self, version: str) -> SourceTable:
        """This table read under one of its versions only (KeyError names the versions there are)."""
        for entry in self.versions:
            if entry.version == version:
                return dataclasses.replace(self, versions=(entry,), model=None, version=None)
        labels = ", ".join(v.version for v in self.versions)
        raise KeyError(f"{self.source}/{self.table} has no contract version {version}; versions: {labels}")

    def version_entry(self, version: str) -> ContractVersion:
        return self.at_version(version).versions[0]

    def contract_for_header(self, header: Iterable[str]) -> SourceTable:
        """The table under the version whose columns a file's header names.

        The version whose columns differ least from the header wins, the newest on a tie, so a file
        that matches no version exactly is reported against the one it was most likely meant for. A
        file with no header (its first line names no column of any version) is judged under the
        newest version with as many columns as its first line has fields.
        """
        if len(self.versions) == 1:
            return self
        given = set(header)
        if not given & {c for v in self.versions for c in v.columns}:
            # no header: the first line is a row, of the version with as many columns as it has fields
            fitting = [v for v in self.versions if len(v.columns) == len(header)]
            if fitting:
                return self.at_version(fitting[-1].version)
        best = min(reversed(self.versions), key=lambda v: len(set(v.columns) ^ given))
        return self.at_version(best.version)

    @property
    def all_landed_columns(self) -> tuple[str, ...]:
        """Landed columns of every version: the newest version's, then older columns it dropped."""
        return tuple(self._landed(c) for c in union_columns(self.versions))

    def _landed(self, column: str) -> str:
        return f"{column}_hash" if column in self.identifier_columns else column

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns of the source file, in contract order."""
        return tuple(self.model.to_schema().columns)

    @property
    def landed_columns(self) -> tuple[str, ...]:
        """Contract columns (of the newest version) as landed: identifiers renamed to their hashes."""
        return tuple(self._landed(c) for c in self.columns)


#: What each source folder holds, as a whole (the tables describe themselves).
SOURCE_DESCRIPTIONS: dict[str, str] = {
    "organisations": "Organisation reference data shaped like the NHS Organisation Data Service (ODS): "
    "regions, "
    "integrated care boards, trusts and sites, with open and close dates and successors.",
    "incidents": "Patient safety events reported by trusts, shaped like the national Learn from Patient "
    "Safety Events service (LFPSE). One file per month of reported date, each under the contract "
    "version its header matches.",
    "hip_fracture_audit": "Hip fracture episodes shaped like the National Hip Fracture Database (NHFD) "
    "audit. "
    "One file per month of admission.",
    "stroke_audit": "Stroke admissions shaped like the Sentinel Stroke National Audit Programme (SSNAP). One "
    "file per month of arrival.",
    "joint_registry": "Primary hip and knee replacements, their revisions and patient-reported outcomes, "
    "shaped like the National Joint Registry (NJR) and the PROMs programme. One file per month of "
    "procedure, revision or post-operative questionnaire.",
    "workforce": "Workforce returns shaped like NHS Workforce Statistics from the Electronic Staff Record "
    "(ESR), with sickness absence and vacancies. One file per reporting month.",
    "bed_availability": "Bed availability and occupancy shaped like the KH03 return: overnight bed days "
    "available and occupied per trust, month and ward type, the exposure of rates per occupied bed day. "
    "One file per reporting month.",
    "patient_experience": "Patient experience returns: Friends and Family Test responses by trust, month "
    "and setting (NHS England's FFT data), and written complaints about hospital and community health "
    "services by trust, financial quarter and subject area (KO41a). Aggregate counts, no patient-level "
    "data. One FFT file per month; one complaints file per quarter, named after its first month.",
    "referral_to_treatment": "Consultant-led referral to treatment (RTT) waiting times shaped like NHS "
    "England's monthly RTT returns: pathways per trust, treatment function and pathway type in weekly "
    "bands of weeks waited. Aggregate, no patient-level data. One file per reporting month.",
    "maternity": "Births shaped like the Maternity Services Data Set (MSDS) as the National Maternity and "
    "Perinatal Audit reads it: one row per baby, with the mother's details and what happened at the "
    "delivery. One file per month of delivery.",
    "adult_social_care": "Adult social care returns by upper-tier local authority: hospital discharge "
    "delays of the council's residents (one file per month, shaped like NHS England's discharge delay "
    "data) and Adult Social Care Outcomes Framework measures (one file per financial year, named after "
    "its first month, April).",
    "personalised_care": "Personalised care interventions by trust, shaped like NHS England's "
    "personalised care collections: people eligible for a personalised care and support plan or a "
    "personal health budget, and people with one. One file per reporting month.",
}

SOURCE_TABLES: list[SourceTable] = [
    SourceTable(
        source="organisations",
        table="organisations",
        family="reference",
        file_glob="organisations.csv",
        key_columns=("org_code",),
        identifier_columns=(),
        versions=(
            first_version(
                OrganisationV1,
                "ODS-shaped organisations: code, name, level, type, parent, opening, closure, successor.",
            ),
            ContractVersion(
                "v2",
                OrganisationV2,
                date(2024, 4, 1),
                "Upper-tier local authorities added (org_level local_authority, ONS codes, a kind of "
                "council as org_type), each under its primary ICB.",
            ),
        ),
        description="ODS-like reference of regions, ICBs, trusts and sites, and (from v2) the upper-tier "
        "local authorities under their primary ICBs, with openings, closures and successors; every "
        "other source's organisation codes must appear here.",
    ),
    SourceTable(
        source="incidents",
        table="events",
        delivery_lag_months=1,
        family="incident",
        file_glob="events_*.csv",
        key_columns=("event_id",),
        identifier_columns=("nhs_number",),
        versions=(
            first_version(IncidentEventV1, "NRLS-shaped event: one degree of harm, one care setting."),
            ContractVersion(
                "v2",
                IncidentEventV2,
                date(2025, 10, 1),
                "LFPSE taxonomy: degree_of_harm renamed physical_harm, psychological_harm added, "
                "care_setting split into service_area and location_type.",
                renamed=(("degree_of_harm", "physical_harm"),),
                split=(("care_setting", ("service_area", "location_type")),),
            ),
        ),
        description="Patient safety events reported to LFPSE, one file per reported month.",
        activity_date_column="event_date",
    ),
    SourceTable(
        source="hip_fracture_audit",
        table="episodes",
        delivery_lag_months=2,
        family="audit",
        file_glob="episodes_*.csv",
        key_columns=("episode_id",),
        identifier_columns=("nhs_number",),
        versions=(
            first_version(
                HipFractureEpisodeV1,
                "NHFD episode: patient, admission, surgery and death, with case-mix fields.",
            ),
        ),
        description="National Hip Fracture Database episodes, one file per admission month.",
        activity_date_column="admission_at",
    ),
    SourceTable(
        source="stroke_audit",
        table="admissions",
        delivery_lag_months=2,
        family="audit",
        file_glob="admissions_*.csv",
        key_columns=("record_id",),
        identifier_columns=("nhs_number",),
        versions=(
            first_version(
                StrokeAdmissionV1,
                "SSNAP admission: patient, stroke type, NIHSS, arrival, stroke unit and thrombolysis.",
            ),
        ),
        description="Stroke audit (SSNAP) admissions, one file per arrival month.",
        activity_date_column="arrival_at",
    ),
    SourceTable(
        source="joint_registry",
        table="procedures",
        delivery_lag_months=2,
        family="registry",
        file_glob="procedures_*.csv",
        key_columns=("procedure_id",),
        identifier_columns=("nhs_number",),
        versions=(
            first_version(JointProcedureV1, "NJR primary hip or knee replacement with case-mix fields."),
        ),
        description="National Joint Registry primary hip and knee replacements, one file per procedure "
        "month.",
        activity_date_column="procedure_date",
    ),
    SourceTable(
        source="joint_registry",
        table="revisions",
        delivery_lag_months=2,
        family="registry",
        file_glob="revisions_*.csv",
        key_columns=("revision_id",),
        identifier_columns=(),
        versions=(
            first_version(JointRevisionV1, "NJR revision with the primary it revises and the main reason."),
        ),
        description="National Joint Registry revisions of primary procedures, one file per revision month.",
        activity_date_column="revision_date",
    ),
    SourceTable(
        source="joint_registry",
        table="proms",
        delivery_lag_months=3,
        family="registry",
        file_glob="proms_*.csv",
        key_columns=("procedure_id",),
        identifier_columns=(),
        versions=(
            first_version(JointPromV1, "Oxford Hip or Knee Score before and six months after a primary."),
        ),
        description="Oxford Hip and Knee Scores before and about six months after a primary procedure, one "
        "file per post-operative month.",
    ),
    SourceTable(
        source="workforce",
        table="staff_months",
        delivery_lag_months=2,
        family="workforce",
        file_glob="staff_months_*.csv",
        key_columns=("staff_id", "reporting_month"),
        identifier_columns=("staff_id",),
        versions=(
            first_version(
                StaffMonthV1,
                "ESR staff member in a month: group, FTE, start, leaving, sickness and available days.",
            ),
        ),
        description="Electronic Staff Record: one row per staff member per month employed, with FTE, "
        "leavers and sickness absence.",
        activity_date_column="reporting_month",
    ),
    SourceTable(
        source="workforce",
        table="vacancies",
        delivery_lag_months=2,
        family="workforce",
        file_glob="vacancies_*.csv",
        key_columns=("trust_code", "reporting_month", "staff_group"),
        identifier_columns=(),
        versions=(
            first_version(
                VacancyV1, "Establishment, vacancies and bank and agency FTE by trust, month and staff group."
            ),
        ),
        description="Monthly establishment, vacancies and bank and agency use by trust and staff group.",
        activity_date_column="reporting_month",
    ),
    SourceTable(
        source="bed_availability",
        table="occupancy",
        delivery_lag_months=2,
        family="capacity",
        file_glob="occupancy_*.csv",
        key_columns=("trust_code", "reporting_month", "ward_type"),
        identifier_columns=(),
        versions=(
            first_version(
                BedOccupancyV1,
                "KH03-like bed return: bed days available and occupied by trust, month and ward type.",
            ),
        ),
        description="Overnight bed days available and occupied by trust, month and ward type (KH03-like); "
        "the exposure of rates per 1,000 occupied bed days.",
        activity_date_column="reporting_month",
    ),
    SourceTable(
        source="patient_experience",
        table="friends_and_family",
        delivery_lag_months=1,
        family="experience",
        file_glob="friends_and_family_*.csv",
        key_columns=("trust_code", "reporting_month", "setting"),
        identifier_columns=(),
        versions=(
            first_version(
                FriendsAndFamilyV1,
                "FFT return: eligible patients and responses by answer, by trust, month and setting.",
            ),
        ),
        description="Friends and Family Test responses by trust, month and setting, with eligible patients "
        "where the setting counts them; one file per reporting month.",
        activity_date_column="reporting_month",
    ),
    SourceTable(
        source="patient_experience",
        table="complaints",
        delivery_lag_months=2,
        months_per_file=3,
        family="experience",
        file_glob="complaints_*.csv",
        key_columns=("trust_code", "quarter_start", "subject_area"),
        identifier_columns=(),
        versions=(
            first_version(
                WrittenComplaintsV1,
                "KO41a-like return: written complaints received and resolved by outcome, by trust, quarter "
                "and subject area.",
            ),
        ),
        description="Written complaints about hospital and community health services (KO41a-like) by "
        "trust, financial quarter and subject area; one file per quarter, named after its first month.",
        activity_date_column="quarter_start",
    ),
    SourceTable(
        source="referral_to_treatment",
        table="pathways",
        delivery_lag_months=2,
        family="access",
        file_glob="pathways_*.csv",
        key_columns=("trust_code", "reporting_month", "treatment_function_code", "pathway_type"),
        identifier_columns=(),
        versions=(
            first_version(
                RttPathwayV1,
                "RTT return: pathways by trust, month, treatment function and pathway type in weekly "
                "bands to 52 weeks and 52+.",
            ),
        ),
        description="Consultant-led RTT pathways (incomplete at the end of the month, completed in it) by "
        "trust, treatment function and pathway type, in weekly bands of weeks waited.",
        activity_date_column="reporting_month",
    ),
    SourceTable(
        source="maternity",
        table="births",
        delivery_lag_months=2,
        family="audit",
        file_glob="births_*.csv",
        key_columns=("birth_id",),
        identifier_columns=("mother_nhs_number",),
        versions=(
            first_version(
                MaternityBirthV1,
                "MSDS-like birth: mother, gestation, delivery mode, outcome, perineal trauma, blood loss.",
            ),
        ),
        description="Births in NHS maternity units (MSDS-like), one row per baby, one file per delivery "
        "month.",
        activity_date_column="delivery_date",
    ),
    SourceTable(
        source="adult_social_care",
        table="discharge_delays",
        delivery_lag_months=2,
        family="social_care",
        file_glob="discharge_delays_*.csv",
        key_columns=("la_code", "reporting_month"),
        identifier_columns=(),
        versions=(
            first_version(
                DischargeDelayV1,
                "Discharges after the discharge ready date by local authority of residence and month: "
                "on the day, days delayed and days attributable to social care.",
                valid_from=date(2024, 4, 1),
            ),
        ),
        description="Monthly discharges of patients no longer meeting the criteria to reside, by local "
        "authority of residence: discharged on their ready date, days delayed, days attributable to "
        "social care.",
        activity_date_column="reporting_month",
    ),
    SourceTable(
        source="adult_social_care",
        table="outcomes",
        delivery_lag_months=8,
        months_per_file=12,
        family="social_care",
        file_glob="outcomes_*.csv",
        key_columns=("la_code", "financial_year_start", "measure_id"),
        identifier_columns=(),
        versions=(
            first_version(
                SocialCareOutcomeV1,
                "ASCOF measures by council and financial year: 2B1 (reablement) and 3A (satisfaction), "
                "numerator and denominator.",
                valid_from=date(2024, 4, 1),
            ),
        ),
        description="Annual Adult Social Care Outcomes Framework measures by council: one file per "
        "financial year, named after its first month (April), published about eight months after the "
        "year ends.",
        activity_date_column="financial_year_start",
    ),
    SourceTable(
        source="personalised_care",
        table="interventions",
        delivery_lag_months=2,
        family="personalised_care",
        file_glob="interventions_*.csv",
        key_columns=("trust_code", "reporting_month", "intervention"),
        identifier_columns=(),
        versions=(
            first_version(
                PersonalisedCareInterventionV1,
                "People eligible for and with a personalised care and support plan or a personal health "
                "budget, by trust, month and intervention.",
                valid_from=date(2024, 4, 1),
            ),
        ),
        description="Monthly personalised care interventions by trust: people eligible for a care and "
        "support plan or a personal health budget, and people with one.",
        activity_date_column="reporting_month",
    ),
]


def _registered_elsewhere(modules: str) -> list[SourceTable]:
    """Source tables of the contract modules named in NQS_CONTRACT_MODULES (each a `SOURCE_TABLES`)."""
    tables: list[SourceTable] = []
    for name in filter(None, (m.strip() for m in modules.split(","))):
        module = importlib.import_module(name)
        found = getattr(module, "SOURCE_TABLES", None)
        if not isinstance(found, list | tuple) or not all(isinstance(t, SourceTable) for t in found):
            raise TypeError(
                f"contract module {name} (from {CONTRACT_MODULES_VARIABLE}) has no SOURCE_TABLES list"
            )
        tables += found
        SOURCE_DESCRIPTIONS.update(getattr(module, "SOURCE_DESCRIPTIONS", {}))
    return tables


SOURCE_TABLES += _registered_elsewhere(os.environ.get(CONTRACT_MODULES_VARIABLE, ""))
_names = [(t.source, t.table) for t in SOURCE_TABLES]
if len(set(_names)) != len(_names):
    raise ValueError(
        f"a source table is registered twice: {sorted(n for n in _names if _names.count(n) > 1)}"
    )


def get_table(source: str, table: str) -> SourceTable:
    """The registered table `source`/`table`; KeyError names the tables that do exist."""
    for entry in SOURCE_TABLES:
        if entry.source == source and entry.table == table:
            return entry
    known = ", ".join(f"{t.source}/{t.table}" for t in SOURCE_TABLES)
    raise KeyError(f"no source table {source}/{table}; registered: {known}")


def source_description(source: str) -> str:
    """What a source folder holds: its registered description, or its tables' descriptions."""
    if source in SOURCE_DESCRIPTIONS:
        return SOURCE_DESCRIPTIONS[source]
    return " ".join(t.description for t in tables_for_source(source))


def sources() -> list[str]:
    """Source folders in registry order."""
    return list(dict.fromkeys(t.source for t in SOURCE_TABLES))


def tables_for_source(source: str) -> list[SourceTable]:
    """Every registered table of one source folder, in registry order."""
    return [entry for entry in SOURCE_TABLES if entry.source == source]
