"""Landing: every source table's files pass through their contract into the landed zone.

One asset per source table is generated from the contract registry, so a data engineer adds a
source by registering its contract, never by writing an asset. Each landing step writes three
outputs (accepted rows, quarantined rows, the result of every check on every file) and reports its
contract result as an asset check.

A file that fails critically (a missing column, an empty file...) refuses the whole table: the
accepted rows are not materialised, so everything downstream of them is skipped, while the
quarantine and the check results still are, so the failure reaches `marts.data_quality_results`.
The run then fails on that mart's `no_critical_failures` check and nothing is published.

Every table whose files cover a month is partitioned by it (`MONTHS`, Hive folders `month=YYYY-MM`
in the landed zone), with a single-run backfill policy, so a range of months (a backfill, or
`nqs build` over many months) is one run. A run over a partition range lands the files of those
months that are new or changed since they were last landed (by content hash, in the ledger
`nqs.landing.ledger`) and removes the outputs of files withdrawn from them; a run with no partition
does the same for every month. With the op config `full_refresh: true` every file in range is
landed again. The contract check and the summary's row counts describe the whole table as landed,
so a file refused in an earlier month keeps the table refused until it is corrected.
"""

from datetime import date
from functools import cache

import dagster as dg
import polars as pl
import yaml

from contracts.sources import SOURCE_TABLES, SourceTable
from nqs.landing.land import land_source_table
from nqs.landing.ledger import read_ledger
from nqs.landing.paths import checks_path, is_monthly, landed_paths, parquet_files
from nqs.settings import DBT_PROJECT_DIR, get_settings
from orchestration.lib.changes import landing_fingerprint
from orchestration.lib.dbt import (
    check_results_asset_key,
    landed_asset_key,
    quarantine_asset_key,
    source_files_asset_key,
)
from orchestration.lib.retries import TRANSIENT_RETRY_POLICY, transient_only

CONTRACT_CHECK = "contract"
RECONCILE_CHECK = "rows_reconcile"


@cache
def calendar_start_month() -> str:
    """The first month of the calendar dbt's `dim_periods` spans (dbt_project.yml `calendar_start_date`)."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return str(project["vars"]["calendar_start_date"])[:7]


#: One partition per month a file can cover: from the calendar's first month to the current one.
MONTHS = dg.MonthlyPartitionsDefinition(start_date=calendar_start_month(), fmt="%Y-%m", end_offset=1)


class LandingConfig(dg.Config):
    """Run config of a landing step."""

    full_refresh: bool = False  #: land every file in range again, changed or not


def _source_files_spec(table: SourceTable) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=source_files_asset_key(table.source, table.table),
        description=f"Files `{table.file_glob}` in the `{table.source}` folder of the sources directory, "
        f"as the national collection delivers them. {table.description}",
        group_name="source_files",
        kinds={"csv"},
        metadata={"source": table.source, "family": table.family, "file_glob": table.file_glob},
    )


def _landing_asset(table: SourceTable) -> dg.AssetsDefinition:
    landed_key = landed_asset_key(table.source, table.table)
    upstream = source_files_asset_key(table.source, table.table)

    monthly = is_monthly(table)

    @dg.multi_asset(
        name=f"land_{table.source}__{table.table}",
        partitions_def=MONTHS if monthly else None,
        backfill_policy=dg.BackfillPolicy.single_run() if monthly else None,
        specs=[
            dg.AssetSpec(
                key=landed_key,
                deps=[upstream],
                description=f"Rows of `{table.source}/{table.table}` accepted by contract "
                f"{table.model.__name__} ({table.version}), identifiers pseudonymised. Not "
                "materialised when a file fails critically, so nothing downstream builds on it.",
                group_name="landed",
                kinds={"parquet", "pandera"},
                skippable=True,
            ),
            dg.AssetSpec(
                key=quarantine_asset_key(table.source, table.table),
                deps=[upstream],
                description=f"Rows of `{table.source}/{table.table}` the contract rejected, each with its "
                "file, row number, column, check, severity and the original row.",
                group_name="landed",
                kinds={"parquet"},
            ),
            dg.AssetSpec(
                key=check_results_asset_key(table.source, table.table),
                deps=[upstream],
                description=f"Every check of contract {table.model.__name__} on every file of "
                f"`{table.source}/{table.table}`: category, severity, rows checked and rows failed.",
                group_name="landed",
                kinds={"parquet"},
            ),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                CONTRACT_CHECK,
                asset=landed_key,
                description=f"Contract {table.model.__name__} {table.version}: fails on any quarantined row "
                "(warning) or a whole-file failure (error).",
            )
        ],
        retry_policy=TRANSIENT_RETRY_POLICY,
    )
    @transient_only
    def _land(context: dg.AssetExecutionContext, config: LandingConfig):
        settings = get_settings()
        months = None
        if monthly and context.has_partition_key_range:
            months = set(context.partition_keys)
        results = land_source_table(
            table,
            settings.sources_dir,
            settings.landed_dir,
            pseudonym_key=settings.landing_key(),  # refuses non-synthetic sources without a key
            today=date.today(),
            months=months,
            only_changed=not config.full_refresh,
            landing_fingerprint=landing_fingerprint(settings),
            files_per_worker=settings.landing_files_per_worker,
        )
        landed = read_ledger(table, settings.landed_dir).landed
        rows_read = sum(e["rows_read"] for e in landed.values())
        accepted = sum(e["rows_accepted"] for e in landed.values())
        quarantined = sum(e["rows_quarantined"] for e in landed.values())
        critical = [e["critical_error"] for _, e in sorted(landed.items()) if e["critical_error"]]
        accepted_dir, quarantine_dir = landed_paths(table, settings.landed_dir)
        failures = _failures_by_check(quarantine_dir)
        summary = {
            "files": len(landed),
            "rows_read": rows_read,
            "rows_accepted": accepted,
            "rows_quarantined": quarantined,
        }
        landed_now = {
            "files_landed": len(results),
            "months": _span(months),
        }
        yield dg.AssetCheckResult(
            check_name=CONTRACT_CHECK,
            asset_key=landed_key,
            passed=not critical and quarantined == 0,
            severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
            metadata={
                **summary,
                **landed_now,
                "failures_by_check": failures,
                "critical_errors": "\n".join(critical),
            },
        )
        yield dg.MaterializeResult(
            asset_key=quarantine_asset_key(table.source, table.table),
            metadata={"rows_quarantined": quarantined, "failures_by_check": failures},
        )
        checks = _scan(checks_path(table, settings.landed_dir))
        yield dg.MaterializeResult(
            asset_key=check_results_asset_key(table.source, table.table),
            metadata={
                "files": len(landed),
                "checks_run": checks.select(pl.len()).collect().item() if checks is not None else 0,
                "checks_with_failures": checks.filter(pl.col("rows_failed") > 0)
                .select(pl.len())
                .collect()
                .item()
                if checks is not None
                else 0,
                "path": dg.MetadataValue.path(str(checks_path(table, settings.landed_dir))),
            },
        )
        if critical:
            # the accepted rows are not materialised: everything built on them is skipped
            for message in critical:
                context.log.error(message)
            return
        context.log.info(f"{table.source}/{table.table}: {summary}, {landed_now}")
        yield dg.MaterializeResult(
            asset_key=landed_key,
            metadata={
                **summary,
                **landed_now,
                "contract": table.model.__name__,
                "contract_version": table.version,
                "path": dg.MetadataValue.path(str(accepted_dir)),
                "files_read": dg.MetadataValue.md(
                    "\n".join(f"- `{r.source_file}`" for r in results) or "none"
                ),
            },
        )

    return _land


def _span(months: set[str] | None) -> str:
    """`2024-04 to 2026-03 (24 months)`, `2025-05`, or `every month` for a run with no partition."""
    if months is None:
        return "every month"
    first, last = min(months), max(months)
    return first if first == last else f"{first} to {last} ({len(months)} months)"


def _scan(folder) -> pl.LazyFrame | None:
    """Every parquet of one output folder of a table (all its partitions), None if it has none."""
    files = parquet_files(folder)
    return pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore") if files else None


def _failures_by_check(quarantine_dir) -> dict[str, int]:
    """Quarantined values of the whole table by column and check, most frequent first."""
    frame = _scan(quarantine_dir)
    if frame is None:
        return {}
    counts = (
        frame.group_by("column_name", "check_name")
        .agg(pl.len().alias("n"))
        .sort("n", descending=True)
        .collect()
    )
    return {f"{row['column_name']}: {row['check_name']}": row["n"] for row in counts.iter_rows(named=True)}


def _reconcile_check(table: SourceTable) -> dg.AssetChecksDefinition:
    landed_key = landed_asset_key(table.source, table.table)

    @dg.asset_check(
        asset=landed_key,
        name=RECONCILE_CHECK,
        blocking=True,
        description="Rows read = rows accepted + rows quarantined, recounted from the files written.",
    )
    def _reconcile(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        settings = get_settings()
        # rows read as landing recorded them per file (the ledger), recounted from every file written
        rows_read = sum(e["rows_read"] for e in read_ledger(table, settings.landed_dir).landed.values())
        accepted_dir, quarantine_dir = landed_paths(table, settings.landed_dir)
        accepted = _count_parquet(accepted_dir, distinct=None)
        quarantined = _count_parquet(quarantine_dir, distinct=["source_file", "row_number"])
        return dg.AssetCheckResult(
            passed=rows_read == accepted + quarantined,
            metadata={"rows_read": rows_read, "rows_accepted": accepted, "rows_quarantined": quarantined},
        )

    return _reconcile


def _count_parquet(folder, distinct: list[str] | None) -> int:
    # files landed under different contract versions differ in columns; only rows are counted here
    frame = _scan(folder)
    if frame is None:
        return 0
    if distinct:
        # minor findings are recorded in the quarantine but their rows were accepted
        frame = frame.filter(pl.col("severity") != "minor").select(distinct).unique()
    return frame.select(pl.len()).collect().item()


source_file_specs = [_source_files_spec(t) for t in SOURCE_TABLES]
landing_assets = [_landing_asset(t) for t in SOURCE_TABLES]
reconcile_checks = [_reconcile_check(t) for t in SOURCE_TABLES]


def landing_run_config(*, full_refresh: bool) -> dict:
    """The run config of every landing step: land every file in range again, or only the changed."""
    return {a.node_def.name: {"config": {"full_refresh": full_refresh}} for a in landing_assets}


def partition_range_tags(months: set[str | None]) -> dict[str, str]:
    """Tags running the landing steps over the months from the first to the last of `months`.

    None of them (and so a run of every month, changed files only) when a month is None (a file
    naming none) or outside `MONTHS`, or when there are no months.
    """
    keys = set(MONTHS.get_partition_keys())
    if not months or not months <= keys:
        return {}
    return {
        "dagster/asset_partition_range_start": min(months),
        "dagster/asset_partition_range_end": max(months),
    }
