"""The registry of source tables: the one place that says which files exist and which contract reads them.

Landing assets, quarantine outputs and dbt-facing source definitions are generated from
`SOURCE_TABLES`, so adding a source (or a new contract version) means adding one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from contracts.audits import HipFractureEpisodeV1, StrokeAdmissionV1
from contracts.base import ContractModel
from contracts.bed_availability import BedOccupancyV1
from contracts.incidents import IncidentEventV1
from contracts.joint_registry import JointProcedureV1, JointPromV1, JointRevisionV1
from contracts.reference import OrganisationV1
from contracts.workforce import StaffMonthV1, VacancyV1

Family = Literal["reference", "incident", "audit", "registry", "workforce", "capacity"]


@dataclass(frozen=True)
class SourceTable:
    """One table of one national collection, as delivered in files, and the contract that reads it."""

    source: str  #: folder under the sources directory, e.g. "incidents"
    table: str  #: table name, the file prefix, e.g. "events"
    family: Family
    file_glob: str  #: files of this table inside the source folder, e.g. "events_*.csv"
    model: type[ContractModel]
    key_columns: tuple[str, ...]  #: natural key, unique within a file
    identifier_columns: tuple[str, ...]  #: direct identifiers, replaced by `<column>_hash` at landing
    version: str
    description: str
    #: the date the activity happened; an organisation code must be open on it (None: no such check)
    activity_date_column: str | None = None

    @property
    def name(self) -> str:
        """`<source>__<table>`, the stem of the table's staging model and landing asset."""
        return f"{self.source}__{self.table}"

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns of the source file, in contract order."""
        return tuple(self.model.to_schema().columns)

    @property
    def landed_columns(self) -> tuple[str, ...]:
        """Contract columns as landed: identifiers renamed to their hashes."""
        return tuple(f"{c}_hash" if c in self.identifier_columns else c for c in self.columns)


SOURCE_TABLES: list[SourceTable] = [
    SourceTable(
        source="organisations",
        table="organisations",
        family="reference",
        file_glob="organisations.csv",
        model=OrganisationV1,
        key_columns=("org_code",),
        identifier_columns=(),
        version="v1",
        description="ODS-like reference of regions, ICBs, trusts and sites, with openings, closures and "
        "successors; every other source's organisation codes must appear here.",
    ),
    SourceTable(
        source="incidents",
        table="events",
        family="incident",
        file_glob="events_*.csv",
        model=IncidentEventV1,
        key_columns=("event_id",),
        identifier_columns=("nhs_number",),
        version="v1",
        description="Patient safety events reported to LFPSE, one file per reported month.",
        activity_date_column="event_date",
    ),
    SourceTable(
        source="hip_fracture_audit",
        table="episodes",
        family="audit",
        file_glob="episodes_*.csv",
        model=HipFractureEpisodeV1,
        key_columns=("episode_id",),
        identifier_columns=("nhs_number",),
        version="v1",
        description="National Hip Fracture Database episodes, one file per admission month.",
        activity_date_column="admission_at",
    ),
    SourceTable(
        source="stroke_audit",
        table="admissions",
        family="audit",
        file_glob="admissions_*.csv",
        model=StrokeAdmissionV1,
        key_columns=("record_id",),
        identifier_columns=("nhs_number",),
        version="v1",
        description="Stroke audit (SSNAP) admissions, one file per arrival month.",
        activity_date_column="arrival_at",
    ),
    SourceTable(
        source="joint_registry",
        table="procedures",
        family="registry",
        file_glob="procedures_*.csv",
        model=JointProcedureV1,
        key_columns=("procedure_id",),
        identifier_columns=("nhs_number",),
        version="v1",
        description="National Joint Registry primary hip and knee replacements, one file per procedure "
        "month.",
        activity_date_column="procedure_date",
    ),
    SourceTable(
        source="joint_registry",
        table="revisions",
        family="registry",
        file_glob="revisions_*.csv",
        model=JointRevisionV1,
        key_columns=("revision_id",),
        identifier_columns=(),
        version="v1",
        description="National Joint Registry revisions of primary procedures, one file per revision month.",
        activity_date_column="revision_date",
    ),
    SourceTable(
        source="joint_registry",
        table="proms",
        family="registry",
        file_glob="proms_*.csv",
        model=JointPromV1,
        key_columns=("procedure_id",),
        identifier_columns=(),
        version="v1",
        description="Oxford Hip and Knee Scores before and about six months after a primary procedure, one "
        "file per post-operative month.",
    ),
    SourceTable(
        source="workforce",
        table="staff_months",
        family="workforce",
        file_glob="staff_months_*.csv",
        model=StaffMonthV1,
        key_columns=("staff_id", "reporting_month"),
        identifier_columns=("staff_id",),
        version="v1",
        description="Electronic Staff Record: one row per staff member per month employed, with FTE, "
        "leavers and sickness absence.",
        activity_date_column="reporting_month",
    ),
    SourceTable(
        source="workforce",
        table="vacancies",
        family="workforce",
        file_glob="vacancies_*.csv",
        model=VacancyV1,
        key_columns=("trust_code", "reporting_month", "staff_group"),
        identifier_columns=(),
        version="v1",
        description="Monthly establishment, vacancies and bank and agency use by trust and staff group.",
        activity_date_column="reporting_month",
    ),
    SourceTable(
        source="bed_availability",
        table="occupancy",
        family="capacity",
        file_glob="occupancy_*.csv",
        model=BedOccupancyV1,
        key_columns=("trust_code", "reporting_month", "ward_type"),
        identifier_columns=(),
        version="v1",
        description="Overnight bed days available and occupied by trust, month and ward type (KH03-like); "
        "the exposure of rates per 1,000 occupied bed days.",
        activity_date_column="reporting_month",
    ),
]


def get_table(source: str, table: str) -> SourceTable:
    """The registered table `source`/`table`; KeyError names the tables that do exist."""
    for entry in SOURCE_TABLES:
        if entry.source == source and entry.table == table:
            return entry
    known = ", ".join(f"{t.source}/{t.table}" for t in SOURCE_TABLES)
    raise KeyError(f"no source table {source}/{table}; registered: {known}")


def tables_for_source(source: str) -> list[SourceTable]:
    """Every registered table of one source folder, in registry order."""
    return [entry for entry in SOURCE_TABLES if entry.source == source]
