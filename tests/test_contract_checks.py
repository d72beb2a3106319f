"""Every check of every contract version really fires, through the real landing code.

The checks are enumerated from the models (`contracts.versions.contract_checks`), never listed by
hand: a check added to a contract without a case here fails `test_every_check_has_a_firing_case`.
Each case changes one row of a valid fixture file and lands it with `nqs.landing.file.land_file`
(with the organisations reference, as the warehouse does); the failure must come back under the
check's name, column and severity, the row must be held (major) or accepted (minor), and every
other row must still be accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from contracts.base import REGISTERED_CHECKS, Severity
from contracts.patient_experience import COMPLAINT_OUTCOMES, FFT_ANSWERS
from contracts.referral_to_treatment import BAND_COLUMNS
from contracts.sources import SOURCE_TABLES, SourceTable
from contracts.versions import ContractCheck, column_dtype, contract_checks
from nqs.landing.check_results import CODE_CASE_CHECK, READING_CHECKS, code_columns
from nqs.landing.file import LandingResult, land_file
from nqs.landing.membership import ReferenceCodes
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY
from nqs.landing.reference import load_reference

FIXTURES = Path(__file__).parent / "fixtures" / "contracts"
#: Valid files of versions other than the one a table's file in FIXTURES is of (a later version,
#: or the organisations reference's v1: FIXTURES holds its v2, which lists local authorities), one
#: folder per source as in FIXTURES.
LATER_VERSION_FIXTURES = {
    ("incidents", "events", "v2"): Path(__file__).parent / "fixtures" / "contract_versions",
    ("organisations", "organisations", "v1"): Path(__file__).parent / "fixtures" / "contract_versions",
}
TODAY = date(2026, 4, 30)
FUTURE_DATE, FUTURE_TIMESTAMP = "2026-05-01", "2026-05-01T00:00:00"

VERSIONED: list[SourceTable] = [t.at_version(v.version) for t in SOURCE_TABLES for v in t.versions]


def version_id(table: SourceTable) -> str:
    return f"{table.source}/{table.table}.{table.version}"


def fixture_path(table: SourceTable) -> Path:
    folder = LATER_VERSION_FIXTURES.get((table.source, table.table, table.version), FIXTURES)
    return sorted((folder / table.source).glob(table.file_glob))[0]


def fixture_rows(table: SourceTable) -> pl.DataFrame:
    return pl.read_csv(fixture_path(table), infer_schema=False)


# ---------------------------------------------------------------------------------------------
# Cases: a row and the changes that break one check
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    row: int
    changes: dict[str, str | None]


#: Cases for checks with a meaning of their own, by (source/table, check, column); every version of
#: the table uses them. Generic checks (types, required values, formats, code lists, dates in the
#: future, organisation codes) get their case from `generic_case`.
SPECIFIC: dict[tuple[str, str, str | None], Case] = {
    # incidents
    ("incidents/events", "not_after", "event_date"): Case(1, {"event_date": "2025-05-03"}),
    ("incidents/events", "unique_key", "event_id"): Case(2, {"event_id": "W000000001"}),
    ("incidents/events", "plausible_delay", "reported_date"): Case(2, {"event_date": "2024-01-01"}),
    # bed availability
    ("bed_availability/occupancy", "greater_than_or_equal_to", "available_bed_days"): Case(
        2, {"available_bed_days": "-1"}
    ),
    ("bed_availability/occupancy", "greater_than_or_equal_to", "occupied_bed_days"): Case(
        2, {"occupied_bed_days": "-1"}
    ),
    ("bed_availability/occupancy", "occupied_within_available", "occupied_bed_days"): Case(
        1, {"occupied_bed_days": "12401"}
    ),
    ("bed_availability/occupancy", "unique_key", "trust_code"): Case(2, {"ward_type": "general_acute"}),
    # hip fracture audit
    ("hip_fracture_audit/episodes", "in_range", "age"): Case(1, {"age": "150"}),
    ("hip_fracture_audit/episodes", "in_range", "imd_quintile"): Case(1, {"imd_quintile": "6"}),
    ("hip_fracture_audit/episodes", "in_range", "asa_grade"): Case(1, {"asa_grade": "7"}),
    ("hip_fracture_audit/episodes", "not_before", "surgery_at"): Case(
        1, {"surgery_at": "2025-05-01T09:00:00"}
    ),
    ("hip_fracture_audit/episodes", "not_before", "death_date"): Case(2, {"death_date": "2025-05-02"}),
    ("hip_fracture_audit/episodes", "unique_key", "episode_id"): Case(2, {"episode_id": "HF00000001"}),
    ("hip_fracture_audit/episodes", "plausible_range", "age"): Case(1, {"age": "110"}),
    ("hip_fracture_audit/episodes", "plausible_delay", "surgery_at"): Case(
        1, {"surgery_at": "2025-05-10T10:00:00"}
    ),
    # stroke audit
    ("stroke_audit/admissions", "in_range", "age"): Case(1, {"age": "150"}),
    ("stroke_audit/admissions", "in_range", "imd_quintile"): Case(1, {"imd_quintile": "0"}),
    ("stroke_audit/admissions", "in_range", "nihss_on_arrival"): Case(1, {"nihss_on_arrival": "55"}),
    ("stroke_audit/admissions", "not_before", "stroke_unit_arrival_at"): Case(
        1, {"stroke_unit_arrival_at": "2025-05-01T10:00:00"}
    ),
    ("stroke_audit/admissions", "unique_key", "record_id"): Case(2, {"record_id": "SS00000001"}),
    ("stroke_audit/admissions", "plausible_range", "age"): Case(1, {"age": "106"}),
    ("stroke_audit/admissions", "plausible_delay", "stroke_unit_arrival_at"): Case(
        1, {"stroke_unit_arrival_at": "2025-05-09T12:00:00"}
    ),
    # joint registry
    ("joint_registry/procedures", "in_range", "age"): Case(1, {"age": "12"}),
    ("joint_registry/procedures", "in_range", "imd_quintile"): Case(1, {"imd_quintile": "9"}),
    ("joint_registry/procedures", "in_range", "asa_grade"): Case(1, {"asa_grade": "0"}),
    ("joint_registry/procedures", "unique_key", "procedure_id"): Case(3, {"procedure_id": "NJ000000002"}),
    ("joint_registry/procedures", "plausible_range", "age"): Case(2, {"age": "107"}),
    ("joint_registry/revisions", "not_before", "revision_date"): Case(1, {"revision_date": "2025-01-10"}),
    ("joint_registry/revisions", "unique_key", "revision_id"): Case(2, {"revision_id": "RV000000001"}),
    ("joint_registry/proms", "in_range", "pre_op_score"): Case(1, {"pre_op_score": "49"}),
    ("joint_registry/proms", "in_range", "post_op_score"): Case(2, {"post_op_score": "-1"}),
    ("joint_registry/proms", "not_before", "post_op_date"): Case(1, {"post_op_date": "2024-10-19"}),
    ("joint_registry/proms", "unique_key", "procedure_id"): Case(2, {"procedure_id": "NJ000000011"}),
    ("joint_registry/proms", "plausible_delay", "post_op_date"): Case(1, {"pre_op_date": "2025-04-20"}),
    # workforce
    ("workforce/staff_months", "in_range", "fte"): Case(1, {"fte": "1.6"}),
    ("workforce/staff_months", "greater_than_or_equal_to", "sickness_fte_days"): Case(
        1, {"sickness_fte_days": "-1"}
    ),
    ("workforce/staff_months", "greater_than_or_equal_to", "available_fte_days"): Case(
        2, {"available_fte_days": "-0.5"}
    ),
    ("workforce/staff_months", "unique_key", "staff_id"): Case(2, {"staff_id": "E00000001"}),
    ("workforce/staff_months", "leaving_within_month", "leaving_date"): Case(
        2, {"leaving_date": "2025-06-01"}
    ),
    ("workforce/staff_months", "started_by_month_end", "start_date"): Case(1, {"start_date": "2025-06-02"}),
    ("workforce/staff_months", "sickness_within_available", "sickness_fte_days"): Case(
        1, {"sickness_fte_days": "31.5"}
    ),
    ("workforce/staff_months", "available_within_fte", "available_fte_days"): Case(
        1, {"available_fte_days": "40.0"}
    ),
    ("workforce/vacancies", "greater_than_or_equal_to", "establishment_fte"): Case(
        3, {"establishment_fte": "-1", "vacancy_fte": "-2"}
    ),
    ("workforce/vacancies", "greater_than_or_equal_to", "vacancy_fte"): Case(1, {"vacancy_fte": "-1.5"}),
    ("workforce/vacancies", "greater_than_or_equal_to", "bank_fte"): Case(1, {"bank_fte": "-5"}),
    ("workforce/vacancies", "greater_than_or_equal_to", "agency_fte"): Case(2, {"agency_fte": "-0.25"}),
    ("workforce/vacancies", "unique_key", "trust_code"): Case(2, {"staff_group": "nurses_midwives"}),
    ("workforce/vacancies", "vacancies_within_establishment", "vacancy_fte"): Case(
        3, {"vacancy_fte": "300.5"}
    ),
    # patient experience: the Friends and Family Test (monthly) and written complaints (quarterly)
    **{
        ("patient_experience/friends_and_family", "greater_than_or_equal_to", column): Case(2, {column: "-1"})
        for column in ("eligible", "responses", *FFT_ANSWERS)
    },
    ("patient_experience/friends_and_family", "sums_to", "responses"): Case(1, {"responses": "421"}),
    ("patient_experience/friends_and_family", "responses_within_eligible", "responses"): Case(
        2, {"eligible": "559"}
    ),
    ("patient_experience/friends_and_family", "unique_key", "trust_code"): Case(2, {"setting": "inpatient"}),
    **{
        ("patient_experience/complaints", "greater_than_or_equal_to", column): Case(3, {column: "-1"})
        for column in ("complaints_received", "complaints_resolved", *COMPLAINT_OUTCOMES)
    },
    ("patient_experience/complaints", "sums_to", "complaints_resolved"): Case(2, {"partially_upheld": "10"}),
    ("patient_experience/complaints", "first_of_quarter", "quarter_start"): Case(
        1, {"quarter_start": "2025-05-01"}
    ),
    ("patient_experience/complaints", "unique_key", "trust_code"): Case(
        2, {"subject_area": "clinical_treatment"}
    ),
    # maternity
    ("maternity/births", "in_range", "birth_order"): Case(1, {"birth_order": "7"}),
    ("maternity/births", "in_range", "mother_age"): Case(1, {"mother_age": "70"}),
    ("maternity/births", "in_range", "imd_quintile"): Case(1, {"imd_quintile": "6"}),
    ("maternity/births", "in_range", "gestation_weeks"): Case(1, {"gestation_weeks": "46"}),
    ("maternity/births", "in_range", "gestation_days"): Case(2, {"gestation_days": "7"}),
    ("maternity/births", "in_range", "birthweight_g"): Case(1, {"birthweight_g": "9000"}),
    ("maternity/births", "in_range", "blood_loss_ml"): Case(2, {"blood_loss_ml": "-10"}),
    ("maternity/births", "not_before", "baby_death_date"): Case(3, {"baby_death_date": "2025-05-09"}),
    ("maternity/births", "empty_unless", "baby_death_date"): Case(3, {"birth_outcome": "stillbirth"}),
    ("maternity/births", "empty_unless", "perineal_trauma"): Case(2, {"perineal_trauma": "none"}),
    ("maternity/births", "stillbirth_from_24_weeks", "gestation_weeks"): Case(
        1, {"birth_outcome": "stillbirth", "gestation_weeks": "22"}
    ),
    ("maternity/births", "unique_key", "birth_id"): Case(2, {"birth_id": "MB00000001"}),
    ("maternity/births", "plausible_range", "mother_age"): Case(1, {"mother_age": "52"}),
    # adult social care
    ("adult_social_care/discharge_delays", "greater_than_or_equal_to", "patients_discharged"): Case(
        1, {"patients_discharged": "-1"}
    ),
    ("adult_social_care/discharge_delays", "greater_than_or_equal_to", "discharged_on_ready_date"): Case(
        2, {"discharged_on_ready_date": "-1"}
    ),
    ("adult_social_care/discharge_delays", "greater_than_or_equal_to", "delay_days"): Case(
        3, {"delay_days": "-1", "delay_days_social_care": "-2"}
    ),
    ("adult_social_care/discharge_delays", "greater_than_or_equal_to", "delay_days_social_care"): Case(
        1, {"delay_days_social_care": "-1"}
    ),
    (
        "adult_social_care/discharge_delays",
        "on_ready_date_within_discharged",
        "discharged_on_ready_date",
    ): Case(1, {"discharged_on_ready_date": "121"}),
    (
        "adult_social_care/discharge_delays",
        "social_care_days_within_delay_days",
        "delay_days_social_care",
    ): Case(2, {"delay_days_social_care": "46"}),
    ("adult_social_care/discharge_delays", "unique_key", "la_code"): Case(2, {"la_code": "E06000001"}),
    ("adult_social_care/outcomes", "greater_than_or_equal_to", "numerator"): Case(1, {"numerator": "-1"}),
    ("adult_social_care/outcomes", "greater_than_or_equal_to", "denominator"): Case(
        2, {"numerator": "-2", "denominator": "-1"}
    ),
    ("adult_social_care/outcomes", "numerator_within_denominator", "numerator"): Case(3, {"numerator": "49"}),
    ("adult_social_care/outcomes", "unique_key", "la_code"): Case(2, {"measure_id": "2B1"}),
    # personalised care
    ("personalised_care/interventions", "greater_than_or_equal_to", "people_eligible"): Case(
        3, {"people_eligible": "-1", "people_with_intervention": "-2"}
    ),
    ("personalised_care/interventions", "greater_than_or_equal_to", "people_with_intervention"): Case(
        1, {"people_with_intervention": "-1"}
    ),
    (
        "personalised_care/interventions",
        "people_with_intervention_within_eligible",
        "people_with_intervention",
    ): Case(2, {"people_with_intervention": "21"}),
    ("personalised_care/interventions", "unique_key", "trust_code"): Case(
        2, {"intervention": "care_and_support_plan"}
    ),
    # organisations
    ("organisations/organisations", "local_authority_under_icb", "parent_code"): Case(
        11, {"parent_code": "Y56"}
    ),
    ("organisations/organisations", "unique_key", "org_code"): Case(10, {"org_code": "RAA02"}),
    ("organisations/organisations", "not_before", "close_date"): Case(4, {"close_date": "1999-01-01"}),
    ("organisations/organisations", "code_shaped_for_level", "org_code"): Case(10, {"org_code": "RCC1"}),
    ("organisations/organisations", "type_fits_level", "org_type"): Case(3, {"org_type": "site"}),
    ("organisations/organisations", "parent_required_below_region", "parent_code"): Case(
        8, {"parent_code": None}
    ),
    ("organisations/organisations", "parent_listed", "parent_code"): Case(7, {"parent_code": "RZZ"}),
    ("organisations/organisations", "site_code_within_trust", "org_code"): Case(10, {"parent_code": "RAA"}),
    ("organisations/organisations", "successor_only_when_closed", "successor_code"): Case(
        3, {"successor_code": "RCC"}
    ),
    # referral to treatment: a negative band also breaks its row's total, which the case allows
    **{
        ("referral_to_treatment/pathways", "greater_than_or_equal_to", column): Case(2, {column: "-1"})
        for column in (*BAND_COLUMNS, "total_pathways", "unknown_clock_start_pathways")
    },
    ("referral_to_treatment/pathways", "unique_key", "trust_code"): Case(
        3, {"treatment_function_code": "110"}
    ),
    ("referral_to_treatment/pathways", "sums_to", "total_pathways"): Case(1, {"total_pathways": "1438"}),
}


def _last_row_with(rows: pl.DataFrame, column: str) -> int:
    """The last data row (1-based) holding a value in `column`: later rows have no dependants."""
    return int(rows.with_row_index("n").filter(pl.col(column).is_not_null())["n"].max()) + 1


def generic_case(table: SourceTable, check: ContractCheck) -> Case | None:
    """A failing row for checks whose failing value follows from the check alone."""
    rows = fixture_rows(table)
    column = check.column
    if column is None or column not in rows.columns:
        return None
    row = _last_row_with(rows, column)
    value: str | None
    if check.kind == "type":
        value = "not-a-value"
    elif check.name == "not_nullable":
        value = None
    elif check.name == "in_domain":
        value = "not_a_code"
    elif check.name == "str_matches":
        value = "?"
    elif check.name == "nhs_number":
        value = "9991234579"  # wrong Modulus 11 check digit
    elif check.name == "ods_trust_code":
        value = "R1"
    elif check.name == "ods_site_code":
        value = "RAA1"
    elif check.name == "ons_la_code":
        value = "E07000001"  # a lower-tier district: well formed, but it runs no social care
    elif check.name == "financial_year_start":
        value = rows[column][row - 1][:5] + "05-01"
    elif check.name == "first_of_month":
        value = rows[column][row - 1][:8] + "02"
    elif check.name == "not_in_future":
        value = FUTURE_TIMESTAMP if "T" in rows[column][row - 1] else FUTURE_DATE
    elif check.kind == "reference":
        return _reference_case(rows, check.name, row)
    else:
        return None
    return Case(row, {column: value})


def _reference_case(rows: pl.DataFrame, name: str, row: int) -> Case:
    """Organisation codes against the fixture reference (RBB and its site RBB01 closed 2025-03-31; the
    county council E10000099 closed 2023-03-31, succeeded by E06000099)."""
    if name == "known_la_code":
        return Case(row, {"la_code": "E06000998"})
    if name == "open_la_code":
        return Case(row, {"la_code": "E10000099"})
    has_site = "site_code" in rows.columns
    if name == "known_trust_code":
        return Case(row, {"trust_code": "RZZ"})
    if name == "known_site_code":
        return Case(row, {"site_code": "RAA09"})
    if name in ("open_trust_code", "open_site_code"):
        return Case(row, {"trust_code": "RBB", **({"site_code": "RBB01"} if has_site else {})})
    other_site = "RCC01" if rows["trust_code"][row - 1] != "RCC" else "RAA01"
    return Case(row, {"site_code": other_site})  # site_of_trust


def case_for(table: SourceTable, check: ContractCheck) -> Case | None:
    specific = SPECIFIC.get((f"{table.source}/{table.table}", check.name, check.column))
    return specific or generic_case(table, check)


CHECKS = [(table, check) for table in VERSIONED for check in contract_checks(table.model)]


def check_id(item: tuple[SourceTable, ContractCheck]) -> str:
    table, check = item
    return f"{version_id(table)}:{check.column}:{check.name}"


# ---------------------------------------------------------------------------------------------
# Landing
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference() -> ReferenceCodes:
    return load_reference(FIXTURES, today=TODAY)


def land_case(
    tmp_path: Path, table: SourceTable, case: Case | None, reference: ReferenceCodes
) -> LandingResult:
    rows = fixture_rows(table)
    if case is not None:
        target = pl.int_range(1, pl.len() + 1) == case.row
        rows = rows.with_columns(
            pl.when(target).then(pl.lit(value, dtype=pl.String)).otherwise(pl.col(column)).alias(column)
            for column, value in case.changes.items()
        )
    path = tmp_path / table.source / fixture_path(table).name
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.write_csv(path)
    registered = next(t for t in SOURCE_TABLES if (t.source, t.table) == (table.source, table.table))
    if registered.contract_for_header(rows.columns).version != table.version:
        # a header another version shares (organisations v1 and v2: v2 only widened code lists) is
        # read under the newest; a file of the older version is landed under its own contract here
        registered = table
    return land_file(
        registered,
        path,
        sources_dir=tmp_path,
        pseudonym_key=SAMPLE_PSEUDONYM_KEY,
        today=TODAY,
        reference=reference,
    )


def test_every_check_has_a_firing_case():
    missing = [check_id(item) for item in CHECKS if case_for(*item) is None]
    assert missing == [], "checks without a case that makes them fire: " + ", ".join(missing)
    enumerated = {(f"{t.source}/{t.table}", c.name, c.column) for t, c in CHECKS}
    assert set(SPECIFIC) - enumerated == set(), "cases for checks no contract has"


def test_checks_span_every_registered_check_and_severity():
    used = {check.name for _, check in CHECKS}
    assert set(REGISTERED_CHECKS) <= used, "a registered check no contract uses"
    assert {check.severity for _, check in CHECKS} == {str(Severity.MAJOR), str(Severity.MINOR)}


@pytest.mark.parametrize("table", VERSIONED, ids=version_id)
def test_valid_rows_pass_and_the_inventory_is_what_landing_checks(tmp_path, table, reference):
    assert set(fixture_rows(table).columns) == set(table.columns), "fixture is not of this version"
    result = land_case(tmp_path, table, None, reference)
    assert result.critical_error is None and result.quarantine.height == 0
    assert result.rows_accepted == result.rows_read == 3 or table.table == "organisations"
    assert set(result.accepted["_contract_version"]) == {table.version}
    landed = set(result.checks.select("check_name", "column_name", "severity").iter_rows())
    reading = {check for check, _, _ in READING_CHECKS} | {CODE_CASE_CHECK}
    assert {c for c in landed if c[0] not in reading} == {
        (c.name, c.column, c.severity) for c in contract_checks(table.model)
    }
    assert {c[0] for c in landed} >= reading - ({CODE_CASE_CHECK} if not code_columns(table) else set())


@pytest.mark.parametrize(("table", "check"), CHECKS, ids=[check_id(item) for item in CHECKS])
def test_check_fires_on_its_row_column_and_severity(tmp_path, table, check, reference):
    case = case_for(table, check)
    assert case is not None
    result = land_case(tmp_path, table, case, reference)
    assert result.critical_error is None
    found = set(result.quarantine.select("row_number", "column_name", "check_name", "severity").iter_rows())
    assert (case.row, check.column, check.name, check.severity) in found
    assert set(result.quarantine["contract_version"]) == {table.version}
    held = set(result.quarantine.filter(pl.col("severity") != str(Severity.MINOR))["row_number"])
    accepted = set(result.accepted["_row_number"])
    if check.severity == str(Severity.MINOR):
        assert held == set() and case.row in accepted  # recorded, row still accepted
    else:
        assert held == {case.row} and case.row not in accepted
    assert accepted | held == set(range(1, result.rows_read + 1))  # every other row accepted
    failed = result.checks.filter(
        (pl.col("check_name") == check.name) & (pl.col("column_name") == check.column)
    )["rows_failed"]
    assert failed.to_list() == [1]


def test_a_column_type_the_casts_cannot_read_would_be_caught():
    """Every contract column has a type landing can cast text to (else its type check cannot fire)."""
    from nqs.landing.casting import cast_expr

    with pytest.raises(TypeError, match="no cast from text"):
        cast_expr("amount", pl.Decimal(10, 2))
    cast_columns = 0
    for table in VERSIONED:
        rows = fixture_rows(table)
        for column in table.columns:
            dtype = column_dtype(table.model, column)
            cast = rows.select(cast_expr(column, dtype))
            assert cast.schema[column] == dtype, (table.name, table.version, column)
            delivered = rows[column].fill_null("") != ""
            assert cast[column].filter(delivered).null_count() == 0, (table.name, table.version, column)
            cast_columns += 1
    assert cast_columns >= sum(len(t.columns) for t in SOURCE_TABLES)


def test_a_lazy_frame_is_checked_only_for_its_schema_unless_landing_asks_for_data():
    """The pitfall landing avoids: pandera on a polars LazyFrame skips data checks by default."""
    import pandera.polars as pa
    from pandera.config import ValidationDepth, config_context

    table = next(t for t in VERSIONED if t.name == "joint_registry__proms")
    frame = pl.DataFrame(
        {"procedure_id": ["NJ000000011"], "joint": ["hip"], "pre_op_score": [99], "post_op_score": [41]}
        | {
            "pre_op_date": [date(2024, 10, 20)],
            "post_op_date": [date(2025, 5, 2)],
            "post_op_satisfaction": ["good"],
        }
    )
    with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
        table.model.validate(frame.lazy(), lazy=True)  # passes: the score of 99 is never looked at
    with (
        config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA),
        pytest.raises(pa.errors.SchemaErrors),
    ):
        table.model.validate(frame.lazy(), lazy=True)
