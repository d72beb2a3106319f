"""Landing a table's files in worker processes gives exactly what landing them in one process gives.

A backfill lands a table's files a few to a worker process (`files_per_worker`,
NQS_LANDING_FILES_PER_WORKER), so the native memory landing leaves behind goes back to the system
with each worker. Here a few months of a generated sample are landed one file per worker and in one
process, and the landed rows, hashes, quarantine, check results and ledger must be the same; an
error in a worker must still name the table and file, and a worker killed (as the out-of-memory
killer would) must say so, naming what it was landing.
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import sys
import textwrap
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from test_extending import EXAMPLES, FIXTURES

from contracts.sources import CONTRACT_MODULES_VARIABLE, SourceTable, get_table
from nqs.generate import generate_sources
from nqs.landing.land import land_source_table
from nqs.landing.ledger import read_ledger
from nqs.landing.paths import output_folders
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY
from nqs.landing.workers import WorkerDied, run_in_worker
from nqs.settings import LANDING_FILES_PER_WORKER_VARIABLE, SettingsError, files_per_worker

TODAY = date(2027, 1, 1)
MONTHS = 3
#: one table with a direct identifier (hashed) and organisation codes (checked against the reference)
STAFF = get_table("workforce", "staff_months")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sources")
    generate_sources(out, scale=0.005, months=MONTHS, bad_row_share=0.01)
    return out


def _land(sources: Path, landed: Path, per_worker: int, **options) -> list:
    return land_source_table(
        STAFF,
        sources,
        landed,
        pseudonym_key=SAMPLE_PSEUDONYM_KEY,
        today=TODAY,
        files_per_worker=per_worker,
        **options,
    )


def _outputs(landed: Path, table: SourceTable = STAFF) -> dict[str, pl.DataFrame]:
    """Every output file of the table, by its path under the landed folder; the load time left out
    (each landing has its own)."""
    frames = {}
    for folder in output_folders(table, landed):
        for path in sorted(folder.rglob("*.parquet")):
            frames[str(path.relative_to(landed))] = pl.read_parquet(path).drop("loaded_at", strict=False)
    return frames


def _ledger(landed: Path) -> dict[str, dict]:
    """The ledger's record of each file, but for when it was recorded."""
    return {name: {**entry, "landed_at": None} for name, entry in read_ledger(STAFF, landed).landed.items()}


def test_workers_land_the_same_rows_hashes_quarantine_checks_and_ledger(sources, tmp_path):
    one, workers = tmp_path / "one_process", tmp_path / "workers"
    in_process = _land(sources, one, 0)
    in_workers = _land(sources, workers, 1)  # each file in a worker of its own

    assert len(in_process) == MONTHS
    assert [r.source_file for r in in_workers] == [r.source_file for r in in_process]
    for ours, theirs in zip(in_workers, in_process, strict=True):
        assert (ours.rows_read, ours.rows_accepted, ours.rows_quarantined, ours.critical_error) == (
            theirs.rows_read,
            theirs.rows_accepted,
            theirs.rows_quarantined,
            theirs.critical_error,
        )
        assert ours.table == theirs.table
        assert ours.quarantine.drop("loaded_at", strict=False).equals(
            theirs.quarantine.drop("loaded_at", strict=False)
        )
    assert sum(r.rows_quarantined for r in in_process) > 0  # the planted bad rows
    assert sum(r.rows_accepted for r in in_process) > 0

    expected, landed = _outputs(one), _outputs(workers)
    assert sorted(landed) == sorted(expected) and len(expected) == 3 * MONTHS
    for name, frame in expected.items():
        assert landed[name].equals(frame), name
    hashed = pl.concat(f for n, f in expected.items() if not n.startswith("_"))["staff_id_hash"]
    assert hashed.null_count() == 0 and hashed.str.len_chars().unique().to_list() == [64]

    assert _ledger(workers) == _ledger(one) and len(_ledger(one)) == MONTHS
    # landing again with nothing changed lands nothing, in either mode
    assert _land(sources, workers, 1, only_changed=True) == []


def test_a_batch_covering_every_file_lands_in_this_process(sources, tmp_path, monkeypatch):
    """With no more files than a worker takes, no worker is started (the sample, a monthly run)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a worker was started")

    monkeypatch.setattr("nqs.landing.land.run_in_worker", refuse)
    assert len(_land(sources, tmp_path, MONTHS)) == MONTHS


def test_an_error_in_a_worker_names_the_table_and_file(sources, tmp_path):
    first = sorted((sources / "workforce").glob("staff_months_*.csv"))[1]
    month = first.stem.rsplit("_", 1)[1]
    # a file where the month's partition folder should be: writing that file's output fails
    (tmp_path / "workforce" / "staff_months").mkdir(parents=True)
    (tmp_path / "workforce" / "staff_months" / f"month={month}").write_text("in the way")
    with pytest.raises(OSError) as raised:
        _land(sources, tmp_path, 1)
    notes = "\n".join(raised.value.__notes__)
    assert f"landing workforce/staff_months file workforce/{first.name}" in notes
    assert "in the worker process" in str(raised.value.__cause__)
    assert not read_ledger(STAFF, tmp_path).landed  # nothing recorded when the landing fails


def test_a_worker_lands_a_source_registered_by_an_extension_module(tmp_path, monkeypatch):
    """The worker imports the contract module of a source added outside the repository, as the
    build's process did (through its `sys.path` and NQS_CONTRACT_MODULES)."""
    example = next(e for e in EXAMPLES if e.source == "sepsis_audit")  # an NHS number, hashed
    module = "worker_sepsis_contract"  # its own name: test_extending imports the example's
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(example.text), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(CONTRACT_MODULES_VARIABLE, module)
    monkeypatch.delitem(sys.modules, module, raising=False)
    table = importlib.import_module(module).SOURCE_TABLES[0]
    sources = tmp_path / "sources"
    shutil.copytree(FIXTURES / "organisations", sources / "organisations")
    (sources / example.source).mkdir()
    for month in ("2025-05", "2025-06"):
        (sources / example.source / example.file.replace("2025-05", month)).write_text(example.content)
    landings = {
        per_worker: land_source_table(
            table,
            sources,
            tmp_path / f"landed_{per_worker}",
            pseudonym_key=SAMPLE_PSEUDONYM_KEY,
            today=TODAY,
            files_per_worker=per_worker,
        )
        for per_worker in (0, 1)
    }
    counts = {
        n: [(r.rows_read, r.rows_accepted, r.rows_quarantined, r.critical_error) for r in results]
        for n, results in landings.items()
    }
    assert counts[1] == counts[0] and counts[0][0][:2] == (3, 2)
    assert {r.table.model.__module__ for r in landings[1]} == {module}
    expected = _outputs(tmp_path / "landed_0", table)
    landed = _outputs(tmp_path / "landed_1", table)
    assert sorted(landed) == sorted(expected)
    for name, frame in expected.items():
        assert landed[name].equals(frame), name


def _killed() -> None:
    """A worker killed as the out-of-memory killer kills it."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_worker_says_what_it_was_landing():
    with pytest.raises(WorkerDied, match=r"^landing a/b files x to y: .*signal 9, SIGKILL.*out-of-memory"):
        run_in_worker(_killed, doing="landing a/b files x to y")


def test_the_files_per_worker_setting():
    assert files_per_worker("0") == 0 and files_per_worker(" 12 ") == 12
    with pytest.raises(SettingsError, match=LANDING_FILES_PER_WORKER_VARIABLE):
        files_per_worker("-1")
