"""Shared fixtures: the real `nqs build` runs of a test session, each run once and read by many tests.

- `sample_build`: one end-to-end build of a small generated sample (never changed by any test);
- `refused_build`: that build's data folder copied, one month of incidents broken, rebuilt;
- `rebuilt_build`: that build's data folder copied and built again from the same files with
  `--full-refresh`, with the draft strategy version active;
- `one_year_build`: a sample of twelve months only, too short for the metrics that need a year's
  follow-up (built from nothing, beside the sample build);
- `spark_build`: the sample build's sources built again from nothing with `NQS_ENGINE=spark` (dbt on
  a local Spark; tests/test_spark_build.py), once the sample build is done.

The builds run in the background (`Builds`) while the tests that need none run. Every test whose
fixtures include one of these is marked `slow` at collection, so `pytest -m "not slow"` runs no build.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import polars as pl
import pytest

from nqs.releases import current_release, release_ids

REPO_ROOT = Path(__file__).resolve().parents[1]
E2E_SCALE = "0.005"
#: Months of the one-year build: one fewer than a year's follow-up needs.
ONE_YEAR_MONTHS = 12

#: The refused build: one month of this source table loses this required column.
REFUSED_SOURCE = "incidents"
REFUSED_TABLE = "events"
DROPPED_COLUMN = "degree_of_harm"


@dataclass
class Build:
    data_dir: Path
    exit_code: int
    #: stdout then stderr
    output: str
    stdout: str = ""

    @property
    def manifest(self) -> dict:
        return json.loads((self.data_dir / "sources" / "_manifest.json").read_text())

    @property
    def warehouse(self) -> Path:
        """The published warehouse BI users read: the current release's file (schema `published`)."""
        return self.data_dir / "releases" / "current" / "warehouse.duckdb"

    @property
    def build_db(self) -> Path:
        """The database dbt builds into (every schema)."""
        return self.data_dir / "build" / "warehouse.duckdb"

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        """Query the build file, where the internal marts (unrounded) are built."""
        with duckdb.connect(str(self.build_db), read_only=True) as db:
            return db.execute(sql, params or []).fetchall()

    def query_published(self, sql: str, params: list | None = None) -> list[tuple]:
        """Query the current release's file, schema `published`, as a BI user does."""
        with duckdb.connect(str(self.warehouse), read_only=True) as db:
            return db.execute(sql, params or []).fetchall()


def run_nqs(
    *args: str, data_dir: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "NQS_DATA_DIR": str(data_dir), **(extra_env or {})}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "nqs.cli", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )


#: Runs each command of a JSON list through `nqs.cli.main`, as the `nqs` script does, and writes
#: {returncode, stdout, stderr} of each to the file named by the second argument.
_MANY_COMMANDS = """
import contextlib, io, json, sys, traceback
from nqs.cli import main

results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # what the interpreter would make of it
            code = exc.code if isinstance(exc.code, int) or exc.code is None else 1
            if not isinstance(exc.code, int) and exc.code is not None:
                print(exc.code, file=sys.stderr)
        except Exception:
            traceback.print_exc()
            code = 1
    results.append({"returncode": code or 0, "stdout": out.getvalue(), "stderr": err.getvalue()})
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    json.dump(results, handle)
"""


def run_nqs_many(
    commands: list[tuple[str, ...]], *, data_dir: Path, extra_env: dict[str, str] | None = None
) -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    """Several `nqs` commands in one fresh process, so Python, Dagster and dbt start once, not per command.

    Each command runs through `nqs.cli.main` with its own captured stdout and stderr; an exception
    escaping a command is printed to its stderr as a traceback, as the `nqs` script would print it.
    """
    env = {**os.environ, "NQS_DATA_DIR": str(data_dir), **(extra_env or {})}
    env.pop("DAGSTER_HOME", None)
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "results.json"
        done = subprocess.run(
            [sys.executable, "-c", _MANY_COMMANDS, json.dumps([list(c) for c in commands]), str(results)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 and results.exists(), done.stdout[-3000:] + done.stderr[-3000:]
        outcomes = json.loads(results.read_text(encoding="utf-8"))
    return {
        tuple(command): subprocess.CompletedProcess(
            ["nqs", *command], outcome["returncode"], outcome["stdout"], outcome["stderr"]
        )
        for command, outcome in zip(commands, outcomes, strict=True)
    }


def copy_data(build: Build, to: Path) -> Path:
    """A copy of a build's data folder (sources, landed zone, databases, Dagster instance) at `to`."""
    assert build.exit_code == 0, build.output[-3000:]
    shutil.copytree(build.data_dir, to, symlinks=True)  # `releases/current` stays a pointer
    return to


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def draft_strategy_version() -> str:
    """The strategy version in the seeds that is not the active one."""
    with (REPO_ROOT / "seeds" / "strategy_versions.csv").open(newline="", encoding="utf-8") as handle:
        return next(v["strategy_version"] for v in csv.DictReader(handle) if v["status"] != "active")


@dataclass
class RefusedBuild(Build):
    broken_file: Path = Path()
    #: sha256 of the published warehouse before the refused build
    published_before: str = ""
    #: the releases and the one `current` named before the refused build
    releases_before: tuple[list[str], str | None] = ([], None)

    @cached_property
    def materialized(self) -> set:
        """Asset keys materialised by the refused build's Dagster run."""
        import dagster as dg

        with dg.DagsterInstance.from_config(str(self.data_dir / "dagster_home")) as instance:
            run = instance.get_runs(limit=1)[0]
            records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
            return {r.dagster_event.asset_key for r in records}


@dataclass
class RebuiltBuild(Build):
    #: the strategy version the rebuild made active
    strategy_version: str = ""


class Builds:
    """The session's builds, each run once, in a background thread, from when a collected test needs it.

    The builds are `nqs build` subprocesses: while they run, the tests that need no build (or only a
    build already finished) run in the pytest process, and the builds made from the sample build run
    side by side once it is done.
    """

    #: build fixture -> the build fixtures it starts from
    NEEDS: dict[str, tuple[str, ...]] = {
        "sample_build": (),
        "refused_build": ("sample_build",),
        "rebuilt_build": ("sample_build",),
        "one_year_build": (),
        "spark_build": ("sample_build",),
    }

    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        self._tmp_path_factory = tmp_path_factory
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._results: dict[str, Build | BaseException] = {}
        self._processes: list[subprocess.Popen] = []
        self._stopped = False

    def start(self, name: str) -> None:
        """Start `name` (and what it starts from) in the background, unless already started."""
        for needed in self.NEEDS[name]:
            self.start(needed)
        with self._lock:
            if name in self._threads:
                return
            folder = self._tmp_path_factory.mktemp(name.removesuffix("_build"))
            thread = threading.Thread(target=self._run, args=(name, folder), name=name, daemon=True)
            self._threads[name] = thread
        thread.start()

    def result(self, name: str) -> Build:
        """The finished build `name`, waiting for it if need be."""
        self.start(name)
        return self._wait(name)

    def _wait(self, name: str) -> Build:
        self._threads[name].join()
        result = self._results[name]
        if isinstance(result, BaseException):
            raise result
        return result

    def stop(self) -> None:
        """End the builds still running (when the session ends before their tests ran)."""
        with self._lock:
            self._stopped = True
        for process in self._processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for thread in self._threads.values():
            thread.join(timeout=60)

    def _run(self, name: str, folder: Path) -> None:
        try:
            self._results[name] = getattr(self, f"_make_{name}")(folder)
        except BaseException as exc:  # raised again in the tests that need this build
            self._results[name] = exc

    def _nqs_build(self, data_dir: Path, *args: str, extra_env: dict[str, str] | None = None) -> Build:
        env = {**os.environ, "NQS_DATA_DIR": str(data_dir), **(extra_env or {})}
        env.pop("DAGSTER_HOME", None)
        with self._lock:
            if self._stopped:
                raise RuntimeError("the test session ended before this build started")
            process = subprocess.Popen(
                [sys.executable, "-m", "nqs.cli", "build", *args],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its own process group, ended as one by `stop`
            )
            self._processes.append(process)
        stdout, stderr = process.communicate()
        return Build(data_dir=data_dir, exit_code=process.returncode, output=stdout + stderr, stdout=stdout)

    def _make_sample_build(self, folder: Path) -> Build:
        return self._nqs_build(folder, "--scale", E2E_SCALE)

    def _make_refused_build(self, folder: Path) -> RefusedBuild:
        data_dir = copy_data(self._wait("sample_build"), folder / "data")
        with duckdb.connect(str(data_dir / "build" / "warehouse.duckdb")) as db:
            for (view,) in db.execute(
                "select view_name from duckdb_views() where schema_name = 'staging' and not internal"
            ).fetchall():
                db.execute(f'drop view staging."{view}"')
        (data_dir / "lineage" / "openlineage.jsonl").unlink()
        published_before = sha256(data_dir / "releases" / "current" / "warehouse.duckdb")
        releases = data_dir / "releases"
        releases_before = (release_ids(releases), current_release(releases))
        broken = sorted((data_dir / "sources" / REFUSED_SOURCE).glob(f"{REFUSED_TABLE}_*.csv"))[0]  # v1
        pl.read_csv(broken, infer_schema=False).drop(DROPPED_COLUMN).write_csv(broken)
        done = self._nqs_build(data_dir)
        return RefusedBuild(
            **done.__dict__,
            broken_file=broken,
            published_before=published_before,
            releases_before=releases_before,
        )

    def _make_rebuilt_build(self, folder: Path) -> RebuiltBuild:
        data_dir = copy_data(self._wait("sample_build"), folder / "data")
        version = draft_strategy_version()
        done = self._nqs_build(data_dir, "--full-refresh", extra_env={"NQS_STRATEGY_VERSION": version})
        return RebuiltBuild(**done.__dict__, strategy_version=version)

    def _make_one_year_build(self, folder: Path) -> Build:
        return self._nqs_build(folder, "--scale", E2E_SCALE, "--months", str(ONE_YEAR_MONTHS))

    def _make_spark_build(self, folder: Path) -> Build:
        if shutil.which("java") is None:  # its tests are skipped (tests/test_spark_build.py)
            raise RuntimeError("no Java runtime for Spark: `make java` installs one")
        sources = self._wait("sample_build").data_dir / "sources"
        data_dir = folder / "data"
        shutil.copytree(sources, data_dir / "sources")
        return self._nqs_build(data_dir, extra_env={"NQS_ENGINE": "spark"})


@pytest.fixture(scope="session")
def spark_build(builds: Builds) -> Build:
    """The sample's sources built again from nothing with `NQS_ENGINE=spark`: every dbt step on a local
    Spark, the steps after dbt reading Spark's tables through Arrow, a release published from them."""
    return builds.result("spark_build")


def _build_stage(item: pytest.Item) -> int:
    """0: needs no build; 1: reads the sample build; 2: reads a build made from it, or the one-year build."""
    needed = set(Builds.NEEDS) & set(item.fixturenames)
    return 2 if needed - {"sample_build"} else 1 if needed else 0


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark slow every test that needs a build (directly or through another fixture), and run the tests
    needing no build first, then those reading the sample build, then those reading builds made from it:
    the builds run in the background meanwhile (`Builds`)."""
    for item in items:
        if set(Builds.NEEDS) & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
    items.sort(key=_build_stage)


@pytest.fixture(scope="session", autouse=True)
def builds(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Starts, before the first test, every build that a collected test needs."""
    started = Builds(tmp_path_factory)
    atexit.register(started.stop)  # also when the session is interrupted
    for name in Builds.NEEDS:
        if any(name in item.fixturenames for item in request.session.items):
            started.start(name)
    yield started
    started.stop()
    atexit.unregister(started.stop)


@pytest.fixture(scope="session")
def sample_build(builds: Builds) -> Build:
    """`nqs build` of a 0.5% sample through real Dagster, dbt and DuckDB into a temporary folder."""
    return builds.result("sample_build")


@pytest.fixture(scope="session")
def refused_build(builds: Builds) -> RefusedBuild:
    """The sample rebuilt after its first month of incidents/events lost a required column.

    Before the rebuild every staging view is dropped (so the views present after it are the ones it
    rebuilt) and the OpenLineage log is removed (so it holds this run's events only).
    """
    return builds.result("refused_build")


@pytest.fixture(scope="session")
def rebuilt_build(builds: Builds) -> RebuiltBuild:
    """The sample's data folder built a second time from the same files with `--full-refresh` (every
    file landed again, every model rebuilt), with the draft strategy active.

    One rebuild for three questions: landing the same files again adds nothing twice, a full refresh
    lands every file, and switching the strategy version changes the strategy flags and nothing else.
    """
    return builds.result("rebuilt_build")


@pytest.fixture(scope="session")
def one_year_build(builds: Builds) -> Build:
    """`nqs build` of a 0.5% sample of twelve months: the stability index and the revisions within a
    year need thirteen, so they have insufficient history, and the build must still publish."""
    return builds.result("one_year_build")
