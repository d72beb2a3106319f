"""New or corrected source files start a run by themselves; off until an operator turns it on.

`source_files_changed` hashes every delivered file of every registered table (sha256 of its content,
never its modification time) and compares them with its cursor: the hashes it last requested a run
for (on its first tick, the hashes the landing ledger recorded, so files already landed start
nothing). When a file is new, changed or removed, it requests one run of `refresh_warehouse` over
the range of months those files cover; that run lands exactly the new or changed files (landing
skips a file whose hash it has already landed) and passes dbt those months. A change to a file
naming no month (the organisations reference) requests a run of every month, which the dbt steps
turn into a full refresh. The file sensor is stopped by default, like the monthly schedule.

`record_successful_build` (running by default: it starts nothing) records in the ledger that a
successful `refresh_warehouse` run built what was landed, as `nqs build` does after its own runs,
so the next build rebuilds only what changed after it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from contracts.sources import SOURCE_TABLES
from nqs.landing.ledger import read_ledger, sha256_file
from nqs.landing.paths import delivered_files, file_month, is_file_of, is_monthly, source_file_name
from nqs.settings import get_settings
from orchestration.defs.automation.schedules import refresh_everything
from orchestration.defs.ingest.landing import landing_run_config, partition_range_tags
from orchestration.defs.transform.dbt import dbt_run_config
from orchestration.lib.changes import pending_months, record_successful_build

SENSOR = "source_files_changed"
#: Hashing every delivered file reads them all: at national volumes several gigabytes, so not often.
INTERVAL_SECONDS = 600


def changed_months(files: list[str]) -> set[str | None]:
    """The months the files (source/name, as the ledger records them) of monthly tables cover; None
    for such a file whose name gives no month. Files of the organisations reference cover none."""
    months: set[str | None] = set()
    for file in files:
        source, name = file.split("/", 1) if "/" in file else ("", file)
        tables = [t for t in SOURCE_TABLES if t.source == source and is_file_of(t, Path(name))]
        if any(is_monthly(t) for t in tables):
            months.add(file_month(Path(name)))
    return months


def delivered_hashes() -> dict[str, str]:
    """Every delivered file of every registered table -> the sha256 of its content."""
    settings = get_settings()
    return {
        source_file_name(path, settings.sources_dir): sha256_file(path)
        for table in SOURCE_TABLES
        for path in delivered_files(table, settings.sources_dir)
    }


def landed_hashes() -> dict[str, str]:
    """Every file the landing ledger records as landed -> its sha256 then."""
    landed_dir = get_settings().landed_dir
    return {
        name: entry["sha256"]
        for table in SOURCE_TABLES
        for name, entry in read_ledger(table, landed_dir).landed.items()
    }


@dg.sensor(
    name=SENSOR,
    job=refresh_everything,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests a run for exactly the source files new, changed or removed since it last looked "
    "(by content hash), over the months they cover.",
)
def source_files_changed(context: dg.SensorEvaluationContext):
    seen = json.loads(context.cursor) if context.cursor else landed_hashes()
    current = delivered_hashes()
    changed = sorted({f for f, sha in current.items() if seen.get(f) != sha} | (seen.keys() - current.keys()))
    if not changed:
        return dg.SkipReason("no source file is new, changed or removed")
    months = changed_months(changed)  # None among them: a run of every month
    context.update_cursor(json.dumps(current, sort_keys=True))
    key = hashlib.sha256(json.dumps({f: current.get(f) for f in changed}, sort_keys=True).encode())
    return dg.RunRequest(
        run_key=key.hexdigest(),
        run_config={
            "ops": {
                **landing_run_config(full_refresh=False),
                **dbt_run_config(full_refresh=False, changed_months=months | pending_months(get_settings())),
            }
        },
        tags={**partition_range_tags(months), "nqs/changed_files": str(len(changed))},
    )


@dg.run_status_sensor(
    name="record_successful_build",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[refresh_everything],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records in the landing ledger that a successful refresh built what was landed.",
)
def record_successful_build_sensor(context: dg.RunStatusSensorContext):
    record_successful_build(get_settings())
