"""Freshness: whether each monthly source has delivered the months it should have by now.

Each source table in the registry declares its delivery lag (`SourceTable.delivery_lag_months`): a
month's file is due by the end of the month that many months after it (a quarterly file's, after the
last month of its quarter). On a given date (the
setting `NQS_FRESHNESS_AS_OF`, default today) the expected latest month is therefore the last one
whose due date has passed, and a table whose latest landed month is older is overdue: its
`freshness` check warns in the Dagster UI with both months as metadata. The check never blocks a
build, since late data is still worth publishing.

A table whose files each cover a quarter or a financial year (`SourceTable.months_per_file`) names
each file after its period's first month, so the month expected is the first month of the latest such
period whose file was due: an annual return with a lag of 8 expects the file of April 2024 (the year
to March 2025) from December 2025 on, and April 2025's only from December 2026.

The checks run after landing in every refresh, and on their own in the `check_source_freshness`
job, which the daily `daily_source_freshness` schedule (off by default) starts, so a collection that
stops delivering shows as overdue even when nothing new arrives to start a build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from contracts.sources import SOURCE_TABLES, SourceTable, latest_period_ended_by
from nqs.landing.paths import landed_paths
from nqs.settings import get_settings
from orchestration.lib.dbt import landed_asset_key

FRESHNESS_CHECK = "freshness"
FRESHNESS_JOB = "check_source_freshness"
#: `month=2025-05` (a Hive partition folder) or a stem ending in the month (`events_2025-05`).
_PARTITION = re.compile(r"month=(\d{4})-(\d{2})")
_STEM_MONTH = re.compile(r"(\d{4})-(\d{2})(?!.*\d{4}-\d{2})")


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def expected_month(table: SourceTable, on: date) -> date:
    """The month naming the latest file due by `on`.

    A file is due by the end of the month `lag` months after the last month it covers. A monthly
    file covers the month in its name; a quarterly (`months_per_file` 3) or annual (12) one the
    quarter or financial year starting with it, so it is due only once that period's last month is
    `lag` months past.
    """
    last_due = _shift(on.replace(day=1), -(table.delivery_lag_months or 0) - 1)
    return latest_period_ended_by(last_due, table.months_per_file)


def file_month(path: Path) -> date | None:
    """The month a landed file covers, from its partition folder or else its name; None if neither."""
    for part in reversed(path.parent.parts):
        if match := _PARTITION.fullmatch(part):
            return date(int(match[1]), int(match[2]), 1)
    match = _STEM_MONTH.search(path.stem)
    return date(int(match[1]), int(match[2]), 1) if match else None


def latest_landed_month(table: SourceTable, landed_dir: Path) -> date | None:
    """The latest month with at least one accepted row landed; None when no month has any."""
    folder, _ = landed_paths(table, landed_dir)
    months = (
        file_month(path)
        for path in folder.rglob("*.parquet")
        if pq.read_metadata(path).num_rows > 0  # a refused file leaves an empty output
    )
    return max((m for m in months if m is not None), default=None)


@dataclass(frozen=True)
class Freshness:
    table: SourceTable
    as_of: date
    latest: date | None
    expected: date

    @property
    def months_overdue(self) -> int:
        latest = self.latest or _shift(self.expected, -1)
        behind = (self.expected.year - latest.year) * 12 + self.expected.month - latest.month
        return max(0, behind)

    @property
    def is_fresh(self) -> bool:
        return self.latest is not None and self.latest >= self.expected

    @property
    def description(self) -> str:
        name = f"{self.table.source}/{self.table.table}"
        if self.latest is None:
            return f"{name}: no month landed; {self.expected:%Y-%m} was due by {self.as_of:%Y-%m-%d}"
        if self.is_fresh:
            return f"{name}: up to date to {self.latest:%Y-%m} (due: {self.expected:%Y-%m})"
        return (
            f"{name}: overdue by {self.months_overdue} month(s): latest landed {self.latest:%Y-%m}, "
            f"{self.expected:%Y-%m} was due by {self.as_of:%Y-%m-%d}"
        )


def freshness(table: SourceTable, landed_dir: Path, as_of: date) -> Freshness:
    return Freshness(table, as_of, latest_landed_month(table, landed_dir), expected_month(table, as_of))


_PERIOD_NAMES = {1: "month", 3: "quarter", 12: "financial year"}


def _freshness_check(table: SourceTable) -> dg.AssetChecksDefinition:
    lag = table.delivery_lag_months

    @dg.asset_check(
        asset=landed_asset_key(table.source, table.table),
        name=FRESHNESS_CHECK,
        blocking=False,
        description=f"Warns when the latest month landed is older than the month due by now: each "
        f"{_PERIOD_NAMES[table.months_per_file]}'s file is due {lag} month(s) after it ends "
        "(`delivery_lag_months` and `months_per_file` in contracts/sources.py).",
    )
    def _check() -> dg.AssetCheckResult:
        settings = get_settings()
        result = freshness(table, settings.landed_dir, settings.freshness_date)
        return dg.AssetCheckResult(
            passed=result.is_fresh,
            severity=dg.AssetCheckSeverity.WARN,
            description=result.description,
            metadata={
                "latest_month": result.latest.strftime("%Y-%m") if result.latest else "none",
                "expected_month": result.expected.strftime("%Y-%m"),
                "months_overdue": result.months_overdue,
                "delivery_lag_months": lag,
                "months_per_file": table.months_per_file,
                "as_of": result.as_of.isoformat(),
            },
        )

    return _check


#: One check per table whose files cover a month (the organisations reference covers none).
freshness_checks = [_freshness_check(t) for t in SOURCE_TABLES if t.delivery_lag_months is not None]

check_source_freshness = dg.define_asset_job(
    FRESHNESS_JOB,
    selection=dg.AssetSelection.checks(*freshness_checks),
    description="Evaluate every source's freshness check, without landing or building anything.",
)

daily_source_freshness = dg.ScheduleDefinition(
    name="daily_source_freshness",
    job=check_source_freshness,
    cron_schedule="0 7 * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Check every morning which sources are overdue, whether or not anything was delivered.",
)
