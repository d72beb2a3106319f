"""Contracts for patient safety events (Learn from Patient Safety Events, LFPSE), versions side by side.

v1 is the extract as first agreed, shaped like the National Reporting and Learning System (NRLS)
fields LFPSE inherited: one `degree_of_harm` and one `care_setting`. v2 follows the LFPSE taxonomy,
which records harm to the patient on two separate scales and describes where care happened with two
questions instead of one:

- `degree_of_harm` is renamed `physical_harm` (same codes: none, low, moderate, severe, fatal);
- `psychological_harm` is a new harm category v1 could not record (none, low, moderate, severe;
  LFPSE has no fatal psychological harm);
- `care_setting` is split into `service_area` (the kind of service: acute, maternity, mental health,
  community, ambulance) and `location_type` (where in it: inpatient ward, emergency department,
  outpatient clinic, community location, pre-hospital).

Files under both versions land side by side; staging maps v1 history onto the v2 meaning (see
`stg_incidents__events`). Neither model is edited once data has been accepted under it: a further
change is a v3.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa

from contracts.base import ContractModel, carried

#: Reports later than this after the event are possible (a late-recognised harm) but worth a look.
LATE_REPORT_DAYS = 365


class IncidentEventV1(ContractModel):
    """One row per reported patient safety event (NRLS-shaped fields); monthly files by reported month."""

    event_id: str = pa.Field(
        str_matches=r"^W[0-9]{9}$", description="LFPSE event reference, `W` and nine digits; the natural key."
    )
    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the reporting trust.")
    site_code: str = pa.Field(ods_site_code=(), description="ODS code of the site where the event happened.")
    event_date: date = pa.Field(
        not_in_future=(),
        not_after={"other": "reported_date"},
        description="Date the event happened; on or before the date it was reported.",
    )
    reported_date: date = pa.Field(
        not_in_future=(), description="Date the event was reported; the file's month is this date's month."
    )
    event_category: str = pa.Field(
        in_domain={"domain": "event_category"},
        description="What kind of event (medication, patient_fall, ...).",
    )
    degree_of_harm: str = pa.Field(
        in_domain={"domain": "degree_of_harm"},
        description="Harm to the patient on one NRLS-style scale: none, low, moderate, severe or fatal. "
        "Renamed physical_harm in v2.",
    )
    care_setting: str = pa.Field(
        in_domain={"domain": "care_setting"},
        description="Setting of care in which the event happened. Split into service_area and location_type "
        "in v2.",
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
        plausible_delay = {"column": "reported_date", "since": "event_date", "max_days": LATE_REPORT_DAYS}


class IncidentEventV2(ContractModel):
    """One row per reported patient safety event (LFPSE taxonomy); monthly files by reported month.

    Changes from v1: `degree_of_harm` renamed `physical_harm`; new `psychological_harm`; `care_setting`
    split into `service_area` and `location_type`. Every other column is carried over unchanged.
    """

    event_id: str = carried(IncidentEventV1, "event_id")
    trust_code: str = carried(IncidentEventV1, "trust_code")
    site_code: str = carried(IncidentEventV1, "site_code")
    event_date: date = carried(IncidentEventV1, "event_date")
    reported_date: date = carried(IncidentEventV1, "reported_date")
    event_category: str = carried(IncidentEventV1, "event_category")
    physical_harm: str = pa.Field(
        in_domain={"domain": "physical_harm"},
        description="LFPSE physical harm to the patient: none, low, moderate, severe or fatal "
        "(v1 degree_of_harm, renamed; same codes).",
    )
    psychological_harm: str = pa.Field(
        in_domain={"domain": "psychological_harm"},
        description="LFPSE psychological harm to the patient: none, low, moderate or severe. New in v2: "
        "v1 could not record it.",
    )
    service_area: str = pa.Field(
        in_domain={"domain": "service_area"},
        description="Kind of service the patient was receiving: acute, maternity, mental_health, community "
        "or ambulance (with location_type, v1 care_setting).",
    )
    location_type: str = pa.Field(
        in_domain={"domain": "location_type"},
        description="Where in that service the event happened: inpatient_ward, emergency_department, "
        "outpatient_clinic, community_location or pre_hospital (with service_area, v1 care_setting).",
    )
    specialty: str = carried(IncidentEventV1, "specialty")
    patient_age_band: str = carried(IncidentEventV1, "patient_age_band")
    is_never_event: bool = carried(IncidentEventV1, "is_never_event")
    nhs_number: str = carried(IncidentEventV1, "nhs_number")

    class Config:
        name = "incidents.events.v2"
        unique_key = {"columns": ["event_id"]}
        plausible_delay = {"column": "reported_date", "since": "event_date", "max_days": LATE_REPORT_DAYS}
