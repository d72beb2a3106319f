"""Hostile inputs: every case in tests/hostile/cases.toml lands exactly as declared there.

Each case is a real delivered file run through the real landing code (`land_file`, the function the
warehouse load and `nqs validate` share). Whatever the file, landing never raises; it ends either in
one critical line naming source, file and (where there is one) column and row, with every readable
row kept in the quarantine, or in accepted and quarantined rows with a reason for every failure.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tomllib
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from contracts.sources import get_table
from nqs.landing import check_results as quality
from nqs.landing.file import LandingResult, land_file
from nqs.landing.membership import ReferenceCodes
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY
from nqs.landing.reference import load_reference
from nqs.landing.whole_file import MAX_FIELD_BYTES

HOSTILE = Path(__file__).parent / "hostile"
FIXTURES = Path(__file__).parent / "fixtures" / "contracts"
TODAY = date(2026, 4, 30)
CASES = tomllib.loads((HOSTILE / "cases.toml").read_text())["case"]


@pytest.fixture(scope="module")
def reference() -> ReferenceCodes:
    return load_reference(FIXTURES, today=TODAY)


def _incidents_fixture() -> bytes:
    return (FIXTURES / "incidents" / "events_2025-05.csv").read_bytes()


def _ten_mb_field() -> bytes:
    lines = _incidents_fixture().splitlines()
    fields = lines[2].split(b",")
    fields[5] = b"x" * (10 * 1024 * 1024)  # event_category
    lines[2] = b",".join(fields)
    return b"\n".join(lines) + b"\n"


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pl.read_csv(io.BytesIO(_incidents_fixture()), infer_schema=False).write_parquet(buffer)
    return buffer.getvalue()


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as workbook:
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


RECIPES = {
    "ten_mb_field": _ten_mb_field,
    "parquet": _parquet,
    "truncated_parquet": lambda: _parquet()[: len(_parquet()) // 2],
    "gzip": lambda: gzip.compress(_incidents_fixture()),
    "xlsx": _xlsx,
}


def _sources_dir(case: dict, tmp_path: Path) -> Path:
    if "generate" not in case:
        return HOSTILE / case["name"]
    path = tmp_path / case["file"]
    path.parent.mkdir(parents=True)
    path.write_bytes(RECIPES[case["generate"]]())
    return tmp_path


def _land(case: dict, tmp_path: Path, reference: ReferenceCodes) -> LandingResult:
    table = get_table(*case["table"].split("/"))
    sources_dir = _sources_dir(case, tmp_path)
    return land_file(
        table,
        sources_dir / case["file"],
        sources_dir=sources_dir,
        pseudonym_key=SAMPLE_PSEUDONYM_KEY,
        today=TODAY,
        reference=None if table.family == "reference" else reference,
    )


def _failures(result: LandingResult, minor: bool) -> set[tuple[int, str, str]]:
    rows = result.quarantine.filter((pl.col("severity") == "minor") == minor)
    return {(r, c or "", k) for r, c, k in rows.select("row_number", "column_name", "check_name").iter_rows()}


def test_there_are_at_least_forty_cases_each_with_a_file():
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)) >= 40
    for case in CASES:
        assert case["outcome"] in {"critical", "loaded"}
        if "generate" in case:
            assert case["generate"] in RECIPES
        else:
            assert (HOSTILE / case["name"] / case["file"]).is_file(), case["name"]
    on_disk = {p.name for p in HOSTILE.iterdir() if p.is_dir()}
    assert on_disk == {c["name"] for c in CASES if "generate" not in c}  # no file without its outcome


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_input_lands_as_declared(case, tmp_path, reference):
    result = _land(case, tmp_path, reference)  # never raises: that is the first assertion
    table = get_table(*case["table"].split("/"))
    assert result.rows_read == case["rows_read"]
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    accepted = set(result.accepted["_row_number"].to_list())
    held = set(result.quarantine.filter(pl.col("severity") != "minor")["row_number"].drop_nulls())
    assert not accepted & held and accepted | held == set(range(1, result.rows_read + 1))  # nothing lost
    if "contract_version" in case:
        assert result.table.version == case["contract_version"]
        assert set(result.quarantine["contract_version"]) <= {case["contract_version"]}
    if case["outcome"] == "critical":
        message = result.critical_error
        assert message is not None and "\n" not in message
        assert message.startswith(f"{table.source}/{table.table}: {case['file']} ")
        for fragment in case["message"]:
            assert fragment in message
        if "column" in case:
            assert f"'{case['column']}'" in message
        if "row" in case:
            assert f"row {case['row']}" in message
        assert result.rows_accepted == 0
        assert set(result.quarantine["check_name"]) <= {case["check"]}
        assert set(result.checks["check_name"]) == {case["check"]}
        assert set(result.checks["severity"]) == {"critical"}
    else:
        assert result.critical_error is None
        assert result.rows_accepted == case["rows_accepted"]
        assert _failures(result, minor=False) == {tuple(f) for f in case.get("quarantined", [])}
        assert _failures(result, minor=True) == {tuple(f) for f in case.get("minor", [])}
        reasons = " | ".join(result.quarantine["reason"].drop_nulls())
        assert result.quarantine["reason"].null_count() == 0  # every failure explained
        for fragment in case.get("reasons", []):
            assert fragment in reasons


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_check_results_agree_with_the_quarantine(case, tmp_path, reference):
    """rows_failed of each check = distinct quarantined rows of that check and column; every check has
    a category."""
    result = _land(case, tmp_path, reference)
    expected = (
        result.quarantine.group_by("check_name", "column_name", "severity")
        .agg(pl.col("row_number").drop_nulls().n_unique().alias("rows"))
        .rows()
    )
    checks = result.checks
    for check, column, severity, rows in expected:
        found = checks.filter(
            (pl.col("check_name") == check)
            & pl.col("column_name").eq_missing(column)
            & (pl.col("severity") == severity)
        )
        assert found["rows_failed"].to_list() == [rows], (check, column)
    failing = checks.filter(pl.col("rows_failed") > 0).height
    assert failing == len([e for e in expected if e[3]])
    assert set(checks["rows_checked"]) <= {result.rows_read}
    named = {c for c in checks["check_name"] if not c.startswith("type:")}
    contract_checks = {c.name for c in table_checks(case["table"])}
    assert named - set(quality.CATEGORIES) <= contract_checks  # reading and critical checks are all named


def table_checks(table_name: str):
    schema = get_table(*table_name.split("/")).model.to_schema()
    return [*schema.checks, *(c for column in schema.columns.values() for c in column.checks)]


def test_every_new_check_has_a_category_and_a_tier():
    for check, severity, _ in quality.READING_CHECKS:
        assert quality.category(check) in {"conformance", "completeness", "plausibility"}
        assert check in quality.CATEGORIES, check
        assert severity in {"major", "minor"}
    critical = {c["check"] for c in CASES if c["outcome"] == "critical"}
    assert critical <= set(quality.CATEGORIES)


def test_the_ten_megabyte_row_is_kept_whole_in_the_quarantine(tmp_path, reference):
    case = next(c for c in CASES if c["name"] == "ten_mb_field")
    result = _land(case, tmp_path, reference)
    row = result.quarantine.filter(pl.col("check_name") == "field_too_long")
    assert len(row["original_row"][0]) > 10 * 1024 * 1024 > MAX_FIELD_BYTES


def test_rows_of_a_readable_parquet_file_are_kept_in_quarantine(tmp_path, reference):
    case = next(c for c in CASES if c["name"] == "parquet_source_file")
    result = _land(case, tmp_path, reference)
    assert result.quarantine["failure_value"].to_list() == [None] * 3  # the file as a whole failed
    assert '"event_id":"W000000001"' in result.quarantine["original_row"][0]


def test_a_stray_parquet_delivery_is_landed_as_a_critical_failure(tmp_path, reference):
    """A `.parquet` file of the table in its source folder is not silently skipped by the load."""
    from nqs.landing.land import land_source_table

    sources = tmp_path / "sources"
    shutil.copytree(FIXTURES, sources)
    (sources / "incidents" / "events_2025-06.parquet").write_bytes(_parquet())
    results = land_source_table(
        get_table("incidents", "events"), sources, tmp_path / "landed", pseudonym_key=b"k", today=TODAY
    )
    by_file = {r.source_file: r for r in results}
    assert by_file["incidents/events_2025-05.csv"].critical_error is None
    assert "is a Parquet file" in by_file["incidents/events_2025-06.parquet"].critical_error
    folder = tmp_path / "landed" / "_quarantine" / "incidents" / "events"
    written = {p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet")}
    assert written == {"month=2025-05/events_2025-05.parquet", "month=2025-06/events_2025-06_parquet.parquet"}


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.get("check") == "critical:no_header"],
    ids=lambda c: c["name"],
)
def test_every_line_of_a_file_without_header_is_a_quarantined_row(case, tmp_path, reference):
    """Its first line is row 1, not a header: line n of the file is quarantined as row n, whole."""
    result = _land(case, tmp_path, reference)
    text = (HOSTILE / case["name"] / case["file"]).read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    assert result.rows_read == len(lines)
    quarantined = result.quarantine.select("row_number", "original_row").unique().sort("row_number")
    assert quarantined["row_number"].to_list() == list(range(1, len(lines) + 1))
    identifiers = set(result.table.identifier_columns)
    for line, original in zip(lines, quarantined["original_row"], strict=True):
        values = json.loads(original)
        if len(values) == len(result.table.columns):  # one field per column: named as the contract's
            assert list(values) == list(result.table.columns)
            assert [v or "" for c, v in values.items() if c not in identifiers] == [
                v for c, v in zip(result.table.columns, line.split(","), strict=True) if c not in identifiers
            ]


def test_row_numbers_count_records_not_lines(reference):
    """A quoted newline in row 6 does not shift row 10's number (the file's 12th line)."""
    case = next(c for c in CASES if c["name"] == "quoted_newlines")
    assert [10, "org_type", "in_domain"] in case["quarantined"]
    text = (HOSTILE / case["name"] / case["file"]).read_text()
    assert text.splitlines()[11].startswith("RCC01,")
