"""What changed since the last successful build, from the landing ledger: the files, their months, and
whether the next build must be a full refresh.

`nqs build`, the file sensor and the dbt steps all decide here (no Dagster import, so `nqs build`
can say "nothing changed" without loading the code location):

- a delivered file is *pending* when its sha256 differs from the one the last successful build
  recorded, or it is new, or it was removed (`nqs.landing.ledger`);
- a build is a *full refresh* when asked (`--full-refresh`), when no build has succeeded yet, or when
  the fingerprint of what it reads besides the delivered files differs from the last successful
  build's: for landing, the contracts, the landing code, the organisations reference and the
  pseudonym key (then every file is landed again); for dbt, the dbt project, the seeds and
  NQS_STRATEGY_VERSION (then dbt runs with `--full-refresh`).
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path

import nqs.landing
import nqs.sql_functions
from contracts.sources import CONTRACT_MODULES_VARIABLE, SOURCE_TABLES, get_table
from nqs.landing.ledger import fingerprint, last_build, mark_built, read_ledger, sha256_file
from nqs.landing.paths import delivered_files, file_month, is_monthly, source_file_name
from nqs.settings import DBT_PROJECT_DIR, REPO_ROOT, SEEDS_DIR, Settings

LANDING_FINGERPRINT = "landing_fingerprint"
DBT_FINGERPRINT = "dbt_fingerprint"
#: The strategy version override: dbt reads it, so a build with another value rebuilds in full.
STRATEGY_VERSION_VARIABLE = "NQS_STRATEGY_VERSION"


def landing_fingerprint(settings: Settings) -> str:
    """What landing reads besides a file: contracts, landing code, the organisations file, the key.

    The key enters as an HMAC of a fixed text under it, never as itself.
    """
    models = {Path(inspect.getsourcefile(entry.model)) for table in SOURCE_TABLES for entry in table.versions}
    organisations = delivered_files(get_table("organisations", "organisations"), settings.sources_dir)
    key = settings.landing_key()
    return fingerprint(
        [REPO_ROOT / "contracts", Path(nqs.landing.__file__).parent, *models],
        {
            CONTRACT_MODULES_VARIABLE: os.environ.get(CONTRACT_MODULES_VARIABLE, ""),
            "organisations": ",".join(sha256_file(p) for p in organisations),
            "key": hmac.new(key, b"nqs landing ledger", hashlib.sha256).hexdigest(),
        },
        suffixes=(".py",),  # the contracts' and landing's code, not their docs
    )


def dbt_fingerprint() -> str:
    """What dbt reads besides landed data: its project, the seeds, its functions, the strategy override."""
    return fingerprint(
        [DBT_PROJECT_DIR, SEEDS_DIR, Path(nqs.sql_functions.__file__)],
        {STRATEGY_VERSION_VARIABLE: os.environ.get(STRATEGY_VERSION_VARIABLE, "")},
    )


def fingerprints(settings: Settings) -> dict[str, str]:
    return {LANDING_FINGERPRINT: landing_fingerprint(settings), DBT_FINGERPRINT: dbt_fingerprint()}


@dataclass(frozen=True)
class BuildPlan:
    """What the next build lands and rebuilds."""

    #: why the build is a full refresh (None: incremental)
    full_refresh_reason: str | None
    #: landing must land every file again (asked for, first build, or landing's inputs changed)
    reland: bool
    #: source/table -> {pending file -> the month it covers (None: its name gives none)}
    pending: dict[str, dict[str, str | None]] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def full_refresh(self) -> bool:
        return self.full_refresh_reason is not None

    @property
    def months(self) -> set[str | None]:
        """The months whose files are new, changed or removed, of the tables whose files cover a month
        (a change to the organisations reference makes the build a full refresh)."""
        monthly = {f"{t.source}/{t.table}" for t in SOURCE_TABLES if is_monthly(t)}
        return {month for name, files in self.pending.items() if name in monthly for month in files.values()}

    @property
    def nothing_changed(self) -> bool:
        return not self.full_refresh and not self.pending


def full_refresh_reason(settings: Settings, current: dict[str, str]) -> tuple[str | None, bool]:
    """(why a build with these fingerprints is a full refresh or None, whether it re-lands every file)."""
    last = last_build(settings.landed_dir)
    if last is None:
        return "no build has succeeded yet", True
    if last.get(LANDING_FINGERPRINT) != current[LANDING_FINGERPRINT]:
        return "the contracts, landing code, organisations reference or pseudonym key changed", True
    if last.get(DBT_FINGERPRINT) != current[DBT_FINGERPRINT]:
        return f"the seeds, the dbt project or {STRATEGY_VERSION_VARIABLE} changed", False
    return None, False


def plan_build(settings: Settings, *, full_refresh: bool = False) -> BuildPlan:
    """Compare every delivered file's content hash with the last successful build's."""
    current = fingerprints(settings)
    reason, reland = full_refresh_reason(settings, current)
    if full_refresh:
        reason, reland = "a full refresh was asked for (--full-refresh)", True
    pending: dict[str, dict[str, str | None]] = {}
    for table in SOURCE_TABLES:
        built = read_ledger(table, settings.landed_dir).built
        files = {
            source_file_name(p, settings.sources_dir): p for p in delivered_files(table, settings.sources_dir)
        }
        changed = {
            name: file_month(path)
            for name, path in files.items()
            if name not in built or built[name]["sha256"] != sha256_file(path)
        }
        changed |= {name: entry["month"] for name, entry in built.items() if name not in files}
        if changed:
            pending[f"{table.source}/{table.table}"] = changed
    return BuildPlan(reason, reland, pending, current)


def pending_months(settings: Settings) -> set[str | None]:
    """Months whose landed data changed since the last successful build, from the ledger alone (of the
    tables whose files cover a month: the organisations reference changing is a full refresh)."""
    return {
        month
        for table in SOURCE_TABLES
        if is_monthly(table)
        for month in read_ledger(table, settings.landed_dir).pending_months()
    }


def landed_months(settings: Settings) -> set[str]:
    """Every month (`YYYY-MM`) a landed file of a monthly table covers, from the ledger."""
    return {
        entry["month"]
        for table in SOURCE_TABLES
        if is_monthly(table)
        for entry in read_ledger(table, settings.landed_dir).landed.values()
        if entry["month"] is not None
    }


def financial_year(month: str) -> int:
    """The year a month's financial year (April to March) starts in: 2024 for `2025-03` and `2024-04`."""
    year, number = int(month[:4]), int(month[5:7])
    return year if number >= 4 else year - 1


def rebuild_windows(months: set[str], window_months: int) -> list[list[str]]:
    """The months (`YYYY-MM`) of a full refresh in the windows it is built in, oldest first: whole
    financial years, as many consecutive ones as fit in `window_months` months (a window is at least
    one year); one window of every month when they all fit, or when `window_months` is 0.

    A window never splits a financial year, so no quarter or year is rolled up from two windows'
    halves and then again (roll-ups recompute whole periods either way: this only saves the work).
    """
    ordered = sorted(months)
    if window_months == 0 or len(ordered) <= window_months:
        return [ordered] if ordered else []
    windows: list[list[str]] = []
    for year in sorted({financial_year(m) for m in ordered}):
        months_of_year = [m for m in ordered if financial_year(m) == year]
        if windows and len(windows[-1]) + len(months_of_year) <= window_months:
            windows[-1].extend(months_of_year)
        else:
            windows.append(months_of_year)
    return windows


def record_successful_build(settings: Settings, current: dict[str, str] | None = None) -> None:
    """A build succeeded: what is landed now is built, with these fingerprints (now's if not given)."""
    mark_built(SOURCE_TABLES, settings.landed_dir, current or fingerprints(settings))


def month_start(month: str) -> str:
    """`2025-05-01` for the month `2025-05`: the form of dbt's `changed_months` var."""
    return f"{month}-01"
