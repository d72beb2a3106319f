"""Source contracts and landing: every check fires, every row is accounted for, no identifier leaks.

The fixture folder `tests/fixtures/contracts/` is a small sources directory whose rows are all valid;
each test changes one cell (or the file's shape) and asserts exactly where the failure lands.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest

from contracts.base import Severity, row_check
from contracts.incidents import IncidentEventV1, IncidentEventV2
from contracts.sources import SOURCE_TABLES, SourceTable, get_table, tables_for_source
from nqs.generate import generate_sources
from nqs.generate.tables import ALL_TABLES
from nqs.landing.file import LandingResult, land_file
from nqs.landing.land import land_source_table
from nqs.landing.membership import ReferenceCodes
from nqs.landing.outputs import QUARANTINE_SCHEMA
from nqs.landing.paths import PLACEHOLDER_STEM, landed_paths, output_folders, parquet_files
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY
from nqs.landing.reference import load_reference

FIXTURES = Path(__file__).parent / "fixtures" / "contracts"
TODAY = date(2026, 4, 30)
KEY = SAMPLE_PSEUDONYM_KEY
REGISTERED = ("nhs_number", "ods_trust_code", "ods_site_code", "not_in_future", "first_of_month", "in_domain")


@pytest.fixture(scope="module")
def reference() -> ReferenceCodes:
    return load_reference(FIXTURES, today=TODAY)


def fixture_file(table: SourceTable) -> Path:
    return next((FIXTURES / table.source).glob(table.file_glob))


def write_variant(
    sources_dir: Path, table: SourceTable, changes: dict[str, str | None] | None = None, row: int = 1
) -> Path:
    """The table's fixture file with `changes` applied to data row `row` (1-based), under sources_dir."""
    rows = pl.read_csv(fixture_file(table), infer_schema=False)
    target = pl.int_range(1, pl.len() + 1) == row
    rows = rows.with_columns(
        pl.when(target).then(pl.lit(value, dtype=pl.String)).otherwise(pl.col(column)).alias(column)
        for column, value in (changes or {}).items()
    )
    path = sources_dir / table.source / fixture_file(table).name
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.write_csv(path)
    return path


def land_variant(
    tmp_path: Path,
    table_name: str,
    changes: dict[str, str | None],
    row: int = 1,
    reference: ReferenceCodes | None = None,
) -> LandingResult:
    table = get_table(*table_name.split("/"))
    path = write_variant(tmp_path, table, changes, row)
    return land_file(table, path, sources_dir=tmp_path, pseudonym_key=KEY, today=TODAY, reference=reference)


def failures(result: LandingResult) -> set[tuple[int, str | None, str]]:
    return set(result.quarantine.select("row_number", "column_name", "check_name").iter_rows())


def assert_reconciles(result: LandingResult) -> None:
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    accepted = set(result.accepted["_row_number"].to_list())
    held = set(result.quarantine.filter(pl.col("severity") != "minor")["row_number"].to_list())
    assert not accepted & held


# ---------------------------------------------------------------------------------------------
# Registry and models
# ---------------------------------------------------------------------------------------------


def test_registry_names_every_table_once():
    names = [(t.source, t.table) for t in SOURCE_TABLES]
    assert len(names) == len(set(names))
    assert set(names) == {(spec.source, spec.table) for spec in ALL_TABLES}  # each one generated too
    events = get_table("incidents", "events")
    assert events.model is IncidentEventV2 and events.version == "v2"
    assert [v.model for v in events.versions] == [IncidentEventV1, IncidentEventV2]
    assert [t.table for t in tables_for_source("joint_registry")] == ["procedures", "revisions", "proms"]
    with pytest.raises(KeyError, match="incidents/events"):
        get_table("incidents", "nope")


@pytest.mark.parametrize(
    "table",
    [t.at_version(v.version) for t in SOURCE_TABLES for v in t.versions],
    ids=lambda t: f"{t.name}.{t.version}",
)
def test_registry_agrees_with_its_contract(table: SourceTable):
    schema = table.model.to_schema()
    assert table.model.__name__.endswith(table.version.upper())
    assert schema.strict is True and schema.coerce is True and schema.name.endswith(f".{table.version}")
    assert set(table.key_columns) | set(table.identifier_columns) <= set(schema.columns)
    keys = [c.statistics["columns"] for c in schema.checks if c.name == "unique_key"]
    assert keys == [list(table.key_columns)]
    if table.activity_date_column:
        assert table.activity_date_column in schema.columns
    assert [c for c, col in schema.columns.items() if not col.description] == []


def test_checks_are_registered_with_pandera():
    for name in (*REGISTERED, "unique_key"):
        assert hasattr(pa.Check, name)  # registered: pandera resolves Check.<name>
        assert callable(getattr(pa.Check, name))


def test_pandera_reports_failures_by_zero_based_position():
    """The mapping row_number = index + 1 rests on this, for column and dataframe checks alike."""

    class Probe(pa.DataFrameModel):
        a: int = pa.Field(nullable=False, ge=0)
        b: int = pa.Field(nullable=True)

        @row_check("b")
        def b_above_a(cls, data: pa.PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select((pl.col("b") > pl.col("a")).fill_null(True))

    frame = pl.DataFrame({"a": [1, 2, None, -4], "b": [5, 1, 3, 9]}, schema={"a": pl.Int64, "b": pl.Int64})
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        Probe.validate(frame, lazy=True)
    found = set(caught.value.failure_cases.select("check", "index").iter_rows())
    assert found == {("not_nullable", 2), ("greater_than_or_equal_to(0)", 3), ("b_above_a", 1)}


# ---------------------------------------------------------------------------------------------
# Valid rows pass
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", SOURCE_TABLES, ids=lambda t: t.name)
def test_valid_fixture_rows_are_all_accepted(table: SourceTable, reference: ReferenceCodes):
    path = fixture_file(table)
    result = land_file(table, path, sources_dir=FIXTURES, pseudonym_key=KEY, today=TODAY, reference=reference)
    assert result.critical_error is None
    assert result.quarantine.height == 0
    assert result.rows_accepted == result.rows_read > 0
    assert result.accepted.columns == [
        *result.table.landed_columns,
        "_source_file",
        "_row_number",
        "_contract_version",
    ]
    assert result.accepted["_source_file"].unique().to_list() == [f"{table.source}/{path.name}"]
    assert result.accepted["_row_number"].to_list() == list(range(1, result.rows_read + 1))


# ---------------------------------------------------------------------------------------------
# Particular cases (every check of every contract fires: tests/test_contract_checks.py)
# ---------------------------------------------------------------------------------------------


def test_not_in_future_accepts_the_last_second_of_today(tmp_path):
    result = land_variant(tmp_path, "stroke_audit/admissions", {"arrival_at": "2026-04-30T23:59:59"}, 2)
    assert ("arrival_at", "not_in_future") not in {(c, k) for _, c, k in failures(result)}


def test_unknown_nhs_number_is_allowed_for_incidents_but_required_by_audits(tmp_path):
    incidents = land_variant(tmp_path, "incidents/events", {"nhs_number": None}, 1)
    assert incidents.quarantine.height == 0 and incidents.rows_accepted == 3
    audit = land_variant(tmp_path, "hip_fracture_audit/episodes", {"nhs_number": None}, 3)
    assert failures(audit) == {(3, "nhs_number", "not_nullable")}


# ---------------------------------------------------------------------------------------------
# Values that are not of their column's type
# ---------------------------------------------------------------------------------------------

TYPE_CASES = [
    ("hip_fracture_audit/episodes", "age", "n/a", "type:Int64"),
    ("stroke_audit/admissions", "nihss_on_arrival", "7.5", "type:Int64"),
    ("workforce/staff_months", "fte", "n/a", "type:Float64"),
    ("workforce/vacancies", "vacancy_fte", "NaN", "type:Float64"),
    ("incidents/events", "event_date", "2025-02-30", "type:Date"),
    ("incidents/events", "reported_date", "02/05/2025", "type:Date"),
    ("hip_fracture_audit/episodes", "admission_at", "2025-05-01 10:15", "type:Datetime"),
    ("incidents/events", "is_never_event", "Yes", "type:Boolean"),
]


@pytest.mark.parametrize(("table_name", "column", "value", "check"), TYPE_CASES)
def test_value_not_of_its_type_fails_its_row_once(tmp_path, table_name, column, value, check):
    result = land_variant(tmp_path, table_name, {column: value}, 1)
    assert failures(result) == {(1, column, check)}  # not also reported as a missing value
    assert result.quarantine["failure_value"].to_list() == [value]
    assert_reconciles(result)


def test_required_value_missing(tmp_path):
    result = land_variant(tmp_path, "incidents/events", {"specialty": None}, 2)
    assert failures(result) == {(2, "specialty", "not_nullable")}
    assert result.rows_accepted == 2


def test_quoted_empty_field_is_missing_too(tmp_path):
    table = get_table("joint_registry", "revisions")
    path = tmp_path / "joint_registry" / "revisions_2025-05.csv"
    path.parent.mkdir(parents=True)
    text = fixture_file(table).read_text().replace(",dislocation\n", ',""\n')
    path.write_text(text)
    result = land_file(table, path, sources_dir=tmp_path, pseudonym_key=KEY, today=TODAY)
    assert failures(result) == {(1, "revision_reason", "not_nullable")}


def test_a_row_with_several_failures_is_quarantined_once(tmp_path):
    result = land_variant(tmp_path, "incidents/events", {"degree_of_harm": "bad", "care_setting": "bad"}, 3)
    assert result.quarantine.height == 2 and result.rows_quarantined == 1
    assert result.rows_accepted == 2


# ---------------------------------------------------------------------------------------------
# Organisation codes against the reference
# ---------------------------------------------------------------------------------------------

MEMBERSHIP_CASES = [
    ("incidents/events", {"trust_code": "RZZ"}, "trust_code", "known_trust_code"),
    ("workforce/staff_months", {"trust_code": "RZZ"}, "trust_code", "known_trust_code"),
    ("joint_registry/revisions", {"trust_code": "RZZ"}, "trust_code", "known_trust_code"),
    ("incidents/events", {"site_code": "RAA09"}, "site_code", "known_site_code"),
    (
        "hip_fracture_audit/episodes",
        {"trust_code": "RBB", "site_code": "RBB01"},
        "trust_code",
        "open_trust_code",
    ),
    (
        "hip_fracture_audit/episodes",
        {"trust_code": "RBB", "site_code": "RBB01"},
        "site_code",
        "open_site_code",
    ),
    ("workforce/vacancies", {"trust_code": "RBB"}, "trust_code", "open_trust_code"),
    ("stroke_audit/admissions", {"site_code": "RCC01"}, "site_code", "site_of_trust"),
]


@pytest.mark.parametrize(("table_name", "changes", "column", "check"), MEMBERSHIP_CASES)
def test_codes_must_be_known_open_and_consistent(tmp_path, reference, table_name, changes, column, check):
    result = land_variant(tmp_path, table_name, changes, 1, reference=reference)
    assert (1, column, check) in failures(result)
    assert_reconciles(result)
    without_reference = land_variant(tmp_path, table_name, changes, 1)
    assert without_reference.quarantine.height == 0


def test_retired_codes_are_fine_before_the_closure(tmp_path, reference):
    changes = {
        "trust_code": "RBB",
        "site_code": "RBB01",
        "event_date": "2025-03-31",
        "reported_date": "2025-05-02",
    }
    result = land_variant(tmp_path, "incidents/events", changes, 1, reference=reference)
    assert result.quarantine.height == 0


def test_reference_holds_trusts_and_sites_with_closures(reference):
    assert reference.trust_codes == {"RAA", "RBB", "RCC"}
    assert reference.site_codes == {"RAA01", "RAA02", "RAA03", "RBB01", "RCC01"}
    closed = reference.trusts.filter(pl.col("close_date").is_not_null())["code"].to_list()
    assert closed == ["RBB"]


def test_reference_must_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="organisations"):
        load_reference(tmp_path)


# ---------------------------------------------------------------------------------------------
# Whole-file failures
# ---------------------------------------------------------------------------------------------


def _rewrite(path: Path, transform) -> None:
    path.write_bytes(transform(path.read_bytes()))


def _drop_last_column(data: bytes) -> bytes:
    return b"\n".join(line.rsplit(b",", 1)[0] for line in data.splitlines()) + b"\n"


def _add_column(data: bytes) -> bytes:
    lines = data.splitlines()
    return b"\n".join([lines[0] + b",ward", *(line + b",A1" for line in lines[1:])]) + b"\n"


FILE_CASES = [
    ("missing_column", _drop_last_column, 3, "nhs_number", "is missing column 'nhs_number'"),
    ("unexpected_column", _add_column, 3, "ward", "has unexpected column 'ward'"),
    ("empty_file", lambda data: b"", 0, "event_id", "is empty"),
    ("no_header", lambda data: b"\n".join(data.splitlines()[1:]) + b"\n", 3, "event_id", "has no header row"),
    (
        "unreadable",
        lambda data: data + b"W000000009,RAA,\x81\x8d\n",
        4,
        None,
        "cannot be read as UTF-8 or Windows-1252 text",
    ),
    ("not_csv", lambda data: b"PAR1" + data[:40], 0, None, "is a Parquet file that cannot be read"),
]


@pytest.mark.parametrize(("reason", "transform", "rows", "column", "phrase"), FILE_CASES)
def test_whole_file_problem_is_one_critical_line(tmp_path, reason, transform, rows, column, phrase):
    table = get_table("incidents", "events")
    path = write_variant(tmp_path, table)
    _rewrite(path, transform)
    result = land_file(table, path, sources_dir=tmp_path, pseudonym_key=KEY, today=TODAY)
    message = result.critical_error
    assert message is not None and "\n" not in message
    assert message.startswith("incidents/events: incidents/events_2025-05.csv ") and phrase in message
    if column:
        assert f"'{column}'" in message
    assert result.rows_accepted == 0
    assert result.accepted.columns == [
        *result.table.landed_columns,
        "_source_file",
        "_row_number",
        "_contract_version",
    ]
    assert result.rows_read == rows == result.rows_quarantined  # nothing lost
    assert set(result.quarantine["check_name"]) <= {f"critical:{reason}"}
    assert set(result.quarantine["severity"]) <= {"critical"}
    assert set(result.quarantine["column_name"]) <= {column}
    assert_reconciles(result)


def test_header_only_file_is_an_empty_month_not_a_failure(tmp_path):
    table = get_table("incidents", "events")
    path = write_variant(tmp_path, table)
    _rewrite(path, lambda data: data.splitlines()[0] + b"\n")
    result = land_file(table, path, sources_dir=tmp_path, pseudonym_key=KEY, today=TODAY)
    assert result.critical_error is None and result.rows_read == 0


def test_critical_quarantine_keeps_every_row_with_identifiers_hashed(tmp_path):
    table = get_table("hip_fracture_audit", "episodes")
    path = write_variant(tmp_path, table)
    _rewrite(path, _add_column)
    result = land_file(table, path, sources_dir=tmp_path, pseudonym_key=KEY, today=TODAY)
    rows = [json.loads(r) for r in result.quarantine["original_row"]]
    assert [r["episode_id"] for r in rows] == ["HF00000001", "HF00000002", "HF00000003"]
    assert all(len(r["nhs_number"]) == 64 and r["ward"] == "A1" for r in rows)


# ---------------------------------------------------------------------------------------------
# Severity tiers
# ---------------------------------------------------------------------------------------------


def test_minor_findings_are_recorded_but_the_row_is_accepted(tmp_path):
    table = get_table("incidents", "events")
    path = write_variant(tmp_path, table, {"event_date": "2024-01-01"}, 2)  # reported 16 months later
    result = land_file(table, path, sources_dir=tmp_path, pseudonym_key=KEY, today=TODAY)
    assert failures(result) == {(2, "reported_date", "plausible_delay")}
    assert result.quarantine["severity"].to_list() == ["minor"]
    assert result.rows_accepted == 3 and result.rows_quarantined == 0
    assert_reconciles(result)


# ---------------------------------------------------------------------------------------------
# Writing: idempotent, complete, pseudonymised
# ---------------------------------------------------------------------------------------------


def _sources_with_bad_rows(tmp_path: Path) -> Path:
    sources = tmp_path / "sources"
    shutil.copytree(FIXTURES, sources)
    write_variant(sources, get_table("incidents", "events"), {"nhs_number": "9991234579"}, 1)
    write_variant(sources, get_table("workforce", "staff_months"), {"fte": "3.5"}, 2)
    return sources


def _land_all(sources: Path, landed: Path) -> dict[str, list[LandingResult]]:
    return {
        t.name: land_source_table(t, sources, landed, pseudonym_key=KEY, today=TODAY) for t in SOURCE_TABLES
    }


def _parquet_rows(folder: Path) -> int:
    return sum(pl.read_parquet(p).height for p in parquet_files(folder))


def test_relanding_replaces_and_adds_nothing_twice(tmp_path):
    sources, landed = _sources_with_bad_rows(tmp_path), tmp_path / "landed"
    first = _land_all(sources, landed)
    second = _land_all(sources, landed)
    for table in SOURCE_TABLES:
        accepted_dir, quarantine_dir = landed_paths(table, landed)
        results = second[table.name]
        assert _parquet_rows(accepted_dir) == sum(r.rows_accepted for r in results)
        assert _parquet_rows(quarantine_dir) == sum(r.quarantine.height for r in results)
        assert [r.rows_accepted for r in first[table.name]] == [r.rows_accepted for r in results]
    events_q = pl.read_parquet(
        landed / "_quarantine" / "incidents" / "events" / "month=2025-05" / "events_2025-05.parquet"
    )
    assert events_q.schema == pl.Schema(QUARANTINE_SCHEMA)
    assert events_q.select("row_number", "column_name", "check_name").rows() == [
        (1, "nhs_number", "nhs_number")
    ]


def test_outputs_of_withdrawn_files_are_removed_and_empty_tables_keep_a_schema(tmp_path):
    sources, landed = _sources_with_bad_rows(tmp_path), tmp_path / "landed"
    table = get_table("joint_registry", "proms")
    land_source_table(table, sources, landed, pseudonym_key=KEY, today=TODAY)
    (sources / "joint_registry" / "proms_2025-05.csv").unlink()
    assert land_source_table(table, sources, landed, pseudonym_key=KEY, today=TODAY) == []
    for folder in output_folders(table, landed):
        assert [p.relative_to(folder).as_posix() for p in parquet_files(folder)] == [
            f"{PLACEHOLDER_STEM}.parquet"
        ]
    placeholder = pl.read_parquet(landed_paths(table, landed)[0] / f"{PLACEHOLDER_STEM}.parquet")
    assert placeholder.height == 0 and "post_op_score" in placeholder.columns
    shutil.copy(fixture_file(table), sources / "joint_registry" / "proms_2025-06.csv")
    land_source_table(table, sources, landed, pseudonym_key=KEY, today=TODAY)
    for folder in output_folders(table, landed):
        assert [p.relative_to(folder).as_posix() for p in parquet_files(folder)] == [
            "month=2025-06/proms_2025-06.parquet"
        ]


def test_identifiers_never_reach_the_landed_zone_raw(tmp_path):
    sources, landed = _sources_with_bad_rows(tmp_path), tmp_path / "landed"
    _land_all(sources, landed)
    raw_values: set[str] = set()
    for table in SOURCE_TABLES:
        for path in (sources / table.source).glob(table.file_glob):
            text = pl.read_csv(path, infer_schema=False)
            for column in table.identifier_columns:
                raw_values |= set(text[column].drop_nulls().to_list())
    assert {"9991234578", "9991234579", "E00000001"} <= raw_values
    landed_files = sorted(landed.rglob("*.parquet"))
    assert {p.parent.parent.relative_to(landed).as_posix() for p in landed_files} >= {
        f"{t.source}/{t.table}" for t in SOURCE_TABLES if t.identifier_columns
    }
    for path in landed_files:
        frame = pl.read_parquet(path)
        assert not {"nhs_number", "staff_id"} & set(frame.columns), path
        text = " ".join(
            frame.select(pl.col(pl.String).fill_null(""))
            .select(pl.concat_str(pl.all(), separator=" "))
            .to_series()
        )
        assert not [v for v in raw_values if v in text], path


def test_hash_is_hmac_sha256_of_the_value(tmp_path):
    table = get_table("incidents", "events")
    result = land_file(table, fixture_file(table), sources_dir=FIXTURES, pseudonym_key=KEY, today=TODAY)
    expected = hmac.new(KEY, b"9991234578", hashlib.sha256).hexdigest()
    assert result.accepted["nhs_number_hash"].to_list() == [
        expected,
        None,
        result.accepted["nhs_number_hash"][2],
    ]
    other_key = land_file(table, fixture_file(table), sources_dir=FIXTURES, pseudonym_key=b"x", today=TODAY)
    assert other_key.accepted["nhs_number_hash"][0] != expected


# ---------------------------------------------------------------------------------------------
# End to end on generated sources: every planted bad row is caught where it was planted
# ---------------------------------------------------------------------------------------------


def test_every_planted_bad_row_is_quarantined_where_it_was_planted(tmp_path):
    sources, landed = tmp_path / "sources", tmp_path / "landed"
    manifest = generate_sources(sources, scale=0.002, seed=7, months=3, bad_row_share=0.02)
    today = date(int(manifest["end"][:4]) + 1, 1, 1)
    results = {
        t.name: land_source_table(t, sources, landed, pseudonym_key=KEY, today=today) for t in SOURCE_TABLES
    }
    everything = [r for rs in results.values() for r in rs]
    assert [r.critical_error for r in everything if r.critical_error] == []
    assert all(r.rows_read == r.rows_accepted + r.rows_quarantined for r in everything)
    assert {r.source_file: r.rows_read for r in everything} == manifest["files"]
    quarantined = pl.concat([r.quarantine for r in everything])
    held = quarantined.filter(pl.col("severity") != str(Severity.MINOR))  # minor findings are accepted
    found = set(held.select("source_file", "row_number", "column_name").iter_rows())
    planted = {(b["file"], b["row"], b["column"]) for b in manifest["bad_rows"]}
    assert {b["kind"] for b in manifest["bad_rows"]} >= {"invalid_nhs_number", "duplicate_key", "date_order"}
    assert planted - found == set()
    false_alarms = {(f, r) for f, r, _ in found} - {(f, r) for f, r, _ in planted}
    assert false_alarms == set()


class _IncidentWithBrokenCheck(IncidentEventV1):
    @row_check("event_date")
    def cannot_run(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("no_such_column") > 0)


def test_a_check_that_cannot_run_fails_the_file_not_the_rows(tmp_path):
    """pandera reports such a failure without a row index: nothing can be accepted on its word."""
    base = get_table("incidents", "events")
    table = SourceTable(**{**base.__dict__, "model": _IncidentWithBrokenCheck})
    path = write_variant(tmp_path, table)
    result = land_file(table, path, sources_dir=tmp_path, pseudonym_key=KEY, today=TODAY)
    assert result.critical_error is not None and "cannot_run" in result.critical_error
    assert "\n" not in result.critical_error
    assert set(result.quarantine["check_name"]) == {"critical:contract"}
    assert result.rows_accepted == 0 and result.rows_quarantined == result.rows_read == 3
