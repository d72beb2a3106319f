"""Step retries: transient failures (a locked DuckDB file, an I/O error) are retried with backoff; a
failed dbt test, a refused file or a missing key fails at once.

The errors are real: DuckDB's own lock error from a file another process holds open, a real dbt
test failing on duplicated landed rows, the real landing step refusing sources without a key.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import REPO_ROOT, Build, copy_data

from nqs.landing.pseudonymise import MissingPseudonymKey
from nqs.settings import get_settings
from orchestration.lib.retries import TRANSIENT_RETRY_POLICY, is_transient, transient_only

#: The dbt step the real runs execute: the smallest one, reading only bed_availability.
DBT_STEP = "dbt_source__bed_availability"
LANDED_TABLE = ("bed_availability", "occupancy")


def _lock_error(path: Path) -> duckdb.Error:
    """DuckDB's error on opening `path` while another process holds it open for writing."""
    hold = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.Error) as raised:
            duckdb.connect(str(path))
        return raised.value
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_locked_duckdb_file_and_io_errors_are_transient(tmp_path):
    locked = _lock_error(tmp_path / "build.duckdb")
    assert "lock" in str(locked).lower()
    assert is_transient(locked)
    assert is_transient(OSError(errno.EIO, os.strerror(errno.EIO)))
    assert is_transient(OSError(errno.EBUSY, os.strerror(errno.EBUSY)))
    # as dagster-dbt reports a dbt command that could not open the build file
    assert is_transient(dg.Failure(description=f"dbt failed.\n\nErrors parsed from dbt logs:\n\n{locked}"))


def test_failed_tests_bad_files_and_missing_keys_are_permanent(tmp_path):
    not_duckdb = tmp_path / "not.duckdb"
    not_duckdb.write_text("not a database")
    with pytest.raises(duckdb.Error) as invalid:
        duckdb.connect(str(not_duckdb))
    assert not is_transient(invalid.value)
    with pytest.raises(FileNotFoundError) as missing:
        (tmp_path / "absent.csv").read_text()
    assert not is_transient(missing.value)
    assert not is_transient(MissingPseudonymKey("set NQS_PSEUDONYM_KEY"))
    failed_test = "Failure in test unique_stg_x (models/x.yml)\n  Got 3 results, configured to fail if != 0"
    assert not is_transient(dg.Failure(description=f"Errors parsed from dbt logs:\n\n{failed_test}"))
    # a failed test decides, even when dbt also reported a transient error
    assert not is_transient(dg.Failure(description=f"{failed_test}\n\nIO Error: Could not set lock on file"))


def _step_events(result: dg.ExecuteInProcessResult, step: str) -> list[str]:
    return [e.event_type_value for e in result.all_events if e.step_key == step and e.is_step_event]


@pytest.mark.slow  # waits out the policy's real backoff: 5 s, jittered
def test_a_transient_error_is_retried_and_a_permanent_one_is_not_in_a_real_run():
    attempts: list[int] = []

    @dg.asset(retry_policy=TRANSIENT_RETRY_POLICY)
    @transient_only
    def flaky_disk(context):
        attempts.append(context.retry_number)
        if len(attempts) == 1:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        yield dg.MaterializeResult(metadata={"attempts": len(attempts)})

    @dg.asset(retry_policy=TRANSIENT_RETRY_POLICY)
    @transient_only
    def bad_value(context):
        raise ValueError("a value no retry can fix")
        yield  # a generator, as the landing and dbt steps are

    result = dg.materialize(
        [flaky_disk, bad_value], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert attempts == [0, 1]
    assert "STEP_UP_FOR_RETRY" in _step_events(result, "flaky_disk")
    assert _step_events(result, "flaky_disk")[-1] == "STEP_SUCCESS"
    assert _step_events(result, "bad_value") == ["STEP_START", "STEP_FAILURE"]
    failure = next(e for e in result.all_events if e.step_key == "bad_value" and e.is_step_failure)
    assert "a value no retry can fix" in str(failure.step_failure_data.error.message)


def test_the_landing_step_refusing_sources_without_a_key_is_not_retried(tmp_path, monkeypatch):
    """Landing real delivered files (no synthetic manifest, no key) fails at once, in one attempt."""
    from orchestration.definitions import defs
    from orchestration.lib.dbt import landed_asset_key

    sources = tmp_path / "sources" / LANDED_TABLE[0]
    sources.mkdir(parents=True)
    (sources / f"{LANDED_TABLE[1]}_2025-05.csv").write_text("trust_code\nRX1\n")
    monkeypatch.setenv("NQS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NQS_SOURCES_DIR", str(tmp_path / "sources"))
    monkeypatch.delenv("NQS_PSEUDONYM_KEY", raising=False)
    get_settings.cache_clear()
    try:
        assets_def = defs.resolve_assets_def(landed_asset_key(*LANDED_TABLE))
        assert assets_def.op.retry_policy == TRANSIENT_RETRY_POLICY
        kwargs = {}
        if assets_def.partitions_def is not None:
            kwargs["partition_key"] = next(
                k for k in assets_def.partitions_def.get_partition_keys() if k.startswith("2025-05")
            )
        result = dg.materialize(
            [assets_def], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, **kwargs
        )
    finally:
        get_settings.cache_clear()
    step = assets_def.op.name
    assert _step_events(result, step) == ["STEP_START", "STEP_FAILURE"]
    failure = next(e for e in result.all_events if e.step_key == step and e.is_step_failure)
    assert "NQS_PSEUDONYM_KEY" in failure.step_failure_data.error.to_string()


#: Materialises one dbt step on the instance DAGSTER_HOME names and writes the outcome to argv[2].
_RUN_DBT_STEP = """
import json, sys
import dagster as dg
from orchestration.definitions import defs
from orchestration.defs.transform.dbt import dbt_step_assets

step = next(a for a in dbt_step_assets if a.op.name == sys.argv[1])
config = json.loads(sys.argv[3])
run_config = {"ops": {sys.argv[1]: {"config": config}}} if config else None
with dg.DagsterInstance.get() as instance:
    result = dg.materialize(
        [step], resources=defs.resources, instance=instance, raise_on_error=False, run_config=run_config
    )
def text(event):
    error = getattr(event.event_specific_data, "error", None)
    return (event.message or "") + (" " + error.to_string() if error is not None else "")
events = [(e.event_type_value, text(e)) for e in result.all_events if e.step_key == sys.argv[1]]
with open(sys.argv[2], "w") as out:
    json.dump({"success": result.success, "events": events}, out)
"""


def _dbt_step(
    data_dir: Path,
    tmp_path: Path,
    *,
    hold: duckdb.DuckDBPyConnection | None = None,
    config: dict | None = None,
) -> dict:
    """Run `DBT_STEP` on `data_dir` in a fresh process, with the step's run `config` if given; `hold`, a
    connection holding the build file open, is closed once the step has failed on the lock and been put
    up for retry."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").touch()
    outcome = tmp_path / "outcome.json"
    env = {**os.environ, "NQS_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN_DBT_STEP, DBT_STEP, str(outcome), json.dumps(config or {})],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = []
    for line in process.stderr:  # Dagster's console log, one event a line
        log.append(line)
        if hold is not None and "STEP_UP_FOR_RETRY" in line:
            hold.close()
            hold = None
    assert process.wait(timeout=600) == 0 and outcome.exists(), "".join(log)[-5000:]
    if hold is not None:
        hold.close()
    return json.loads(outcome.read_text())


@pytest.fixture(scope="module")
def dbt_data(sample_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the sample build's data folder for the dbt step's runs: after the first, dbt reuses
    its parse of the project for this folder."""
    return copy_data(sample_build, tmp_path_factory.mktemp("retries") / "data")


def test_a_dbt_step_waits_out_a_locked_build_file(dbt_data: Path, tmp_path: Path):
    """Another process holds the build file open: the step fails on DuckDB's lock, is retried after a
    backoff, and succeeds once the file is free."""
    data_dir = dbt_data
    holder = duckdb.connect(str(data_dir / "build" / "warehouse.duckdb"))
    outcome = _dbt_step(data_dir, tmp_path, hold=holder)
    kinds = [kind for kind, _ in outcome["events"]]
    assert outcome["success"], outcome["events"]
    assert kinds.count("STEP_UP_FOR_RETRY") == 1 and kinds[-1] == "STEP_SUCCESS", kinds
    retry = next(message for kind, message in outcome["events"] if kind == "STEP_UP_FOR_RETRY")
    assert "lock" in retry.lower(), retry


def test_a_failed_dbt_test_is_not_retried(dbt_data: Path, tmp_path: Path):
    """A landed file duplicated breaks the staging model's unique key: dbt fails the test and the step
    fails in its first attempt."""
    landed = dbt_data / "landed" / LANDED_TABLE[0] / LANDED_TABLE[1]
    original = next(p for p in sorted(landed.rglob("*.parquet")) if pq.read_metadata(p).num_rows > 0)
    duplicate = original.with_name(f"{original.stem}_again.parquet")
    shutil.copy(original, duplicate)
    try:
        # the month landed again: an incremental build's tests read only the months that changed
        month = original.parent.name.removeprefix("month=")
        outcome = _dbt_step(dbt_data, tmp_path, config={"changed_months": [month]})
    finally:
        duplicate.unlink()
    kinds = [kind for kind, _ in outcome["events"]]
    assert not outcome["success"]
    assert "STEP_UP_FOR_RETRY" not in kinds and kinds.count("STEP_START") == 1, kinds
    assert kinds[-1] == "STEP_FAILURE"
