"""The files that carry the lineage into dbt, generated from the contract registry and the seeds.

- `seeds/source_tables.csv`: the contract registry (`contracts.sources.SOURCE_TABLES`) as a seed, the
  warehouse's one copy of it (families of check results, metrics traced to contracts).
- `dbt_project/models/exposures/_priorities__exposures.yml`: one dbt exposure per priority of the
  strategy version the seeds mark active, depending on the models its metrics come from, so
  `dbt build --select +exposure:<priority>` rebuilds and tests what it rests on.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml

from contracts.sources import SOURCE_TABLES
from nqs.catalogue import Strategy, load_strategy, seed_active_version
from nqs.codegen import header
from nqs.settings import DBT_PROJECT_DIR, SEEDS_DIR

SOURCE_TABLES_SEED = SEEDS_DIR / "source_tables.csv"
EXPOSURES_FILE = DBT_PROJECT_DIR / "models" / "exposures" / "_priorities__exposures.yml"
#: marts that describe the priorities themselves; every exposure depends on them
STRATEGY_MARTS = ("dim_priorities", "metric_lineage", "priority_coverage")
SOURCE_TABLE_COLUMNS = (
    "source",
    "table_name",
    "source_family",
    "contract",
    "contract_version",
    "file_glob",
    "description",
)


def source_table_rows() -> list[dict[str, str]]:
    """One row per registered source table (its current contract version), for the seed."""
    return [
        {
            "source": t.source,
            "table_name": t.table,
            "source_family": t.family,
            "contract": t.model.__name__,
            "contract_version": t.version,
            "file_glob": t.file_glob,
            "description": " ".join(t.description.split()),
        }
        for t in SOURCE_TABLES
    ]


def render_source_tables_seed() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SOURCE_TABLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(source_table_rows())
    return out.getvalue()


def metric_models_for_sources(sources: list[str], manifest: dict[str, Any]) -> list[str]:
    """The models that compute metrics from these source folders: each folder's `int_metrics__<source>`
    and the staging models of its tables (medians and means are read from staging).

    Not the roll-ups or metric_values: they combine every source, so an exposure that depended on
    them would pull every source into every priority.
    """
    names = {node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    wanted = [f"int_metrics__{source}" for source in sources]
    wanted += [f"stg_{table.source}__{table.table}" for table in SOURCE_TABLES if table.source in sources]
    return sorted(name for name in wanted if name in names)


def render_exposures(strategy: Strategy, manifest: dict[str, Any]) -> str:
    """One dbt exposure per priority of `strategy`, depending on the models its metrics come from."""
    exposures = []
    for priority in strategy.priorities:
        metric_ids = strategy.all_metrics_for(priority.priority_id)
        sources = sorted({s for m in metric_ids if (metric := strategy.metric(m)) for s in metric.sources})
        models = metric_models_for_sources(sources, manifest) + ["dim_metrics", *STRATEGY_MARTS]
        exposures.append(
            {
                "name": priority.priority_id,
                "label": priority.title,
                "type": "analysis",
                "maturity": "medium" if metric_ids else "low",
                "description": f"{priority.description} Strategy {strategy.version}, "
                + (
                    "a quality domain"
                    if priority.level == "domain"
                    else f"{priority.level.replace('_', '-')} in {strategy.domain_of(priority.priority_id)}"
                )
                + "; evidenced by "
                + (", ".join(metric_ids) if metric_ids else "no metric yet")
                + ".",
                "owner": {"name": "National quality strategy team"},
                "depends_on": [f"ref('{model}')" for model in dict.fromkeys(models)],
                "config": {
                    "meta": {
                        "strategy_version": strategy.version,
                        "level": priority.level,
                        "domain": strategy.domain_of(priority.priority_id),
                        "metrics": metric_ids,
                        "sources": sources,
                    }
                },
            }
        )
    source = (
        "seeds/priorities.csv, seeds/metric_priorities.csv and seeds/metric_catalogue.csv "
        "(active strategy version)"
    )
    return f"# {header(source)}\n" + yaml.safe_dump(
        {"version": 2, "exposures": exposures}, sort_keys=False, width=100, allow_unicode=True
    )


def source_tables_files() -> dict[Path, str]:
    return {SOURCE_TABLES_SEED: render_source_tables_seed()}


def exposures_files() -> dict[Path, str]:
    """The exposures follow the version the seeds mark active, not a per-run override."""
    from nqs.dbt_manifest import load_manifest

    strategy = load_strategy(version=seed_active_version())
    return {EXPOSURES_FILE: render_exposures(strategy, load_manifest())}
