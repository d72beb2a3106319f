"""Publishing: each complete, tested build becomes an immutable release, then the one BI tools read.

Three steps, in order (nqs/releases.py does the work):

1. `published/release` stages `data/releases/<release_id>/` from the build file: the published file
   (schema `published` only, with the release's own metadata tables), the internal file of unrounded
   marts, and the exports. It is complete on disk but not yet current.
2. `published/board_report` writes the board report into the staged release.
3. `published/current` switches `data/releases/current` to it atomically and prunes old releases.

If any upstream step or blocking check fails, none of these runs, or `current` is not moved: BI tools
keep reading the previous release, and the next build removes what a failed one staged.
"""

from pathlib import Path

import dagster as dg

from nqs.catalogue import load_strategy
from nqs.dbt_manifest import PUBLISHED_SCHEMA, published_dbt_tables
from nqs.releases import (
    BOARD_REPORT_FILE,
    REPORT_DIR,
    WAREHOUSE_FILE,
    link_legacy_path,
    pending_release,
    prune,
    stage_release,
    switch_current,
)
from nqs.report import write_board_report
from nqs.settings import get_settings
from orchestration.defs.benchmarking.assets import BENCHMARKING_MARTS, table_key
from orchestration.defs.metrics.assets import priority_asset_key
from orchestration.lib.warehouse import BUILD_DB_TAGS

#: Marts copied, unrounded, into each release's internal file.
MARTS = [
    "metric_values",
    "metric_values_by_deprivation",
    "metric_catalogue",
    "priorities",
    "priority_coverage",
    "metric_lineage",
    "data_quality_results",
    "metric_values_by_ethnicity",
]
RELEASE_KEY = dg.AssetKey([PUBLISHED_SCHEMA, "release"])
BOARD_REPORT_KEY = dg.AssetKey([PUBLISHED_SCHEMA, "board_report"])
CURRENT_KEY = dg.AssetKey([PUBLISHED_SCHEMA, "current"])
#: Every table of schema published, which a release copies: dbt's and the benchmarking's.
PUBLISHED = [*published_dbt_tables(), *BENCHMARKING_MARTS]


@dg.asset(
    key=RELEASE_KEY,
    deps=[table_key(t, PUBLISHED_SCHEMA) for t in PUBLISHED]
    + [table_key(m) for m in [*MARTS, *BENCHMARKING_MARTS]]
    + [priority_asset_key(p.priority_id) for p in load_strategy().priorities],
    group_name=PUBLISHED_SCHEMA,
    kinds={"duckdb", "parquet"},
    op_tags=BUILD_DB_TAGS,
)
def release(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """A new release staged in `data/releases/<release_id>/`: the published DuckDB file (schema
    `published` only), the internal file (schema `unrounded`) and the exports. Not yet current."""
    staged = stage_release(get_settings())
    for column in staged.undescribed:
        context.log.warning(f"published column without a description: {column}")
    context.log.info(f"staged release {staged.release_id} in {staged.path}")
    return dg.MaterializeResult(
        metadata={
            "release_id": staged.release_id,
            "path": dg.MetadataValue.path(str(staged.path)),
            "undescribed_columns": len(staged.undescribed),
            **{f"rows_{table}": rows for table, rows in sorted(staged.row_counts.items())},
        }
    )


@dg.asset(key=BOARD_REPORT_KEY, deps=[RELEASE_KEY], group_name=PUBLISHED_SCHEMA, kinds={"html"})
def board_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The board report of the release this run staged (`report/board_report.html` in it), written
    before the release becomes current, from its own published file (nqs.report)."""
    staged = _staged_release()
    report = write_board_report(staged / WAREHOUSE_FILE, staged / REPORT_DIR / BOARD_REPORT_FILE)
    context.log.info(f"board report of release {staged.name}: {report.path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.path)),
            "release_id": staged.name,
            "priorities": report.priorities,
            "metrics": report.metrics,
            "charts": report.charts,
            "active_alerts": report.active_alerts,
            "suppressed_cells": report.suppressed_cells,
            "bytes": report.bytes,
        }
    )


def _staged_release() -> Path:
    """The release this run staged and has not switched to yet."""
    releases_dir = get_settings().releases_dir
    release_id = pending_release(releases_dir)
    if release_id is None:
        raise dg.Failure(description=f"no staged release in {releases_dir}")
    return releases_dir / release_id


@dg.asset(key=CURRENT_KEY, deps=[BOARD_REPORT_KEY], group_name=PUBLISHED_SCHEMA, kinds={"duckdb"})
def current(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """`data/releases/current` switched to the release this run staged, atomically; then only the
    newest NQS_RELEASES_KEPT releases are kept (never the current one)."""
    settings = get_settings()
    releases_dir = settings.releases_dir
    release_id = _staged_release().name
    switch_current(releases_dir, release_id)
    link_legacy_path(settings)
    pruned = prune(releases_dir, settings.releases_kept)
    context.log.info(f"current release: {release_id}; pruned {', '.join(pruned) or 'none'}")
    return dg.MaterializeResult(
        metadata={
            "release_id": release_id,
            "path": dg.MetadataValue.path(str(settings.published_db)),
            "kept": settings.releases_kept,
            "pruned": ", ".join(pruned) or "none",
        }
    )
