"""`nqs validate`: one file against its contract, through the `nqs` front door, writing nothing.

The command must say what the warehouse load would do with the file, so its figures are compared with
`land_file` (the function the load runs) on the same file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from contracts.sources import get_table
from nqs.cli import main
from nqs.landing.file import land_file
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY
from nqs.landing.reference import load_reference

REPO_ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).parent / "hostile"
FIXTURES = Path(__file__).parent / "fixtures" / "contracts"
REFERENCE = FIXTURES / "organisations" / "organisations.csv"
AS_OF = "2026-04-30"


def hostile(case: str) -> Path:
    return next(p for p in (HOSTILE / case).rglob("*") if p.is_file())


def run_cli(*argv: str) -> int:
    """The `nqs` front door itself, as a data engineer runs it."""
    return main(["validate", *argv])


def run_json(capsys, *argv: str) -> tuple[int, dict, str]:
    code = run_cli(*argv, "--json")
    out, err = capsys.readouterr()
    assert out.count("\n") == 1  # one object
    return code, json.loads(out), err


def test_loadable_file_with_quarantined_rows_exits_0_and_groups_reasons(capsys):
    code = run_cli("--source", "incidents", str(hostile("retired_trust_code")), "--reference", str(REFERENCE))
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert "rows read 3, accepted 2, quarantined 1" in out
    assert "open_trust_code" in out and "trust closed before the activity date" in out
    assert "loadable: yes, with quarantined rows" in out


def test_json_agrees_with_the_warehouse_load(capsys):
    path = hostile("duplicate_keys_handful")
    arguments = ("--source", "incidents/events", str(path), "--as-of", AS_OF, "--reference", str(REFERENCE))
    code, report, _ = run_json(capsys, *arguments)
    table = get_table("incidents", "events")
    today = date.fromisoformat(AS_OF)
    reference = load_reference(FIXTURES, today=today)
    result = land_file(table, path, pseudonym_key=SAMPLE_PSEUDONYM_KEY, today=today, reference=reference)
    assert code == 0 and report["loadable"] is True and report["errors"] == []
    assert (
        (report["rows_read"], report["rows_accepted"], report["rows_quarantined"])
        == (
            result.rows_read,
            result.rows_accepted,
            result.rows_quarantined,
        )
        == (10, 9, 1)
    )
    assert [(f["check_name"], f["column_name"], f["rows"]) for f in report["failures_by_check"]] == [
        ("unique_key", "event_id", [7])
    ]
    assert report["failures_by_check"][0]["category"] == "plausibility"


def test_critical_file_exits_1_with_one_line(capsys):
    code, report, err = run_json(capsys, "--source", "incidents", str(hostile("missing_column")))
    assert code == 1 and report["loadable"] is False
    assert report["rows_read"] == 3 and report["rows_accepted"] == 0 and report["rows_quarantined"] == 3
    message = "incidents/events: incidents/events_2025-05.csv is missing column 'nhs_number'"
    assert report["errors"] == [message]
    assert err.count("\n") == 1 and "is missing column 'nhs_number'" in err
    assert report["failures_by_check"][0]["check_name"] == "critical:missing_column"


def test_text_output_of_a_critical_file(capsys):
    code = run_cli("--source", "hip_fracture_audit", str(hostile("wrong_folder_incidents")))
    out, err = capsys.readouterr()
    assert code == 1
    assert err.count("\n") == 1 and "its header is that of incidents/events" in err
    assert "loadable: yes" not in out


def test_table_is_inferred_from_the_file_name(tmp_path, capsys):
    proms = tmp_path / "joint_registry" / "proms_2025-05.csv"
    proms.parent.mkdir()
    shutil.copy(FIXTURES / "joint_registry" / "proms_2025-05.csv", proms)
    code, report, _ = run_json(capsys, "--source", "joint_registry", str(proms), "--as-of", AS_OF)
    assert code == 0 and report["table"] == "proms" and report["rows_accepted"] == report["rows_read"] > 0


@pytest.mark.parametrize(
    ("source", "file", "message"),
    [
        ("joint_registry", "incidents/events_2025-05.csv", "cannot tell which table of 'joint_registry'"),
        ("nope", "incidents/events_2025-05.csv", "no source 'nope'; registered sources:"),
        ("incidents/nope", "incidents/events_2025-05.csv", "no source table incidents/nope"),
        ("incidents", "incidents/missing.csv", "no such file"),
    ],
)
def test_misuse_exits_2_with_one_line(capsys, source, file, message):
    code = run_cli("--source", source, str(FIXTURES / file))
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("nqs validate: error: ") and message in err


def test_codes_are_checked_against_the_reference_beside_the_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NQS_SOURCES_DIR", str(tmp_path / "configured"))  # no configured reference
    sources = tmp_path / "sources"
    shutil.copytree(HOSTILE / "unknown_trust_code", sources)
    path = sources / "incidents" / "events_2025-05.csv"
    code, report, _ = run_json(capsys, "--source", "incidents", str(path), "--as-of", AS_OF)
    assert code == 0 and report["rows_quarantined"] == 0 and "not checked" in report["reference"]
    shutil.copytree(FIXTURES / "organisations", sources / "organisations")
    code, report, _ = run_json(capsys, "--source", "incidents", str(path), "--as-of", AS_OF)
    assert code == 0 and report["rows_quarantined"] == 1 and "checked against" in report["reference"]
    assert report["failures_by_check"][0]["check_name"] == "known_trust_code"


def test_nothing_is_written(tmp_path, capsys):
    sources = tmp_path / "sources"
    shutil.copytree(FIXTURES, sources)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert run_cli("--source", "workforce", str(sources / "workforce" / "staff_months_2025-05.csv")) == 0
    capsys.readouterr()
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_the_installed_nqs_command(tmp_path):
    """The console script itself, in a fresh process, with minor findings counted apart."""
    nqs = Path(sys.executable).with_name("nqs")
    command = [str(nqs)] if nqs.exists() else [sys.executable, "-m", "nqs.cli"]
    env = {**os.environ, "NQS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [*command, "validate", "--source", "organisations", str(hostile("windows_1252")), "--json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["encoding"] == "windows-1252"
    assert (report["rows_read"], report["rows_accepted"], report["rows_quarantined"]) == (10, 10, 0)
    assert report["rows_with_minor_findings"] == 2
    assert {f["check_name"] for f in report["failures_by_check"]} == {"encoding"}


@pytest.mark.parametrize(
    ("folder", "version"),
    [(FIXTURES, "v1"), (REPO_ROOT / "tests" / "fixtures" / "contract_versions", "v2")],
)
def test_the_contract_version_named_is_the_one_chosen_from_the_header(capsys, folder, version):
    """A file written under an older version is reported against that version, not the newest."""
    path = folder / "incidents" / "events_2025-05.csv"
    table = get_table("incidents", "events")
    chosen = table.at_version(version)
    assert table.contract_for_header(path.read_text().splitlines()[0].split(",")).version == version
    code, report, _ = run_json(capsys, "--source", "incidents", str(path), "--as-of", AS_OF)
    assert code == 0 and (report["contract"], report["contract_version"]) == (chosen.model.__name__, version)
    assert run_cli("--source", "incidents", str(path), "--as-of", AS_OF) == 0
    out, _ = capsys.readouterr()
    assert f"against {chosen.model.__name__} ({version})," in out.splitlines()[0]
