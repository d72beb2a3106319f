"""Landing: every source table's files pass through their contract into the landed zone.

One asset per source table is generated from the contract registry, so a data engineer adds a
source by registering its contract, never by writing an asset. Each landing step writes three
outputs (accepted rows, quarantined rows, the result of every check on every file) and reports its
contract result as an asset check.

A file that fails critically (a missing column, an empty file...) refuses the whole table: the
accepted rows are not materialised, so everything downstream of them is skipped, while the
quarantine and the check results still are, so the failure reaches `marts.data_quality_results`.
The run then fails on that mart's `no_critical_failures` check and nothing is published.
"""

from datetime import date

import dagster as dg
import polars as pl

from contracts.sources import SOURCE_TABLES, SourceTable
from nqs.landing.land import land_source_table
from nqs.landing.paths import checks_path
from nqs.settings import get_settings
from orchestration.lib.dbt import (
    check_results_asset_key,
    landed_asset_key,
    quarantine_asset_key,
    source_files_asset_key,
)
from orchestration.lib.retries import TRANSIENT_RETRY_POLICY, transient_only

CONTRACT_CHECK = "contract"
RECONCILE_CHECK = "rows_reconcile"


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

    @dg.multi_asset(
        name=f"land_{table.source}__{table.table}",
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
    def _land(context: dg.AssetExecutionContext):
        settings = get_settings()
        results = land_source_table(
            table,
            settings.sources_dir,
            settings.landed_dir,
            pseudonym_key=settings.landing_key(),  # refuses non-synthetic sources without a key
            today=date.today(),
        )
        rows_read = sum(r.rows_read for r in results)
        accepted = sum(r.rows_accepted for r in results)
        quarantined = sum(r.rows_quarantined for r in results)
        critical = [r.critical_error for r in results if r.critical_error]
        failures = _failures_by_check(results)
        summary = {
            "files": len(results),
            "rows_read": rows_read,
            "rows_accepted": accepted,
            "rows_quarantined": quarantined,
        }
        yield dg.AssetCheckResult(
            check_name=CONTRACT_CHECK,
            asset_key=landed_key,
            passed=not critical and quarantined == 0,
            severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
            metadata={**summary, "failures_by_check": failures, "critical_errors": "\n".join(critical)},
        )
        yield dg.MaterializeResult(
            asset_key=quarantine_asset_key(table.source, table.table),
            metadata={"rows_quarantined": quarantined, "failures_by_check": failures},
        )
        checks = pl.concat([r.checks for r in results]) if results else None
        yield dg.MaterializeResult(
            asset_key=check_results_asset_key(table.source, table.table),
            metadata={
                "files": len(results),
                "checks_run": checks.height if checks is not None else 0,
                "checks_with_failures": checks.filter(pl.col("rows_failed") > 0).height
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
        context.log.info(f"{table.source}/{table.table}: {summary}")
        yield dg.MaterializeResult(
            asset_key=landed_key,
            metadata={
                **summary,
                "contract": table.model.__name__,
                "contract_version": table.version,
                "path": dg.MetadataValue.path(str(settings.landed_dir / table.source / table.table)),
                "files_read": dg.MetadataValue.md(
                    "\n".join(f"- `{r.source_file}`" for r in results) or "none"
                ),
            },
        )

    return _land


def _failures_by_check(results) -> dict[str, int]:
    frames = [r.quarantine for r in results if r.quarantine.height]
    if not frames:
        return {}
    counts = (
        pl.concat(frames, how="diagonal_relaxed")
        .group_by("column_name", "check_name")
        .agg(pl.len().alias("n"))
        .sort("n", descending=True)
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
        event = context.instance.get_latest_materialization_event(landed_key)
        rows_read = event.asset_materialization.metadata["rows_read"].value if event else None
        accepted = _count_parquet(settings.landed_dir / table.source / table.table, distinct=None)
        quarantined = _count_parquet(
            settings.landed_dir / "_quarantine" / table.source / table.table,
            distinct=["source_file", "row_number"],
        )
        return dg.AssetCheckResult(
            passed=rows_read is not None and rows_read == accepted + quarantined,
            metadata={"rows_read": rows_read, "rows_accepted": accepted, "rows_quarantined": quarantined},
        )

    return _reconcile


def _count_parquet(folder, distinct: list[str] | None) -> int:
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return 0
    # files landed under different contract versions differ in columns; only rows are counted here
    frame = pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore")
    if distinct:
        # minor findings are recorded in the quarantine but their rows were accepted
        frame = frame.filter(pl.col("severity") != "minor").select(distinct).unique()
    return frame.select(pl.len()).collect().item()


source_file_specs = [_source_files_spec(t) for t in SOURCE_TABLES]
landing_assets = [_landing_asset(t) for t in SOURCE_TABLES]
reconcile_checks = [_reconcile_check(t) for t in SOURCE_TABLES]
