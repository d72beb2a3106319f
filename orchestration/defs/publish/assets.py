"""Publishing: BI users read a serving copy that only a complete, tested build replaces.

The build database is copied beside the published one and swapped in with an atomic rename, so a
reader sees either the previous warehouse or the new one, never a half-built one. If any upstream
step or blocking check fails, this asset does not run and the previous warehouse stays published.
"""

import os
import shutil

import dagster as dg

from nqs.catalogue import load_strategy
from nqs.dbt_manifest import PUBLISHED_SCHEMA, published_dbt_tables
from nqs.settings import get_settings
from orchestration.defs.benchmarking.assets import BENCHMARKING_MARTS
from orchestration.defs.metrics.assets import priority_asset_key
from orchestration.lib.warehouse import BUILD_DB_TAGS

MARTS = [
    "metric_values",
    "metric_catalogue",
    "priorities",
    "metric_lineage",
    "quarantined_rows",
    "data_quality_results",
]
MARTS += BENCHMARKING_MARTS
#: the published schema, which the copy must hold complete: dbt's tables and the benchmarking's
PUBLISHED = [*published_dbt_tables(), *BENCHMARKING_MARTS]


@dg.asset(
    key=dg.AssetKey(["published", "warehouse"]),
    deps=[dg.AssetKey(["marts", m]) for m in MARTS]
    + [dg.AssetKey([PUBLISHED_SCHEMA, t]) for t in PUBLISHED]
    + [priority_asset_key(p.priority_id) for p in load_strategy().priorities],
    group_name="published",
    kinds={"duckdb"},
    op_tags=BUILD_DB_TAGS,
)
def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The DuckDB file BI tools query (`data/warehouse.duckdb`), replaced whole after a good build."""
    settings = get_settings()
    build, target = settings.build_db, settings.published_db
    with settings.connect(build) as db:
        db.execute("checkpoint")
        counts = {
            m: db.execute(f"select count(*) from marts.{m}").fetchone()[0]  # noqa: S608 - fixed names
            for m in MARTS
        }
    staged = target.with_suffix(".duckdb.publishing")
    shutil.copyfile(build, staged)
    os.replace(staged, target)
    context.log.info(f"published {target}")
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(target)), **{f"rows_{k}": v for k, v in counts.items()}}
    )
