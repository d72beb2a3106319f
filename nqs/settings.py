"""Where the warehouse keeps its files and how much of the machine DuckDB may use, read once from the
environment.

Every path can be moved with one environment variable so tests, benchmarks and CI build into
temporary folders while `make run` uses `data/` in the checkout. Every DuckDB connection of a build
(dbt's, through `Settings.dbt_env` and the profile, and the Python steps', through `Settings.connect`)
opens with `Settings.duckdb_config`: a memory limit, a number of threads and a folder to spill to.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import duckdb

from nqs.landing.pseudonymise import KEY_VARIABLE, landing_key
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY as SAMPLE_KEY

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = REPO_ROOT / "seeds"

#: Used only when NQS_PSEUDONYM_KEY is unset and the sources are synthetic (see `Settings.landing_key`).
SAMPLE_PSEUDONYM_KEY = SAMPLE_KEY.decode()

MEMORY_LIMIT_VARIABLE = "NQS_DUCKDB_MEMORY_LIMIT"
THREADS_VARIABLE = "NQS_DUCKDB_THREADS"
TEMP_DIRECTORY_VARIABLE = "NQS_DUCKDB_TEMP_DIRECTORY"
#: The date source freshness is judged on (YYYY-MM-DD); unset: today. Tests and replays of a fixed
#: sample set it, since a generated sample ends at a fixed month.
FRESHNESS_AS_OF_VARIABLE = "NQS_FRESHNESS_AS_OF"
#: The engine dbt builds on and the Python steps read (nqs.engines): DuckDB, the embedded default, or
#: Spark (docs/spark.md).
ENGINE_VARIABLE = "NQS_ENGINE"
DUCKDB = "duckdb"
SPARK = "spark"
ENGINES = (DUCKDB, SPARK)
#: Where the Spark build keeps its tables, catalogue and dbt files; unset: `spark/` in the data folder.
SPARK_DIR_VARIABLE = "NQS_SPARK_DIR"
#: How many releases (data/releases/<id>/) are kept, the current one included.
RELEASES_KEPT_VARIABLE = "NQS_RELEASES_KEPT"
#: Three: the current release, and the two before it for dashboards pinned to an earlier one.
DEFAULT_RELEASES_KEPT = 3
#: How many files of a source table one landing process lands (`nqs.landing.land.land_source_table`).
LANDING_FILES_PER_WORKER_VARIABLE = "NQS_LANDING_FILES_PER_WORKER"
#: Landing leaves about 27 MiB of native memory behind per national monthly file of the largest table
#: (workforce/staff_months, 1.45M rows), so a ten-year backfill in one process passed 4 GiB. With more
#: files than this to land, a table's files are landed this many to a worker process, which then exits;
#: with no more (the 24-month sample, a monthly run) they are landed in the build's own process.
DEFAULT_LANDING_FILES_PER_WORKER = 24
#: How many months of history one dbt invocation rebuilds in a full refresh (`rebuild_windows` in
#: orchestration/lib/changes.py).
REBUILD_WINDOW_MONTHS_VARIABLE = "NQS_REBUILD_WINDOW_MONTHS"
#: A full refresh of a longer history is rebuilt in windows of whole financial years of at most this
#: many months: the first a full refresh, each later one an incremental run of its months. Two national
#: years build within the memory bound in one invocation (benchmarks/build_benchmark.py); ten years in
#: one spill tens of gigabytes and run two heavy models out of DuckDB's memory at once.
DEFAULT_REBUILD_WINDOW_MONTHS = 24
#: DuckDB's buffer pool per process. DuckDB's own default is 80% of RAM, which at scale 1.0 took the
#: build to 19.5 GB; at 3GB dbt's process reached 3.4 GiB and the build's process tree 3.92 GiB (4.2 GB)
#: (scale 1.0, 24 months: benchmarks/), so the default leaves half a gigabyte less to DuckDB, keeping the
#: tree under 4 GB with room for other work on a shared server or a laptop with 8 GB. Decimal units, as
#: DuckDB reads them: 2.5GB is 2.3 GiB.
DEFAULT_MEMORY_LIMIT = "2.5GB"
#: What DuckDB accepts for memory_limit: a number and a unit (decimal KB..TB, binary KiB..TiB), or a
#: share of the machine's memory.
_MEMORY = re.compile(r"(?P<number>\d+(\.\d+)?)\s*(?P<unit>[KMGT]i?B|%)", re.IGNORECASE)


class SettingsError(ValueError):
    """An environment variable with a value the warehouse cannot use; the message is one line."""


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers narrow), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def memory_limit(value: str) -> str:
    """`value` stripped, if DuckDB reads it as a memory limit above zero; SettingsError otherwise."""
    match = _MEMORY.fullmatch(value.strip())
    if (
        match is None
        or float(match["number"]) <= 0
        or (match["unit"] == "%" and float(match["number"]) > 100)
    ):
        raise SettingsError(
            f"{MEMORY_LIMIT_VARIABLE}={value!r} is not a memory limit: give a number above 0 and a unit, "
            f"e.g. 3GB, 2500MB or 4GiB, or a share of the machine's memory, e.g. 25% (default "
            f"{DEFAULT_MEMORY_LIMIT})"
        )
    return value.strip()


def _whole_number(value: str) -> int | None:
    """`value` as a whole number of at least 1, or None."""
    return int(value) if re.fullmatch(r"\s*[0-9]+\s*", value) and int(value) >= 1 else None


def thread_count(value: str) -> int:
    """`value` as a whole number of threads of at least 1; SettingsError otherwise."""
    if (threads := _whole_number(value)) is None:
        raise SettingsError(
            f"{THREADS_VARIABLE}={value!r} is not a number of threads: give a whole number of at least 1 "
            f"(default: the cores available, {available_cores()} here)"
        )
    return threads


def releases_kept(value: str) -> int:
    """`value` as a whole number of releases to keep, at least 1 (the current one); SettingsError
    otherwise."""
    if (kept := _whole_number(value)) is None:
        raise SettingsError(
            f"{RELEASES_KEPT_VARIABLE}={value!r} is not a number of releases: give a whole number of at "
            f"least 1, the current release included (default {DEFAULT_RELEASES_KEPT})"
        )
    return kept


def files_per_worker(value: str) -> int:
    """`value` as a whole number of files per landing worker, 0 for none; SettingsError otherwise."""
    if not re.fullmatch(r"\s*[0-9]+\s*", value):
        raise SettingsError(
            f"{LANDING_FILES_PER_WORKER_VARIABLE}={value!r} is not a number of files: give a whole number, "
            f"0 to land every file of a table in one process (default {DEFAULT_LANDING_FILES_PER_WORKER})"
        )
    return int(value)


def rebuild_window_months(value: str) -> int:
    """`value` as a number of months of at least 12 (one financial year), or 0 for the whole history in
    one invocation; SettingsError otherwise."""
    if not re.fullmatch(r"\s*[0-9]+\s*", value) or 0 < int(value) < 12:
        raise SettingsError(
            f"{REBUILD_WINDOW_MONTHS_VARIABLE}={value!r} is not a window of months: give a whole number of "
            f"at least 12 (a financial year), or 0 to rebuild the whole history at once (default "
            f"{DEFAULT_REBUILD_WINDOW_MONTHS})"
        )
    return int(value)


def engine(value: str) -> str:
    """`value` as the name of an engine the warehouse builds on; SettingsError otherwise."""
    name = value.strip().lower()
    if name not in ENGINES:
        raise SettingsError(
            f"{ENGINE_VARIABLE}={value!r} is not an engine of this warehouse: give {' or '.join(ENGINES)} "
            f"(default {DUCKDB})"
        )
    return name


def as_of_date(value: str) -> date:
    """`value` as a calendar date (YYYY-MM-DD); SettingsError otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise SettingsError(
            f"{FRESHNESS_AS_OF_VARIABLE}={value!r} is not a date: give YYYY-MM-DD (default: today)"
        ) from None


@dataclass(frozen=True)
class Settings:
    """Paths, secrets and DuckDB's share of the machine for one warehouse build."""

    data_dir: Path
    sources_dir: Path
    pseudonym_key: str | None  #: NQS_PSEUDONYM_KEY; None when unset
    duckdb_memory_limit: str = DEFAULT_MEMORY_LIMIT  #: NQS_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int = field(default_factory=available_cores)  #: NQS_DUCKDB_THREADS
    #: NQS_DUCKDB_TEMP_DIRECTORY; None: `build/duckdb_tmp` in the data folder
    duckdb_temp_directory: Path | None = None
    #: NQS_FRESHNESS_AS_OF; None: today (`freshness_date`)
    freshness_as_of: date | None = None
    #: NQS_RELEASES_KEPT
    releases_kept: int = DEFAULT_RELEASES_KEPT
    #: NQS_LANDING_FILES_PER_WORKER; 0: every file of a table landed in one process
    landing_files_per_worker: int = DEFAULT_LANDING_FILES_PER_WORKER
    #: NQS_REBUILD_WINDOW_MONTHS; 0: a full refresh rebuilds the whole history in one dbt invocation
    rebuild_window_months: int = DEFAULT_REBUILD_WINDOW_MONTHS
    #: NQS_ENGINE: `duckdb` or `spark`
    engine: str = DUCKDB
    #: NQS_SPARK_DIR; None: `spark` in the data folder
    spark_directory: Path | None = None

    @property
    def landed_dir(self) -> Path:
        return self.data_dir / "landed"

    @property
    def build_db(self) -> Path:
        """The database dbt builds into; never read by BI users."""
        return self.data_dir / "build" / "warehouse.duckdb"

    @property
    def spark_dir(self) -> Path:
        """The Spark build's tables (`warehouse/`), catalogue (`metastore_db/`) and dbt files."""
        return self.spark_directory or self.data_dir / "spark"

    @property
    def releases_dir(self) -> Path:
        """Where each successful build publishes a release, `<release_id>/`, and the `current` pointer."""
        return self.data_dir / "releases"

    @property
    def published_db(self) -> Path:
        """The file BI users read: the current release's, through the `current` symlink (nqs.releases),
        moved only by a complete, tested build."""
        return self.releases_dir / "current" / "warehouse.duckdb"

    @property
    def duckdb_temp_dir(self) -> Path:
        """Where DuckDB spills what does not fit in its memory limit (created and removed by DuckDB)."""
        return self.duckdb_temp_directory or self.data_dir / "build" / "duckdb_tmp"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @property
    def freshness_date(self) -> date:
        """The date each source's latest landed month is compared with its expected delivery."""
        return self.freshness_as_of or date.today()

    @property
    def uses_sample_key(self) -> bool:
        """No key configured: landing uses the sample key, and only for synthetic sources."""
        return not self.pseudonym_key or self.pseudonym_key == SAMPLE_PSEUDONYM_KEY

    def landing_key(self) -> bytes:
        """The key landing pseudonymises identifiers with: NQS_PSEUDONYM_KEY, or the sample key when the
        sources are synthetic. Raises `nqs.landing.pseudonymise.MissingPseudonymKey` (one line saying
        what to set) for any other sources, so nothing is landed with a key meant for samples."""
        return landing_key(self.sources_dir, self.pseudonym_key)

    def duckdb_config(self) -> dict[str, str]:
        """The configuration every DuckDB connection of a build opens with (`duckdb.connect(config=...)`,
        and dbt's profile through `dbt_env`), so the build's memory is bounded in one place.

        Insertion order is not preserved: nothing reads a table in the order its rows were written
        (every reader that needs an order says `order by`, which DuckDB keeps), and keeping it makes
        DuckDB buffer large inserts and exports.
        """
        return {
            "memory_limit": self.duckdb_memory_limit,
            "threads": str(self.duckdb_threads),
            "temp_directory": str(self.duckdb_temp_dir),
            "preserve_insertion_order": "false",
        }

    def connect(self, path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection to `path` with `duckdb_config`."""
        return duckdb.connect(str(path), read_only=read_only, config=self.duckdb_config())

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt's profile and source definitions read: paths, and each entry of
        `duckdb_config` as NQS_DUCKDB_<NAME> (the profile's `config_options`)."""
        duckdb_env = {f"NQS_DUCKDB_{name.upper()}": value for name, value in self.duckdb_config().items()}
        paths = {"NQS_BUILD_DB": str(self.build_db), "NQS_LANDED_DIR": str(self.landed_dir)}
        return {**paths, SPARK_DIR_VARIABLE: str(self.spark_dir), **duckdb_env}


@cache
def get_settings() -> Settings:
    """Settings from NQS_DATA_DIR, NQS_SOURCES_DIR, NQS_PSEUDONYM_KEY and NQS_DUCKDB_MEMORY_LIMIT,
    NQS_DUCKDB_THREADS, NQS_DUCKDB_TEMP_DIRECTORY, NQS_FRESHNESS_AS_OF, NQS_RELEASES_KEPT,
    NQS_LANDING_FILES_PER_WORKER, NQS_REBUILD_WINDOW_MONTHS, NQS_ENGINE and NQS_SPARK_DIR; SettingsError
    (one line) for an unusable value."""
    data_dir = Path(os.environ.get("NQS_DATA_DIR", REPO_ROOT / "data")).resolve()
    sources_dir = Path(os.environ.get("NQS_SOURCES_DIR", data_dir / "sources")).resolve()
    key = os.environ.get(KEY_VARIABLE) or None
    threads = os.environ.get(THREADS_VARIABLE)
    temp = os.environ.get(TEMP_DIRECTORY_VARIABLE)
    as_of = os.environ.get(FRESHNESS_AS_OF_VARIABLE)
    kept = os.environ.get(RELEASES_KEPT_VARIABLE)
    per_worker = os.environ.get(LANDING_FILES_PER_WORKER_VARIABLE)
    window = os.environ.get(REBUILD_WINDOW_MONTHS_VARIABLE)
    spark_dir = os.environ.get(SPARK_DIR_VARIABLE)
    return Settings(
        data_dir=data_dir,
        sources_dir=sources_dir,
        pseudonym_key=key,
        duckdb_memory_limit=memory_limit(os.environ.get(MEMORY_LIMIT_VARIABLE) or DEFAULT_MEMORY_LIMIT),
        duckdb_threads=thread_count(threads) if threads else available_cores(),
        duckdb_temp_directory=Path(temp).resolve() if temp else None,
        freshness_as_of=as_of_date(as_of) if as_of else None,
        releases_kept=releases_kept(kept) if kept else DEFAULT_RELEASES_KEPT,
        landing_files_per_worker=files_per_worker(per_worker)
        if per_worker
        else DEFAULT_LANDING_FILES_PER_WORKER,
        rebuild_window_months=rebuild_window_months(window) if window else DEFAULT_REBUILD_WINDOW_MONTHS,
        engine=engine(os.environ.get(ENGINE_VARIABLE) or DUCKDB),
        spark_directory=Path(spark_dir).resolve() if spark_dir else None,
    )
