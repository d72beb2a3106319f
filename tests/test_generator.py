"""Tests of the synthetic source generator against the shared build spec.

The checks here do not reuse the generator's own code: column lists and code lists come from the
contracts the files must meet, and the Modulus 11 rule and the defect rules are restated from the
spec, so a generator bug cannot hide behind a shared constant.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from contracts.domains import DOMAINS
from contracts.patient_experience import COMPLAINT_OUTCOMES, FFT_ANSWERS
from contracts.referral_to_treatment import BAND_COLUMNS
from contracts.sources import SOURCE_TABLES
from nqs.generate import generate_sources
from nqs.generate.nhs_number import check_digits, is_valid, valid_numbers

END = "2026-03"
MONTHS = 24
SPAN = [f"{y}-{m:02d}" for y, m in [(2024 + (3 + i) // 12, (3 + i) % 12 + 1) for i in range(MONTHS)]]
LAST_DAY = date(2026, 3, 31)
FUTURE_AFTER = date(2027, 3, 31)

#: The columns a file may have, by contract version: the contracts', which the generator does not import.
VERSION_COLUMNS: dict[str, dict[str, list[str]]] = {
    f"{t.source}/{t.table}": {v.version: list(v.columns) for v in t.versions} for t in SOURCE_TABLES
}
#: Every column of any version of each table.
SPEC_COLUMNS: dict[str, list[str]] = {
    name: list(dict.fromkeys(c for columns in versions.values() for c in columns))
    for name, versions in VERSION_COLUMNS.items()
}
#: The month incident files switch to contract v2 (its valid_from), and the version of each month.
EVENTS_V2_FROM = next(t for t in SOURCE_TABLES if t.table == "events").version_entry("v2").valid_from


def expected_version(table: str, month: str | None) -> str:
    if table == "incidents/events" and month is not None and month >= EVENTS_V2_FROM.strftime("%Y-%m"):
        return "v2"
    if table == "organisations/organisations":  # v2 lists the local authorities
        return "v2"
    return "v1"


#: Code lists from the contracts, and the spec's Y/N flags (typed as booleans by the contracts).
ENUMS = {
    **DOMAINS,
    "is_never_event": ("Y", "N"),
    "thrombolysed": ("Y", "N"),
    "post_op_satisfaction": DOMAINS["proms_satisfaction"],
    "setting": DOMAINS["fft_setting"],
    "subject_area": DOMAINS["complaint_subject"],
    "treatment_function_code": DOMAINS["treatment_function"],
    "pathway_type": DOMAINS["rtt_pathway_type"],
    "mother_ethnic_category": DOMAINS["ethnic_category"],
    "measure_id": DOMAINS["ascof_measure"],
    "intervention": DOMAINS["personalised_care_intervention"],
}
KEYS = {
    "incidents/events": ["event_id"],
    "hip_fracture_audit/episodes": ["episode_id"],
    "stroke_audit/admissions": ["record_id"],
    "joint_registry/procedures": ["procedure_id"],
    "joint_registry/revisions": ["revision_id"],
    "joint_registry/proms": ["procedure_id"],
    "workforce/staff_months": ["staff_id", "reporting_month"],
    "workforce/vacancies": ["trust_code", "reporting_month", "staff_group"],
    "bed_availability/occupancy": ["trust_code", "reporting_month", "ward_type"],
    "patient_experience/friends_and_family": ["trust_code", "reporting_month", "setting"],
    "patient_experience/complaints": ["trust_code", "quarter_start", "subject_area"],
    "referral_to_treatment/pathways": [
        "trust_code",
        "reporting_month",
        "treatment_function_code",
        "pathway_type",
    ],
    "maternity/births": ["birth_id"],
    "adult_social_care/discharge_delays": ["la_code", "reporting_month"],
    "adult_social_care/outcomes": ["la_code", "financial_year_start", "measure_id"],
    "personalised_care/interventions": ["trust_code", "reporting_month", "intervention"],
}
# Column holding the date that decides the file month.
MONTH_COLUMN = {
    "incidents/events": "reported_date",
    "hip_fracture_audit/episodes": "admission_at",
    "stroke_audit/admissions": "arrival_at",
    "joint_registry/procedures": "procedure_date",
    "joint_registry/revisions": "revision_date",
    "joint_registry/proms": "post_op_date",
    "workforce/staff_months": "reporting_month",
    "workforce/vacancies": "reporting_month",
    "bed_availability/occupancy": "reporting_month",
    "patient_experience/friends_and_family": "reporting_month",
    "patient_experience/complaints": "quarter_start",  # a quarter's file is named after its first month
    "referral_to_treatment/pathways": "reporting_month",
    "maternity/births": "delivery_date",
    "adult_social_care/discharge_delays": "reporting_month",
    "personalised_care/interventions": "reporting_month",
}
# Columns that may be empty (LFPSE allows unknown patients; no surgery, death, stroke unit or leaving;
# no perineal trauma at a caesarean birth).
OPTIONAL = {
    "surgery_at",
    "death_date",
    "stroke_unit_arrival_at",
    "leaving_date",
    "post_op_satisfaction",
    "eligible",  # the FFT counts eligible patients for inpatients and A&E only
    "baby_death_date",
    "perineal_trauma",
}
OPTIONAL_IN = {
    "incidents/events": {"nhs_number"},
    "referral_to_treatment/pathways": {"unknown_clock_start_pathways"},
}
RANGES = {
    "hip_fracture_audit/episodes": {"age": (60, 105), "imd_quintile": (1, 5), "asa_grade": (1, 5)},
    "stroke_audit/admissions": {"age": (18, 105), "imd_quintile": (1, 5), "nihss_on_arrival": (0, 42)},
    "joint_registry/procedures": {"age": (40, 100), "imd_quintile": (1, 5), "asa_grade": (1, 5)},
    "joint_registry/proms": {"pre_op_score": (0, 48), "post_op_score": (0, 48)},
    "workforce/staff_months": {
        "fte": (0.0, 1.5),
        "sickness_fte_days": (0.0, 1e9),
        "available_fte_days": (0.0, 1e9),
    },
    "workforce/vacancies": {
        "establishment_fte": (0.0, 1e9),
        "vacancy_fte": (0.0, 1e9),
        "bank_fte": (0.0, 1e9),
        "agency_fte": (0.0, 1e9),
    },
    "bed_availability/occupancy": {"available_bed_days": (0, 1e9), "occupied_bed_days": (0, 1e9)},
    "patient_experience/friends_and_family": {
        column: (0, 1e9) for column in ("eligible", "responses", *FFT_ANSWERS)
    },
    "patient_experience/complaints": {
        column: (0, 1e9) for column in ("complaints_received", "complaints_resolved", *COMPLAINT_OUTCOMES)
    },
    "referral_to_treatment/pathways": {
        column: (0, 1e9) for column in (*BAND_COLUMNS, "total_pathways", "unknown_clock_start_pathways")
    },
    "maternity/births": {
        "birth_order": (1, 6),
        "mother_age": (10, 65),
        "imd_quintile": (1, 5),
        "gestation_weeks": (20, 45),
        "gestation_days": (0, 6),
        "birthweight_g": (200, 7000),
        "blood_loss_ml": (0, 20000),
    },
    "adult_social_care/discharge_delays": {
        "patients_discharged": (0, 1e9),
        "discharged_on_ready_date": (0, 1e9),
        "delay_days": (0, 1e9),
        "delay_days_social_care": (0, 1e9),
    },
    "adult_social_care/outcomes": {"numerator": (0, 1e9), "denominator": (0, 1e9)},
    "personalised_care/interventions": {"people_eligible": (0, 1e9), "people_with_intervention": (0, 1e9)},
}
DATES = {
    "incidents/events": ["event_date", "reported_date"],
    "hip_fracture_audit/episodes": ["admission_at", "surgery_at", "death_date"],
    "stroke_audit/admissions": ["arrival_at", "stroke_unit_arrival_at"],
    "joint_registry/procedures": ["procedure_date"],
    "joint_registry/revisions": ["revision_date"],
    "joint_registry/proms": ["pre_op_date", "post_op_date"],
    "workforce/staff_months": ["reporting_month", "start_date", "leaving_date"],
    "workforce/vacancies": ["reporting_month"],
    "bed_availability/occupancy": ["reporting_month"],
    "patient_experience/friends_and_family": ["reporting_month"],
    "patient_experience/complaints": ["quarter_start"],
    "referral_to_treatment/pathways": ["reporting_month"],
    "maternity/births": ["delivery_date", "baby_death_date"],
    "adult_social_care/discharge_delays": ["reporting_month"],
    "adult_social_care/outcomes": ["financial_year_start"],
    "personalised_care/interventions": ["reporting_month"],
}
# (later column, earlier column): the later one must not precede the earlier one.
ORDER = {
    "incidents/events": [("event_date", "reported_date", "reversed")],
    "hip_fracture_audit/episodes": [("surgery_at", "admission_at", ""), ("death_date", "admission_at", "")],
    "stroke_audit/admissions": [("stroke_unit_arrival_at", "arrival_at", "")],
    "joint_registry/proms": [("post_op_date", "pre_op_date", "")],
    "joint_registry/revisions": [("revision_date", "primary_procedure_date", "")],
    "maternity/births": [("baby_death_date", "delivery_date", "")],
}
ALL_KINDS = {
    "invalid_nhs_number",
    "malformed_nhs_number",
    "unknown_trust_code",
    "future_date",
    "date_order",
    "out_of_range",
    "not_a_number",
    "bad_enum",
    "missing_required",
    "duplicate_key",
    "unknown_la_code",
}


def _generate(path: Path, **kwargs: object) -> tuple[Path, dict]:
    manifest = generate_sources(path, **kwargs)
    return path, manifest


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A small full-span extract, shared by the structural tests."""
    return _generate(tmp_path_factory.mktemp("small"), scale=0.004, seed=7)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The default 1% sample: planted truths must be detectable at this size."""
    return _generate(tmp_path_factory.mktemp("sample"), scale=0.01, seed=42)


def read_table(out: Path, table: str) -> pl.DataFrame:
    """All files of a table as text, with the relative file name and 1-based row number."""
    frames = []
    for path in sorted(out.glob(f"{table}*.csv")):
        frame = pl.read_csv(path, infer_schema=False)
        version = next(v for v, columns in VERSION_COLUMNS[table].items() if columns == frame.columns)
        frames.append(
            frame.with_columns(
                pl.lit(path.relative_to(out).as_posix()).alias("_file"),
                pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row"),
                pl.lit(version).alias("_version"),
            )
        )
    return pl.concat(frames, how="diagonal")


def without_bad_rows(frame: pl.DataFrame, manifest: dict) -> pl.DataFrame:
    bad = pl.DataFrame(manifest["bad_rows"]).select(
        pl.col("file").alias("_file"), pl.col("row").cast(pl.Int64).alias("_row")
    )
    return frame.join(bad, on=["_file", "_row"], how="anti")


def _mod11_valid(column: str) -> pl.Expr:
    digits = [pl.col(column).str.slice(i, 1).cast(pl.Int64, strict=False) for i in range(10)]
    total = sum(d * (10 - i) for i, d in enumerate(digits[:9]))
    return ((11 - total % 11) % 11) == digits[9]


def _parse(column: str) -> pl.Expr:
    text = pl.col(column)
    return pl.coalesce(
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False),
        text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
    )


def defect_checks(
    table: str, trust_codes: list[str], la_codes: list[str] | None = None
) -> list[tuple[str, str, pl.Expr]]:
    """(kind, column, expression true where the row has that defect) for one table, from the spec."""
    checks: list[tuple[str, str, pl.Expr]] = []
    columns = SPEC_COLUMNS[table]
    for nhs in [c for c in columns if c.endswith("nhs_number")]:
        well_formed = pl.col(nhs).str.contains(r"^\d{10}$")
        checks.append(("malformed_nhs_number", nhs, pl.col(nhs).is_not_null() & ~well_formed))
        checks.append(("invalid_nhs_number", nhs, well_formed & ~_mod11_valid(nhs)))
    if "trust_code" in columns:
        checks.append(("unknown_trust_code", "trust_code", ~pl.col("trust_code").is_in(trust_codes)))
    if "la_code" in columns:
        checks.append(("unknown_la_code", "la_code", ~pl.col("la_code").is_in(la_codes or [])))
    for column in columns:
        delivered = [v for v, version_columns in VERSION_COLUMNS[table].items() if column in version_columns]
        if column not in OPTIONAL | OPTIONAL_IN.get(table, set()):
            in_file = pl.col("_version").is_in(delivered)
            checks.append(("missing_required", column, pl.col(column).is_null() & in_file))
        if column in ENUMS:
            checks.append(
                ("bad_enum", column, pl.col(column).is_not_null() & ~pl.col(column).is_in(ENUMS[column]))
            )
    for column, (low, high) in RANGES.get(table, {}).items():
        number = pl.col(column).cast(pl.Float64, strict=False)
        checks.append(("not_a_number", column, pl.col(column).is_not_null() & number.is_null()))
        checks.append(("out_of_range", column, (number < low) | (number > high)))
    for column in DATES.get(table, []):
        checks.append(("future_date", column, _parse(column) > pl.lit(FUTURE_AFTER).cast(pl.Datetime("us"))))
    for later, earlier, how in ORDER.get(table, []):
        if how == "reversed":  # the first column must not be after the second
            checks.append(("date_order", later, _parse(later) > _parse(earlier)))
        elif later == "death_date":
            checks.append(("date_order", later, _parse(later) < _parse(earlier).dt.truncate("1d")))
        else:
            checks.append(("date_order", later, _parse(later) < _parse(earlier)))
    key = KEYS[table]
    checks.append(("duplicate_key", key[0], pl.int_range(pl.len()).over(["_file", *key]) > 0))
    return checks


def detected_defects(
    out: Path, table: str, trust_codes: list[str], la_codes: list[str] | None = None
) -> set[tuple[str, int, str, str]]:
    frame = read_table(out, table)
    checks = defect_checks(table, trust_codes, la_codes)
    flags = frame.select(
        "_file", "_row", *[expr.fill_null(False).alias(str(i)) for i, (_, _, expr) in enumerate(checks)]
    )
    found = set()
    for i, (kind, column, _) in enumerate(checks):
        hits = flags.filter(pl.col(str(i)))
        found.update((f, r, kind, column) for f, r in zip(hits["_file"], hits["_row"], strict=True))
    return found


def trust_codes_of(out: Path, level: str = "trust") -> list[str]:
    orgs = pl.read_csv(out / "organisations/organisations.csv", infer_schema=False)
    return orgs.filter(pl.col("org_level") == level)["org_code"].to_list()


# --- NHS numbers ---------------------------------------------------------------------------------


def test_nhs_number_check_digit_matches_known_example() -> None:
    assert check_digits(np.array([943476591]))[0] == 9
    assert is_valid(pl.Series(["9434765919", "9434765918", "943476591", "94347X5919", None])).to_list() == [
        True,
        False,
        False,
        False,
        None,
    ]


def test_generated_nhs_numbers_are_valid_test_range_numbers() -> None:
    numbers = valid_numbers(np.random.default_rng(0), 50_000)
    text = pl.Series(numbers).cast(pl.String)
    assert text.str.starts_with("999").all()
    assert text.str.len_chars().eq(10).all()
    assert is_valid(text).all()


# --- determinism ---------------------------------------------------------------------------------


def _file_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    args = {"scale": 0.002, "months": 3, "seed": 11}
    first, _ = _generate(tmp_path / "a", **args)
    second, _ = _generate(tmp_path / "b", **args)
    other, _ = _generate(tmp_path / "c", **{**args, "seed": 12})
    assert _file_bytes(first) == _file_bytes(second)
    different = _file_bytes(other)
    same = _file_bytes(first)
    assert same.keys() == different.keys()
    assert all(same[name] != different[name] for name in same if name.startswith(("incidents", "workforce")))


def test_rerun_replaces_previous_output_only_in_source_folders(tmp_path: Path) -> None:
    _generate(tmp_path, scale=0.002, months=3, seed=1)
    (tmp_path / "incidents" / "events_1999-01.csv").write_text("stale\n")
    (tmp_path / "unrelated").mkdir()
    (tmp_path / "unrelated" / "keep.txt").write_text("mine\n")
    _generate(tmp_path, scale=0.002, months=2, seed=1)
    assert not (tmp_path / "incidents" / "events_1999-01.csv").exists()
    assert len(list((tmp_path / "incidents").glob("*.csv"))) == 2
    assert (tmp_path / "unrelated" / "keep.txt").read_text() == "mine\n"


# --- layout and manifest -------------------------------------------------------------------------


def file_months(table: str, span: list[str] = SPAN) -> list[str]:
    """The months naming a table's files: every month, or for a quarterly or annual table
    (`months_per_file`) the first month of each quarter or financial year the span holds whole."""
    per_file = next(t.months_per_file for t in SOURCE_TABLES if f"{t.source}/{t.table}" == table)
    return [
        month
        for i, month in enumerate(span)
        if (int(month[5:]) - 4) % per_file == 0 and i + per_file <= len(span)
    ]


def test_folders_files_and_columns_match_the_spec(small: tuple[Path, dict]) -> None:
    out, _ = small
    expected = {"organisations/organisations.csv", "_manifest.json"}
    for table in SPEC_COLUMNS:
        if table != "organisations/organisations":
            expected.update(f"{table}_{month}.csv" for month in file_months(table))
    present = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert present == expected
    for name in sorted(expected - {"_manifest.json"}):
        table = name[:-4] if name.startswith("organisations") else name.rsplit("_", 1)[0]
        header = (out / name).read_text(encoding="utf-8").splitlines()[0].split(",")
        month = None if name.startswith("organisations") else name[-11:-4]
        assert header == VERSION_COLUMNS[table][expected_version(table, month)], name


def test_manifest_row_counts_match_the_files(small: tuple[Path, dict]) -> None:
    out, manifest = small
    on_disk = json.loads((out / "_manifest.json").read_text())
    assert on_disk == manifest
    assert set(manifest["files"]) == {p.relative_to(out).as_posix() for p in out.rglob("*.csv")}
    for name, rows in manifest["files"].items():
        assert pl.read_csv(out / name, infer_schema=False).height == rows, name
    assert {
        "scale",
        "seed",
        "months",
        "end",
        "generated_by",
        "files",
        "worse_trusts",
        "deteriorating",
        "merger",
        "bad_rows",
    } <= manifest.keys()
    assert manifest["generated_by"] == "nqs generate"


def test_records_sit_in_the_file_of_their_month(small: tuple[Path, dict]) -> None:
    out, manifest = small
    for table, column in MONTH_COLUMN.items():
        frame = without_bad_rows(read_table(out, table), manifest)
        month = pl.col(column).str.slice(0, 7)
        wrong = frame.filter(month != pl.col("_file").str.extract(r"_(\d{4}-\d{2})\.csv$"))
        assert wrong.is_empty(), (table, wrong.head())


def test_volumes_follow_the_national_shape(small: tuple[Path, dict]) -> None:
    _, manifest = small
    per_year: dict[str, float] = {}
    for name, rows in manifest["files"].items():
        table = name.rsplit("_", 1)[0]
        per_year[table] = per_year.get(table, 0) + rows / (MONTHS / 12) / manifest["scale"]
    assert 2.2e6 < per_year["incidents/events"] < 2.8e6
    assert 60e3 < per_year["hip_fracture_audit/episodes"] < 85e3
    assert 75e3 < per_year["stroke_audit/admissions"] < 105e3
    assert 170e3 < per_year["joint_registry/procedures"] < 230e3
    assert 15e6 < per_year["workforce/staff_months"] < 20e6
    assert 540e3 < per_year["maternity/births"] < 660e3


def test_beds_follow_the_national_shape(small: tuple[Path, dict]) -> None:
    """About 128,000 overnight beds nationally, mostly general and acute, around 90% occupied."""
    out, manifest = small
    beds = without_bad_rows(read_table(out, "bed_availability/occupancy"), manifest).with_columns(
        pl.col("available_bed_days").cast(pl.Float64), pl.col("occupied_bed_days").cast(pl.Float64)
    )
    assert (beds["occupied_bed_days"] <= beds["available_bed_days"]).all()
    span_days = (LAST_DAY - date.fromisoformat(f"{SPAN[0]}-01")).days + 1
    average_beds = beds["available_bed_days"].sum() / span_days / manifest["scale"]
    assert 110e3 < average_beds < 145e3
    by_ward = dict(beds.group_by("ward_type").agg(pl.col("available_bed_days").sum()).iter_rows())
    assert by_ward["general_acute"] > 0.7 * sum(by_ward.values())
    occupancy = beds["occupied_bed_days"].sum() / beds["available_bed_days"].sum()
    assert 0.85 < occupancy < 0.95
    orgs = pl.read_csv(out / "organisations/organisations.csv", infer_schema=False)
    ambulance = orgs.filter(pl.col("org_type") == "ambulance")["org_code"]
    assert not beds["trust_code"].is_in(ambulance.implode()).any()


def test_patient_experience_follows_the_national_shape(small: tuple[Path, dict]) -> None:
    """About 94% of inpatients and 80% of A&E patients answer good or very good; about 230,000
    written complaints a year, a little over half of those resolved upheld in full or in part; one
    complaints file per quarter, holding only that quarter."""
    out, manifest = small
    counts = ["eligible", "responses", "very_good", "good"]
    fft = without_bad_rows(read_table(out, "patient_experience/friends_and_family"), manifest).with_columns(
        pl.col(counts).cast(pl.Float64)
    )
    by_setting = {
        row["setting"]: row
        for row in fft.group_by("setting")
        .agg(pl.col(counts).sum(), pl.col("eligible").is_not_null().any().alias("counts_eligible"))
        .iter_rows(named=True)
    }
    positive = {s: (r["very_good"] + r["good"]) / r["responses"] for s, r in by_setting.items()}
    assert 0.92 < positive["inpatient"] < 0.96
    assert 0.74 < positive["emergency_department"] < 0.84
    assert positive["emergency_department"] < min(
        v for s, v in positive.items() if s != "emergency_department"
    )
    assert {s for s, r in by_setting.items() if r["counts_eligible"]} == {"inpatient", "emergency_department"}
    responses_per_year = sum(r["responses"] for r in by_setting.values()) / (MONTHS / 12) / manifest["scale"]
    assert 12e6 < responses_per_year < 20e6

    complaints = without_bad_rows(read_table(out, "patient_experience/complaints"), manifest)
    outcomes = ["complaints_received", "complaints_resolved", "upheld", "partially_upheld"]
    complaints = complaints.with_columns(pl.col(outcomes).cast(pl.Float64))
    per_year = complaints["complaints_received"].sum() / (MONTHS / 12) / manifest["scale"]
    assert 190e3 < per_year < 270e3
    upheld = (complaints["upheld"].sum() + complaints["partially_upheld"].sum()) / complaints[
        "complaints_resolved"
    ].sum()
    assert 0.45 < upheld < 0.7
    files = set(complaints["_file"])
    assert files == {
        f"patient_experience/complaints_{m}.csv" for m in file_months("patient_experience/complaints")
    }
    assert len(files) == MONTHS // 3


def test_a_quarter_is_written_only_when_the_span_holds_all_of_it(tmp_path: Path) -> None:
    _, manifest = _generate(tmp_path, scale=0.002, months=5, end="2025-08", seed=3)
    quarterly = sorted(name for name in manifest["files"] if name.startswith("patient_experience/complaints"))
    assert quarterly == ["patient_experience/complaints_2025-04.csv"]  # not 2025-07: August ends the span


def _rtt_pathways(out: Path, manifest: dict) -> pl.DataFrame:
    """The RTT rows without the planted bad ones, counts as numbers."""
    counts = [*BAND_COLUMNS, "total_pathways", "unknown_clock_start_pathways"]
    return without_bad_rows(read_table(out, "referral_to_treatment/pathways"), manifest).with_columns(
        pl.col(counts).cast(pl.Int64)
    )


def test_waiting_lists_follow_the_national_shape(small: tuple[Path, dict]) -> None:
    """About 7.5 million incomplete pathways, near 60% within 18 weeks, 1 to 3% beyond 52 (2024-25)."""
    out, manifest = small
    rtt = _rtt_pathways(out, manifest)
    assert (rtt["total_pathways"] == rtt.select(pl.sum_horizontal(BAND_COLUMNS)).to_series()).all()
    incomplete = rtt.filter(pl.col("pathway_type") == "incomplete")
    completed = rtt.filter(pl.col("pathway_type") != "incomplete")
    assert incomplete["unknown_clock_start_pathways"].null_count() == 0
    assert completed["unknown_clock_start_pathways"].null_count() == completed.height
    months = incomplete["reporting_month"].n_unique()
    assert 6.8e6 < incomplete["total_pathways"].sum() / months / manifest["scale"] < 8.2e6
    bands = incomplete.select(BAND_COLUMNS).sum().row(0)
    assert 0.55 < sum(bands[:18]) / sum(bands) < 0.65
    assert 0.01 < sum(bands[52:]) / sum(bands) < 0.03
    assert set(rtt["treatment_function_code"]) <= set(DOMAINS["treatment_function"])
    orgs = pl.read_csv(out / "organisations/organisations.csv", infer_schema=False)
    acute = orgs.filter(pl.col("org_type") == "acute")["org_code"]
    assert rtt["trust_code"].is_in(acute.implode()).mean() > 0.9


# --- identifiers, organisations, merger ----------------------------------------------------------


def test_nhs_numbers_are_valid_except_planted_ones(small: tuple[Path, dict]) -> None:
    out, manifest = small
    planted = {
        (b["file"], b["row"])
        for b in manifest["bad_rows"]
        if b["kind"] in ("invalid_nhs_number", "malformed_nhs_number")
    }
    assert planted
    for table, column in (
        ("incidents/events", "nhs_number"),
        ("hip_fracture_audit/episodes", "nhs_number"),
        ("stroke_audit/admissions", "nhs_number"),
        ("joint_registry/procedures", "nhs_number"),
        ("maternity/births", "mother_nhs_number"),
    ):
        frame = read_table(out, table).filter(pl.col(column).is_not_null())
        invalid = frame.filter(~is_valid(frame[column]))
        assert {(f, r) for f, r in zip(invalid["_file"], invalid["_row"], strict=True)} <= planted
        valid = frame.filter(is_valid(frame[column]))
        assert valid[column].str.starts_with("999").all()
    events = read_table(out, "incidents/events")
    assert 0.03 < events["nhs_number"].null_count() / events.height < 0.07


def test_organisation_hierarchy(small: tuple[Path, dict]) -> None:
    out, _ = small
    orgs = pl.read_csv(out / "organisations/organisations.csv", infer_schema=False)
    counts = dict(orgs.group_by("org_level").len().iter_rows())
    assert counts["region"] == 7 and counts["icb"] == 42 and 200 <= counts["trust"] <= 220
    types = dict(orgs.filter(pl.col("org_level") == "trust").group_by("org_type").len().iter_rows())
    assert set(types) == {"acute", "mental_health", "community", "ambulance", "specialist"}
    assert types["acute"] > types["mental_health"] > types["community"]
    code = {
        "region": r"^Y\d{2}$",
        "icb": r"^Q[0-9A-Z]{2}$",
        "trust": r"^R[0-9A-Z]{2}$",
        "site": r"^R[0-9A-Z]{4}$",
    }
    for level, pattern in code.items():
        assert orgs.filter(pl.col("org_level") == level)["org_code"].str.contains(pattern).all(), level
    assert orgs["org_code"].is_unique().all()
    parents = dict(zip(orgs["org_code"], orgs["org_level"], strict=True))
    expected_parent = {"icb": "region", "trust": "icb", "site": "trust", "local_authority": "icb"}
    for row in orgs.filter(pl.col("org_level") != "region").iter_rows(named=True):
        assert parents[row["parent_code"]] == expected_parent[row["org_level"]]
    sites = orgs.filter(pl.col("org_level") == "site")
    assert (sites["org_code"].str.slice(0, 3) == sites["parent_code"]).all()
    open_sites = sites.filter(pl.col("close_date").is_null()).group_by("parent_code").len()
    assert open_sites["len"].max() <= 4


def test_merger_codes_are_used_correctly(small: tuple[Path, dict]) -> None:
    out, manifest = small
    merger = manifest["merger"]
    closed, successor, close = merger["trust_code"], merger["successor_code"], merger["close_date"]
    assert SPAN[0] < close[:7] < SPAN[-1]
    orgs = pl.read_csv(out / "organisations/organisations.csv", infer_schema=False)
    row = orgs.filter(pl.col("org_code") == closed).row(0, named=True)
    assert (row["close_date"], row["successor_code"]) == (close, successor)
    assert orgs.filter(pl.col("org_code") == successor)["close_date"].is_null().all()
    old_sites = orgs.filter(pl.col("parent_code") == closed)
    assert (old_sites["close_date"] == close).all() and old_sites["successor_code"].is_not_null().all()
    new_sites = orgs.filter(pl.col("org_code").is_in(old_sites["successor_code"].implode()))
    assert (new_sites["parent_code"] == successor).all()
    next_day = (date.fromisoformat(close) + timedelta(days=1)).isoformat()
    assert (new_sites["open_date"] == next_day).all()

    for table, column in MONTH_COLUMN.items():
        if "trust_code" not in SPEC_COLUMNS[table]:
            continue
        frame = without_bad_rows(read_table(out, table), manifest)
        day = pl.col(column).str.slice(0, 10)
        after = frame.filter(day > close)
        before = frame.filter(day <= close)
        assert not after.filter(pl.col("trust_code") == closed).height, table
        if "site_code" in frame.columns:
            assert not after["site_code"].is_in(old_sites["org_code"].implode()).any(), table
            assert (frame["site_code"].str.slice(0, 3) == frame["trust_code"]).all(), table
            assert frame["site_code"].is_in(orgs["org_code"].implode()).all(), table
        if table in ("incidents/events", "workforce/staff_months", "workforce/vacancies"):
            assert before.filter(pl.col("trust_code") == closed).height > 0, table

    # The successor takes over the closed trust's staff: its headcount after is both trusts' before.
    staff = without_bad_rows(read_table(out, "workforce/staff_months"), manifest)
    per_month = staff.group_by("reporting_month", "trust_code").len()
    close_month = f"{close[:7]}-01"
    both_before = per_month.filter(
        (pl.col("reporting_month") == close_month) & pl.col("trust_code").is_in([closed, successor])
    )["len"].sum()
    first_after = per_month.filter(pl.col("reporting_month") > close_month)["reporting_month"].min()
    successor_after = per_month.filter(
        (pl.col("reporting_month") == first_after) & (pl.col("trust_code") == successor)
    )["len"].sum()
    assert abs(successor_after / both_before - 1) < 0.05


def test_staff_keep_their_ids_and_leave_once(small: tuple[Path, dict]) -> None:
    out, manifest = small
    staff = without_bad_rows(read_table(out, "workforce/staff_months"), manifest)
    leavers = staff.filter(pl.col("leaving_date").is_not_null())
    assert leavers["staff_id"].is_unique().all()
    last_month = staff.group_by("staff_id").agg(pl.col("reporting_month").max())
    joined = leavers.join(last_month, on="staff_id", suffix="_last")
    assert (joined["reporting_month"] == joined["reporting_month_last"]).all()
    assert (leavers["leaving_date"].str.slice(0, 7) == leavers["reporting_month"].str.slice(0, 7)).all()
    assert staff["staff_id"].str.contains(r"^E\d{8}$").all()
    fte = staff["fte"].cast(pl.Float64)
    days = staff["reporting_month"].str.to_date().dt.month_end().dt.day()
    assert ((staff["available_fte_days"].cast(pl.Float64) - fte * days).abs() < 0.01).all()


def test_revisions_reference_earlier_procedures(small: tuple[Path, dict]) -> None:
    out, manifest = small
    procedures = read_table(out, "joint_registry/procedures")
    revisions = without_bad_rows(read_table(out, "joint_registry/revisions"), manifest)
    proms = without_bad_rows(read_table(out, "joint_registry/proms"), manifest)
    first_file = procedures.group_by("procedure_id").agg(pl.col("_file").min().alias("primary_file"))
    joined = revisions.join(first_file, left_on="primary_procedure_id", right_on="procedure_id", how="left")
    assert joined["primary_file"].is_not_null().all()
    month = pl.col("_file").str.extract(r"_(\d{4}-\d{2})")
    assert joined.filter(month < pl.col("primary_file").str.extract(r"_(\d{4}-\d{2})")).is_empty()
    assert proms["procedure_id"].is_in(procedures["procedure_id"].implode()).all()
    assert proms["_file"].min() > f"joint_registry/proms_{SPAN[4]}"


# --- bad rows ------------------------------------------------------------------------------------


def test_every_kind_is_planted_and_recorded_completely(small: tuple[Path, dict]) -> None:
    out, manifest = small
    assert {b["kind"] for b in manifest["bad_rows"]} == ALL_KINDS
    keys = [(b["file"], b["row"]) for b in manifest["bad_rows"]]
    assert len(keys) == len(set(keys)), "a row carries more than one planted defect"
    for b in manifest["bad_rows"]:
        assert b["file"].startswith(f"{b['source']}/{b['table']}_")
        assert 1 <= b["row"] <= manifest["files"][b["file"]]


def test_bad_rows_are_exactly_the_defective_rows(small: tuple[Path, dict]) -> None:
    """Every planted row fails exactly its one recorded check; every other row passes all checks."""
    out, manifest = small
    trusts, councils = trust_codes_of(out), trust_codes_of(out, "local_authority")
    recorded = {(b["file"], b["row"], b["kind"], b["column"]) for b in manifest["bad_rows"]}
    found: set[tuple[str, int, str, str]] = set()
    for table in SPEC_COLUMNS:
        if table != "organisations/organisations":
            found |= detected_defects(out, table, trusts, councils)
    assert recorded - found == set(), "recorded bad rows that are not defective"
    assert found - recorded == set(), "defective rows not recorded (or with a second defect)"


def test_bad_row_share_is_respected(tmp_path: Path) -> None:
    _, none = _generate(tmp_path / "none", scale=0.004, months=3, bad_row_share=0.0)
    assert none["bad_rows"] == []
    _, many = _generate(tmp_path / "many", scale=0.004, months=3, bad_row_share=0.01)
    staff_rows = sum(v for k, v in many["files"].items() if k.startswith("workforce/staff_months"))
    staff_bad = sum(b["table"] == "staff_months" for b in many["bad_rows"])
    assert 0.008 < staff_bad / staff_rows < 0.012


# --- planted truths ------------------------------------------------------------------------------


def _metric_frames(out: Path, manifest: dict) -> dict[str, tuple[pl.DataFrame, str, str]]:
    """metric id -> (per-record frame with trust_code, month and a 0/1 numerator column, kind)."""
    month = pl.col("_file").str.extract(r"_(\d{4}-\d{2})\.csv$").alias("month")
    events = without_bad_rows(read_table(out, "incidents/events"), manifest).with_columns(
        month,
        pl.coalesce("degree_of_harm", "physical_harm")  # renamed in incident contract v2
        .is_in(["moderate", "severe", "fatal"])
        .cast(pl.Float64)
        .alias("num"),
        pl.lit(1.0).alias("den"),
    )
    hips = without_bad_rows(read_table(out, "hip_fracture_audit/episodes"), manifest).with_columns(
        month,
        _parse("admission_at").alias("adm"),
        _parse("surgery_at").alias("op"),
        _parse("death_date").alias("dd"),
    )
    hip36 = hips.with_columns(
        ((pl.col("op") - pl.col("adm")).dt.total_minutes() < 36 * 60)
        .fill_null(False)
        .cast(pl.Float64)
        .alias("num"),
        pl.lit(1.0).alias("den"),
    )
    hip30 = hips.with_columns(
        ((pl.col("dd") - pl.col("adm").dt.truncate("1d")).dt.total_days() <= 30)
        .fill_null(False)
        .cast(pl.Float64)
        .alias("num"),
        pl.lit(1.0).alias("den"),
    )
    strokes = without_bad_rows(read_table(out, "stroke_audit/admissions"), manifest).with_columns(
        month,
        ((_parse("stroke_unit_arrival_at") - _parse("arrival_at")).dt.total_minutes() < 240)
        .fill_null(False)
        .cast(pl.Float64)
        .alias("num"),
        pl.lit(1.0).alias("den"),
    )
    procedures = without_bad_rows(read_table(out, "joint_registry/procedures"), manifest)
    revisions = without_bad_rows(read_table(out, "joint_registry/revisions"), manifest)
    revised = revisions.join(
        procedures.select("procedure_id", "procedure_date"),
        left_on="primary_procedure_id",
        right_on="procedure_id",
    ).filter((_parse("revision_date") - _parse("procedure_date")).dt.total_days() <= 365)
    njr = procedures.with_columns(
        month,
        pl.col("procedure_id").is_in(revised["primary_procedure_id"].implode()).cast(pl.Float64).alias("num"),
        pl.lit(1.0).alias("den"),
    )
    staff = without_bad_rows(read_table(out, "workforce/staff_months"), manifest).with_columns(month)
    sickness = staff.with_columns(
        pl.col("sickness_fte_days").cast(pl.Float64).alias("num"),
        pl.col("available_fte_days").cast(pl.Float64).alias("den"),
    )
    leavers = staff.with_columns(
        pl.col("leaving_date").is_not_null().cast(pl.Float64).alias("num"), pl.lit(1.0).alias("den")
    )
    vacancies = without_bad_rows(read_table(out, "workforce/vacancies"), manifest).with_columns(
        month,
        pl.col("vacancy_fte").cast(pl.Float64).alias("num"),
        pl.col("establishment_fte").cast(pl.Float64).alias("den"),
    )
    # Incidents per occupied bed day: events count 1 each, bed rows their occupied bed days; only
    # trusts with beds, as the metric is defined.
    beds = without_bad_rows(read_table(out, "bed_availability/occupancy"), manifest).with_columns(
        month, pl.lit(0.0).alias("num"), pl.col("occupied_bed_days").cast(pl.Float64).alias("den")
    )
    columns = ["trust_code", "month", "num", "den"]
    reporting = pl.concat(
        [
            events.filter(pl.col("trust_code").is_in(beds["trust_code"].implode()))
            .with_columns(pl.lit(1.0).alias("num"), pl.lit(0.0).alias("den"))
            .select(columns),
            beds.select(columns),
        ]
    )
    agency = vacancies.with_columns(pl.col("agency_fte").cast(pl.Float64).alias("num"))
    # Report delay and Oxford gain: their mean, which the planted effects move as they move the median.
    delays = events.with_columns(
        (_parse("reported_date") - _parse("event_date")).dt.total_days().cast(pl.Float64).alias("num")
    )
    proms = without_bad_rows(read_table(out, "joint_registry/proms"), manifest).join(
        procedures.select("procedure_id", "trust_code"), on="procedure_id"
    )
    gains = proms.with_columns(
        month,
        (pl.col("post_op_score").cast(pl.Float64) - pl.col("pre_op_score").cast(pl.Float64)).alias("num"),
        pl.lit(1.0).alias("den"),
    )
    satisfaction = gains.filter(pl.col("post_op_satisfaction").is_not_null()).with_columns(
        pl.col("post_op_satisfaction").is_in(["excellent", "very_good", "good"]).cast(pl.Float64).alias("num")
    )
    fft = without_bad_rows(read_table(out, "patient_experience/friends_and_family"), manifest)
    fft_ae = fft.filter(pl.col("setting") == "emergency_department").with_columns(
        month,
        (pl.col("very_good").cast(pl.Float64) + pl.col("good").cast(pl.Float64)).alias("num"),
        pl.col("responses").cast(pl.Float64).alias("den"),
    )
    stroke_minutes = strokes.filter(pl.col("stroke_unit_arrival_at").is_not_null()).with_columns(
        (_parse("stroke_unit_arrival_at") - _parse("arrival_at"))
        .dt.total_minutes()
        .cast(pl.Float64)
        .alias("num")
    )
    # Waiting times of incomplete pathways: the share within 18 weeks, beyond 52, and the mean wait at
    # band midpoints, which the planted longer waits move as they move the median.
    incomplete = _rtt_pathways(out, manifest).filter(pl.col("pathway_type") == "incomplete")
    waits = incomplete.with_columns(month, pl.col("total_pathways").cast(pl.Float64).alias("den"))
    within_18 = waits.with_columns(pl.sum_horizontal(BAND_COLUMNS[:18]).cast(pl.Float64).alias("num"))
    beyond_52 = waits.with_columns(pl.sum_horizontal(BAND_COLUMNS[52:]).cast(pl.Float64).alias("num"))
    weeks = waits.with_columns(
        pl.sum_horizontal(pl.col(c) * (i + 0.5) for i, c in enumerate(BAND_COLUMNS)).alias("num")
    )
    medication = events.filter(pl.col("event_category") == "medication")
    births = without_bad_rows(read_table(out, "maternity/births"), manifest).with_columns(month)
    deliveries = births.filter(pl.col("birth_order") == "1")  # the mother's measures, once per delivery
    vaginal = deliveries.filter(
        pl.col("delivery_mode").is_in(["spontaneous_vaginal", "instrumental"])
        & pl.col("perineal_trauma").is_not_null()
    )
    tears = vaginal.with_columns(
        pl.col("perineal_trauma").is_in(["third_degree", "fourth_degree"]).cast(pl.Float64).alias("num"),
        pl.lit(1.0).alias("den"),
    )
    haemorrhages = deliveries.with_columns(
        (pl.col("blood_loss_ml").cast(pl.Float64) >= 1500).cast(pl.Float64).alias("num"),
        pl.lit(1.0).alias("den"),
    )
    plans = (
        without_bad_rows(read_table(out, "personalised_care/interventions"), manifest)
        .filter(pl.col("intervention") == "care_and_support_plan")
        .with_columns(
            month,
            pl.col("people_with_intervention").cast(pl.Float64).alias("num"),
            pl.col("people_eligible").cast(pl.Float64).alias("den"),
        )
    )
    return {
        "rtt_within_18_weeks": (within_18, "lower", "ratio"),
        "rtt_52_week_waiters_per_1000": (beyond_52, "higher", "ratio"),
        "rtt_median_weeks_waited": (weeks, "higher", "ratio"),
        "medication_incident_harm_share": (medication, "higher", "ratio"),
        "perineal_tear_3rd_4th_share": (tears, "higher", "binomial"),
        "pph_1500ml_share": (haemorrhages, "higher", "binomial"),
        "care_and_support_plan_coverage": (plans, "lower", "ratio"),
        "incident_moderate_harm_share": (events, "higher", "binomial"),
        "hip_surgery_within_36h": (hip36, "lower", "binomial"),
        "hip_30day_mortality": (hip30, "higher", "binomial"),
        "stroke_unit_within_4h": (strokes, "lower", "binomial"),
        "revision_within_1y": (njr, "higher", "binomial"),
        "staff_leaver_rate": (leavers, "higher", "binomial"),
        "sickness_absence_rate": (sickness, "higher", "ratio"),
        "vacancy_rate": (vacancies, "higher", "ratio"),
        "incident_reporting_rate": (reporting, "lower", "ratio"),
        "incident_report_days_median": (delays, "higher", "ratio"),
        "proms_oxford_gain_mean": (gains, "lower", "ratio"),
        "proms_satisfaction": (satisfaction, "lower", "binomial"),
        "stroke_unit_minutes_median": (stroke_minutes, "higher", "ratio"),
        "fft_ae_positive": (fft_ae, "lower", "binomial"),
        "agency_staffing_share": (agency, "higher", "ratio"),
    }


# Planted effects measured in a way that needs the warehouse (expected deaths from national case-mix
# rates; staff followed across a year and a merger): tests/test_metric_truths.py checks them there.
WAREHOUSE_ONLY = {"hip_30day_mortality_smr", "staff_stability_index"}


def test_worse_trusts_are_clearly_worse_by_pooled_rate(sample: tuple[Path, dict]) -> None:
    out, manifest = sample
    frames = _metric_frames(out, manifest)
    for metric in (
        "hip_surgery_within_36h",
        "stroke_unit_within_4h",
        "incident_moderate_harm_share",
        "sickness_absence_rate",
        "revision_within_1y",
    ):
        assert len(manifest["worse_trusts"][metric]) >= 1, metric
    assert set(manifest["worse_trusts"]) - set(frames) == WAREHOUSE_ONLY
    for metric, trusts in manifest["worse_trusts"].items():
        if metric in WAREHOUSE_ONLY:
            continue
        frame, worse_when, kind = frames[metric]
        national = frame["num"].sum() / frame["den"].sum()
        for trust in trusts:
            mine = frame.filter(pl.col("trust_code") == trust)
            rate = mine["num"].sum() / mine["den"].sum()
            sign = 1 if worse_when == "higher" else -1
            if kind == "binomial":
                # records count 1 each; an aggregate return's rows count their responses
                z = (rate - national) / np.sqrt(national * (1 - national) / mine["den"].sum())
                assert sign * z > 2.0, (metric, trust, rate, national, z)
            else:
                assert sign * (rate / national - 1) > 0.25, (metric, trust, rate, national)


def test_deteriorating_series_turn_worse_from_their_month(sample: tuple[Path, dict]) -> None:
    out, manifest = sample
    frames = _metric_frames(out, manifest)
    metrics = {d["metric_id"] for d in manifest["deteriorating"]}
    assert {"sickness_absence_rate", "hip_surgery_within_36h"} <= metrics
    for item in manifest["deteriorating"]:
        frame, worse_when, _ = frames[item["metric_id"]]
        mine = frame.filter(pl.col("trust_code") == item["trust_code"])
        before = mine.filter(pl.col("month") < item["from_month"])
        after = mine.filter(pl.col("month") >= item["from_month"])
        rate_before = before["num"].sum() / before["den"].sum()
        rate_after = after["num"].sum() / after["den"].sum()
        change = rate_after - rate_before if worse_when == "higher" else rate_before - rate_after
        assert change > 0.2 * rate_before, (item, rate_before, rate_after)


def test_planted_waits_and_medication_harm_are_funnel_outliers_at_national_scale() -> None:
    """At national volume (scale 1.0, 24 months), the planted long-waiting and medication-unsafe trusts
    are worse than expected beyond the 99.8% limits of the latest financial year's funnel, as the
    warehouse draws it (the catalogue's funnel type and overdispersion, its minimum denominator)."""
    import csv

    from nqs.generate.context import Context
    from nqs.generate.incidents import IncidentGenerator
    from nqs.generate.organisations import build_organisations
    from nqs.generate.periods import month_span
    from nqs.generate.referral_to_treatment import ReferralToTreatmentGenerator
    from nqs.generate.truths import plant_truths
    from nqs.generate.volumes import build_volumes
    from nqs.settings import SEEDS_DIR
    from nqs.stats.funnel import funnel

    span = month_span(END, MONTHS)
    orgs = build_organisations(42, span)
    volumes = build_volumes(42, orgs, 1.0)
    truths = plant_truths(orgs, volumes, span)
    ctx = Context(seed=42, scale=1.0, span=span, orgs=orgs, volumes=volumes, truths=truths)
    latest_year = span[-12:]  # April to March: the latest complete financial year
    waits, incidents = ReferralToTreatmentGenerator(ctx), IncidentGenerator(ctx)
    rtt = pl.concat([waits.month(m) for m in latest_year]).filter(pl.col("pathway_type") == "incomplete")
    events = pl.concat(
        [
            incidents.month(m)
            .filter(pl.col("event_category") == "medication")
            .select("trust_code", pl.coalesce(pl.col("^(degree_of|physical)_harm$")).alias("harm"))
            for m in latest_year
        ]
    )
    counts = {
        "rtt_within_18_weeks": rtt.select(
            "trust_code",
            pl.sum_horizontal(BAND_COLUMNS[:18]).alias("numerator"),
            pl.col("total_pathways").alias("denominator"),
        ),
        "rtt_52_week_waiters_per_1000": rtt.select(
            "trust_code",
            pl.sum_horizontal(BAND_COLUMNS[52:]).alias("numerator"),
            pl.col("total_pathways").alias("denominator"),
        ),
        "medication_incident_harm_share": events.select(
            "trust_code",
            pl.col("harm").is_in(["moderate", "severe", "fatal"]).cast(pl.Int64).alias("numerator"),
            pl.lit(1).alias("denominator"),
        ),
    }
    with (SEEDS_DIR / "metric_catalogue.csv").open(newline="") as handle:
        catalogue = {row["metric_id"]: row for row in csv.DictReader(handle)}
    planted = {
        metric: [orgs.trust_codes[t] for t in trusts]
        for metric, trusts in truths.worse.items()
        if metric in ("rtt_within_18_weeks", "medication_incident_harm_share")
    }
    planted["rtt_52_week_waiters_per_1000"] = planted["rtt_within_18_weeks"]
    for metric, rows in counts.items():
        definition = catalogue[metric]
        totals = rows.group_by("trust_code").agg(pl.col("numerator", "denominator").sum().cast(pl.Float64))
        result = funnel(
            totals.filter(pl.col("denominator") >= float(definition["min_denominator"])),
            numerator="numerator",
            denominator="denominator",
            group="trust_code",
            data_type=definition["funnel_type"],
            method=definition["overdispersion_method"],
        )
        worse = "alarm_low" if definition["improvement_direction"] == "increase" else "alarm_high"
        status = dict(result.select("group", "outlier_status").iter_rows())
        assert all(status[trust] == worse for trust in planted[metric]), (metric, planted[metric], status)


# --- maternity at national scale -----------------------------------------------------------------


@pytest.fixture(scope="module")
def national_births() -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """One national year of births (scale 1.0, the span's last 12 months: financial year 2025-26),
    drawn by the maternity generator alone, and the trusts planted worse on its metrics."""
    from nqs.generate.context import Context
    from nqs.generate.maternity import MaternityGenerator
    from nqs.generate.organisations import build_organisations
    from nqs.generate.periods import month_span
    from nqs.generate.truths import MATERNITY_METRICS, plant_truths
    from nqs.generate.volumes import build_volumes

    span = month_span(END, MONTHS)
    orgs = build_organisations(42, span)
    volumes = build_volumes(42, orgs, 1.0)
    truths = plant_truths(orgs, volumes, span)
    ctx = Context(seed=42, scale=1.0, span=span, orgs=orgs, volumes=volumes, truths=truths)
    generator = MaternityGenerator(ctx)
    births = pl.concat([generator.month(month) for month in span[-12:]])
    worse = {metric: [orgs.trust_codes[t] for t in truths.worse[metric]] for metric in MATERNITY_METRICS}
    return births, worse


def _maternity_rates(births: pl.DataFrame) -> dict[str, pl.Expr]:
    """Numerator and denominator of each maternity measure, restated from the audit's definitions."""
    live = pl.col("birth_outcome") == "live_birth"
    first = pl.col("birth_order") == 1
    vaginal = first & pl.col("delivery_mode").is_in(["spontaneous_vaginal", "instrumental"])
    vaginal = vaginal & pl.col("perineal_trauma").is_not_null()
    neonatal = live & ((pl.col("baby_death_date") - pl.col("delivery_date")).dt.total_days() <= 27)
    return {
        "stillbirths_per_1000": (pl.col("birth_outcome") == "stillbirth").sum() * 1000 / pl.len(),
        "neonatal_deaths_per_1000": neonatal.sum() * 1000 / live.sum(),
        "preterm_share": (live & (pl.col("gestation_weeks") < 37)).sum() / live.sum(),
        "caesarean_share": (first & pl.col("delivery_mode").str.ends_with("caesarean")).sum() / first.sum(),
        "tear_share": (vaginal & pl.col("perineal_trauma").is_in(["third_degree", "fourth_degree"])).sum()
        / vaginal.sum(),
        "pph_share": (first & (pl.col("blood_loss_ml") >= 1500)).sum() / first.sum(),
        "births": pl.len().cast(pl.Float64),
    }


def test_births_follow_the_national_rates(national_births) -> None:
    """England's maternity rates: stillbirth 3.3 per 1,000, neonatal death 1.5, preterm 8%..."""
    births, _ = national_births
    rates = births.select(**_maternity_rates(births)).row(0, named=True)
    assert 560e3 < rates["births"] < 640e3
    assert 2.8 < rates["stillbirths_per_1000"] < 3.9
    assert 1.1 < rates["neonatal_deaths_per_1000"] < 1.9
    assert 0.07 < rates["preterm_share"] < 0.09
    assert 0.36 < rates["caesarean_share"] < 0.44
    assert 0.025 < rates["tear_share"] < 0.04
    assert 0.025 < rates["pph_share"] < 0.04
    # twins: both babies share their delivery and mother; deliveries number once each
    twins = births.filter(pl.col("delivery_id").is_duplicated())
    assert 0.02 < twins.height / births.height < 0.04
    assert (
        twins.group_by("delivery_id").agg(pl.col("mother_nhs_number").n_unique())["mother_nhs_number"].max()
        == 1
    )
    # stillbirth and preterm birth follow deprivation (quintile 1 most deprived)
    by_quintile = births.group_by("imd_quintile").agg(**_maternity_rates(births)).sort("imd_quintile")
    assert by_quintile["stillbirths_per_1000"][0] > 1.5 * by_quintile["stillbirths_per_1000"][4]
    assert by_quintile["preterm_share"][0] > by_quintile["preterm_share"][4]


def test_planted_maternity_trusts_are_funnel_outliers_at_national_scale(national_births) -> None:
    """At scale 1.0 a financial year of births flags each planted trust beyond the 99.8% limit,
    with the overdispersion adjustment the catalogue gives these metrics (Spiegelhalter)."""
    from nqs.stats.funnel import funnel

    births, worse = national_births
    first = pl.col("birth_order") == 1
    vaginal = first & pl.col("delivery_mode").is_in(["spontaneous_vaginal", "instrumental"])
    measures = {
        "perineal_tear_3rd_4th_share": births.filter(
            vaginal & pl.col("perineal_trauma").is_not_null()
        ).select(
            "trust_code",
            num=pl.col("perineal_trauma").is_in(["third_degree", "fourth_degree"]).cast(pl.Float64),
        ),
        "pph_1500ml_share": births.filter(first).select(
            "trust_code", num=(pl.col("blood_loss_ml") >= 1500).cast(pl.Float64)
        ),
    }
    assert set(measures) == set(worse)
    for metric, frame in measures.items():
        per_trust = frame.group_by("trust_code").agg(pl.col("num").sum(), den=pl.len().cast(pl.Float64))
        result = funnel(per_trust, numerator="num", denominator="den", group="trust_code")
        alarms = set(result.filter(pl.col("outlier_status") == "alarm_high")["group"])
        assert len(worse[metric]) == 2 and set(worse[metric]) <= alarms, (metric, worse[metric], alarms)


# --- local authorities and adult social care ------------------------------------------------------

#: Upper-tier councils in England by ONS code prefix: counties, metropolitan districts, London
#: boroughs (and the City), unitary authorities.
COUNCILS_BY_PREFIX = {"E10": 21, "E08": 36, "E09": 33, "E06": 63}


def test_local_authorities_sit_under_one_icb_each(small: tuple[Path, dict]) -> None:
    out, _ = small
    orgs = pl.read_csv(out / "organisations/organisations.csv", infer_schema=False)
    councils = orgs.filter(pl.col("org_level") == "local_authority")
    assert councils.height == sum(COUNCILS_BY_PREFIX.values()) == 153
    assert dict(councils.group_by(pl.col("org_code").str.slice(0, 3)).len().iter_rows()) == COUNCILS_BY_PREFIX
    assert councils["org_code"].str.contains(r"^E(06|08|09|10)\d{6}$").all()
    kinds = {
        "E10": "county",
        "E08": "metropolitan_district",
        "E09": "london_borough",
        "E06": "unitary_authority",
    }
    assert (councils["org_code"].str.slice(0, 3).replace_strict(kinds) == councils["org_type"]).all()
    icbs = orgs.filter(pl.col("org_level") == "icb")
    assert set(councils["parent_code"]) == set(icbs["org_code"])  # each council one ICB, every ICB a council
    region_of = dict(zip(icbs["org_code"], icbs["parent_code"], strict=True))
    london = councils.filter(pl.col("org_type") == "london_borough")["parent_code"]
    assert {region_of[icb] for icb in london} == {"Y56"}  # London boroughs map to London's ICBs
    assert councils["close_date"].is_null().all()


def test_discharge_delays_follow_the_national_shape(small: tuple[Path, dict]) -> None:
    """About 3.2 million discharges after a ready date a year, 87% on the day, the rest waiting
    about five and a half days, somewhat under half of them for social care."""
    out, manifest = small
    frame = without_bad_rows(read_table(out, "adult_social_care/discharge_delays"), manifest)
    sums = frame.select(
        pl.col(c).cast(pl.Int64).sum()
        for c in ("patients_discharged", "discharged_on_ready_date", "delay_days", "delay_days_social_care")
    ).row(0, named=True)
    assert 2.8e6 < sums["patients_discharged"] / (MONTHS / 12) / manifest["scale"] < 3.6e6
    assert 0.84 < sums["discharged_on_ready_date"] / sums["patients_discharged"] < 0.9
    delayed = sums["patients_discharged"] - sums["discharged_on_ready_date"]
    assert 4.5 < sums["delay_days"] / delayed < 6.5
    assert 0.35 < sums["delay_days_social_care"] / sums["delay_days"] < 0.55
    councils = trust_codes_of(out, "local_authority")
    assert frame.group_by("_file").len()["len"].min() >= len(councils) - 2  # every council every month


def test_ascof_outcomes_are_one_file_a_year_named_after_april(sample: tuple[Path, dict]) -> None:
    """2B1 about 82% of about 85,000 people a year, 3A about 62% of about 60,000 respondents (the
    councils planted worse left out of the levels); a file covers the financial year starting in the
    month it is named after, one for each year the span holds whole."""
    out, manifest = sample
    frame = without_bad_rows(read_table(out, "adult_social_care/outcomes"), manifest)
    years = file_months("adult_social_care/outcomes")
    assert years and all(m.endswith("-04") for m in years)
    assert set(frame["_file"]) == {f"adult_social_care/outcomes_{m}.csv" for m in years}
    year_start = pl.col("financial_year_start").str.slice(0, 7)
    assert (frame["_file"].str.extract(r"_(\d{4}-\d{2})\.csv$") == frame.select(year_start).to_series()).all()
    totals = frame.group_by("measure_id").agg(pl.col("numerator", "denominator").cast(pl.Int64).sum())
    planted = {council for councils in manifest["worse_local_authorities"].values() for council in councils}
    levels = (
        frame.filter(~pl.col("la_code").is_in(list(planted)))
        .group_by("measure_id")
        .agg(pl.col("numerator", "denominator").cast(pl.Int64).sum())
    )
    years = len(set(frame["_file"]))
    for measure, volume, level in (("2B1", 85_000, 0.82), ("3A", 60_000, 0.62)):
        row = totals.filter(pl.col("measure_id") == measure).row(0, named=True)
        assert 0.8 < row["denominator"] / years / manifest["scale"] / volume < 1.2, measure
        row = levels.filter(pl.col("measure_id") == measure).row(0, named=True)
        assert abs(row["numerator"] / row["denominator"] - level) < 0.03, measure


def _national_context():
    """The generation context of a national extract (scale 1.0, the default seed and span), for
    generators drawn on their own without writing the other sources."""
    from nqs.generate.context import Context
    from nqs.generate.organisations import build_organisations
    from nqs.generate.periods import month_span
    from nqs.generate.truths import plant_truths
    from nqs.generate.volumes import build_volumes

    span = month_span(END, MONTHS)
    orgs = build_organisations(42, span)
    volumes = build_volumes(42, orgs, 1.0)
    truths = plant_truths(orgs, volumes, span)
    return Context(seed=42, scale=1.0, span=span, orgs=orgs, volumes=volumes, truths=truths)


def _outliers_low(frame: pl.DataFrame, group: str, numerator: str, denominator: str) -> set[str]:
    """Units below the 99.8% funnel limit (overdispersion-adjusted), as the benchmarking finds them."""
    from nqs.stats import funnel

    result = funnel(
        frame.select(group, numerator, denominator),
        numerator=numerator,
        denominator=denominator,
        group=group,
        data_type="proportion",
    )
    return set(result.filter(pl.col("outlier_998") == "low")["group"])


def test_planted_councils_are_funnel_outliers_at_national_scale() -> None:
    """At scale 1.0, the planted councils' 2B1 is below the 99.8% funnel limit in each financial
    year: the funnel compares councils."""
    from nqs.generate.adult_social_care import AdultSocialCareGenerator

    ctx = _national_context()
    generator = AdultSocialCareGenerator(ctx)
    worse = set(generator.truths.manifest(ctx.orgs.local_authorities)["reablement_still_at_home_91d"])
    assert len(worse) == 2
    for first in (m for m in ctx.span if m.month == 4):
        year = generator.outcomes(first).filter(pl.col("measure_id") == "2B1")
        assert worse <= _outliers_low(year, "la_code", "numerator", "denominator"), first.label


def test_planted_trusts_are_funnel_outliers_on_care_plans_at_national_scale() -> None:
    """At scale 1.0, over the latest financial year, the planted trusts' care and support plan
    coverage is below the 99.8% funnel limit."""
    from nqs.generate.personalised_care import PersonalisedCareGenerator

    ctx = _national_context()
    worse = {ctx.orgs.trust_codes[t] for t in ctx.truths.worse["care_and_support_plan_coverage"]}
    assert len(worse) == 2
    generator = PersonalisedCareGenerator(ctx)
    year = pl.concat([generator.month(m) for m in ctx.span[-12:]]).filter(
        pl.col("intervention") == "care_and_support_plan"
    )
    assert worse <= _outliers_low(year, "trust_code", "people_with_intervention", "people_eligible")
