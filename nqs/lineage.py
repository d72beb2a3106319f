"""Lineage from source files to strategy priorities, read from the definitions, not from a build.

Three definitions meet here: the seeds (metric catalogue, strategy versions, priorities and the
metric-to-priority mapping), the contract registry (`contracts.sources.SOURCE_TABLES`) and the dbt
manifest (which models read which source table on the way to `marts.metric_values`). From them this
module answers impact questions (`nqs lineage`) and generates the two files that carry the same
lineage into dbt: `seeds/source_tables.csv` (the registry as a seed, so the warehouse can join
contracts) and one dbt exposure per priority of the active strategy version.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contracts.sources import SOURCE_TABLES, SourceTable
from nqs.catalogue import Strategy, load_strategy, load_strategy_versions
from nqs.settings import DBT_PROJECT_DIR, SEEDS_DIR

SOURCE_TABLES_SEED = SEEDS_DIR / "source_tables.csv"
EXPOSURES_FILE = DBT_PROJECT_DIR / "models" / "exposures" / "_priorities__exposures.yml"
#: the mart every metric's values end in
METRIC_VALUES_MODEL = "model.nqs.metric_values"
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


class UnknownName(LookupError):
    """A source, priority or metric named on the command line that the definitions do not know."""


# ---------------------------------------------------------------------------------------------
# Generated files
# ---------------------------------------------------------------------------------------------


def source_table_rows() -> list[dict[str, str]]:
    """One row per registered source table and contract version, for `seeds/source_tables.csv`."""
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


def load_manifest() -> dict[str, Any]:
    """The dbt manifest, parsed first if the project or seeds changed since the last parse."""
    from nqs.dbt_manifest import load_manifest as load

    return load()


def _source_node(table: SourceTable) -> str:
    return f"source.nqs.{table.source}.{table.table}"


def _descendants(node: str, child_map: dict[str, list[str]]) -> dict[str, int]:
    """Every node downstream of `node` with its distance from it (breadth first)."""
    seen: dict[str, int] = {}
    queue = deque([(node, 0)])
    while queue:
        current, depth = queue.popleft()
        for child in child_map.get(current, []):
            if child not in seen:
                seen[child] = depth + 1
                queue.append((child, depth + 1))
    return seen


def models_for_table(table: SourceTable, manifest: dict[str, Any]) -> list[str]:
    """dbt models from a source table to `metric_values`, nearest first (empty if it feeds no metric)."""
    downstream = _descendants(_source_node(table), manifest["child_map"])
    upstream = _descendants(METRIC_VALUES_MODEL, manifest["parent_map"])
    if METRIC_VALUES_MODEL not in downstream:
        return []
    path = [n for n in downstream if n in upstream and n.startswith("model.")] + [METRIC_VALUES_MODEL]
    path.sort(key=lambda n: downstream[n])
    return [manifest["nodes"][n]["name"] for n in path]


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
    header = (
        "# Generated by `nqs lineage --generate` from seeds/priorities.csv, seeds/metric_priorities.csv\n"
        "# and seeds/metric_catalogue.csv (active strategy version); edit the seeds, not this file.\n"
    )
    return header + yaml.safe_dump(
        {"version": 2, "exposures": exposures}, sort_keys=False, width=100, allow_unicode=True
    )


def _seed_active_strategy() -> Strategy:
    """The version the seeds mark active (exposures follow the seeds, not a per-run override)."""
    active = [v.strategy_version for v in load_strategy_versions() if v.status == "active"]
    return load_strategy(version=active[0] if len(active) == 1 else None)


def generated_files() -> dict[Path, str]:
    """Every generated file with the content it should have now."""
    files = {SOURCE_TABLES_SEED: render_source_tables_seed()}
    files[EXPOSURES_FILE] = render_exposures(_seed_active_strategy(), load_manifest())
    return files


def stale_generated_files() -> list[Path]:
    return [p for p, text in generated_files().items() if not p.exists() or p.read_text() != text]


def write_generated_files() -> list[Path]:
    """Write the generated files that changed; returns them."""
    written = []
    for path, text in generated_files().items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    return written


# ---------------------------------------------------------------------------------------------
# Impact analysis
# ---------------------------------------------------------------------------------------------


@dataclass
class LineageIndex:
    """Everything `nqs lineage` answers from: one strategy version, the registry, the manifest, files."""

    strategy: Strategy
    manifest: dict[str, Any]
    sources_dir: Path
    _models: dict[str, list[str]] = field(default_factory=dict)

    def table(self, table: SourceTable) -> dict[str, Any]:
        folder = self.sources_dir / table.source
        files = sorted(p.name for p in folder.glob(table.file_glob)) if folder.is_dir() else []
        if table.name not in self._models:
            self._models[table.name] = models_for_table(table, self.manifest)
        return {
            "source": table.source,
            "table": table.table,
            "source_family": table.family,
            "contract": table.model.__name__,
            "contract_version": table.version,
            "file_glob": table.file_glob,
            "folder": str(folder),
            "files": files,
            "models": self._models[table.name],
        }

    def metric_down(self, metric_id: str) -> dict[str, Any]:
        metric = self.strategy.metric(metric_id)
        assert metric is not None
        return {
            "metric_id": metric.metric_id,
            "title": metric.title,
            "domain": metric.domain,
            "source_family": metric.source_family,
            "sources": [
                {
                    "source": source,
                    "tables": [self.table(t) for t in SOURCE_TABLES if t.source == source],
                }
                for source in metric.sources
            ],
        }

    def priority_up(self, priority_id: str, role: str) -> dict[str, Any]:
        priority = self.strategy.priority(priority_id)
        return {
            "priority_id": priority_id,
            "title": priority.title if priority else priority_id,
            "level": priority.level if priority else "",
            "role": role,
            "ancestors": self.strategy.ancestors_of(priority_id),
        }

    def priority_tree(self, priority_id: str) -> dict[str, Any]:
        priority = self.strategy.priority(priority_id)
        assert priority is not None
        direct = [(m, r) for m, p, r in self.strategy.mapping if p == priority_id]
        return {
            "priority_id": priority.priority_id,
            "title": priority.title,
            "level": priority.level,
            "domain": self.strategy.domain_of(priority_id),
            "metrics": [{**self.metric_down(m), "role": role} for m, role in direct],
            "children": [self.priority_tree(c) for c in self.strategy.children_of(priority_id)],
        }


def _header(strategy: Strategy) -> dict[str, Any]:
    return {"strategy_version": strategy.version, "is_active_strategy": strategy.is_active}


def for_priority(index: LineageIndex, priority_id: str) -> dict[str, Any]:
    """The tree from a priority down to metrics, sources, contracts, files and models."""
    strategy = index.strategy
    if strategy.priority(priority_id) is None:
        known = ", ".join(p.priority_id for p in strategy.priorities)
        raise UnknownName(
            f"unknown priority '{priority_id}' in strategy version {strategy.version}; known: {known}"
        )
    metrics = strategy.all_metrics_for(priority_id)
    return {
        **_header(strategy),
        "priority": index.priority_tree(priority_id),
        "ancestors": strategy.ancestors_of(priority_id),
        "coverage": "covered" if metrics else "no metric",
    }


def for_metric(index: LineageIndex, metric_id: str) -> dict[str, Any]:
    """A metric's priorities (up) and its sources, contracts, files and models (down)."""
    strategy = index.strategy
    if strategy.metric(metric_id) is None:
        known = ", ".join(m.metric_id for m in strategy.metrics)
        raise UnknownName(f"unknown metric '{metric_id}'; known: {known}")
    return {
        **_header(strategy),
        "metric": index.metric_down(metric_id),
        "priorities": [index.priority_up(p, r) for p, r in strategy.roles(metric_id)],
    }


def for_source(index: LineageIndex, name: str) -> dict[str, Any]:
    """Every metric and priority that depends on a source (a folder, a family, or `source/table`)."""
    strategy = index.strategy
    source_name, _, table_name = name.partition("/")
    tables = [
        t
        for t in SOURCE_TABLES
        if (t.source == source_name and table_name in ("", t.table)) or (t.family == name)
    ]
    if not tables:
        folders = sorted({t.source for t in SOURCE_TABLES})
        families = sorted({t.family for t in SOURCE_TABLES})
        raise UnknownName(
            f"unknown source '{name}'; known sources: {', '.join(folders)}; families: {', '.join(families)}"
        )
    source_folders = {t.source for t in tables}
    metrics = [m for m in strategy.metrics if source_folders & set(m.sources)]
    affected: list[str] = []
    for metric in metrics:
        for priority_id, _ in strategy.roles(metric.metric_id):
            for p in [priority_id, *strategy.ancestors_of(priority_id)]:
                if p not in affected:
                    affected.append(p)
    return {
        **_header(strategy),
        "source": name,
        "tables": [index.table(t) for t in tables],
        "metrics": [
            {
                "metric_id": m.metric_id,
                "title": m.title,
                "priorities": [index.priority_up(p, r) for p, r in strategy.roles(m.metric_id)],
            }
            for m in metrics
        ],
        "priorities": [
            {"priority_id": p, "title": strategy.priority(p).title, "level": strategy.priority(p).level}
            for p in affected
            if strategy.priority(p)
        ],
    }


# ---------------------------------------------------------------------------------------------
# Readable tree
# ---------------------------------------------------------------------------------------------

Node = tuple[str, list["Node"]]


def _table_node(table: dict[str, Any]) -> Node:
    files = table["files"]
    if files:
        shown = f"{len(files)} file{'s' if len(files) != 1 else ''} in {table['folder']}: " + (
            files[0] if len(files) == 1 else f"{files[0]} .. {files[-1]}"
        )
    else:
        shown = f"no files yet matching {table['file_glob']} in {table['folder']}"
    children: list[Node] = [(f"files: {shown}", [])]
    if table["models"]:
        children.append(("models: " + " -> ".join(table["models"]), []))
    label = (
        f"table {table['source']}/{table['table']}  contract {table['contract']} "
        f"{table['contract_version']} ({table['source_family']})"
    )
    return label, children


def _metric_node(metric: dict[str, Any], role: str | None = None) -> Node:
    label = f"metric {metric['metric_id']}: {metric['title']}" + (f" [{role}]" if role else "")
    sources = [(f"source {s['source']}", [_table_node(t) for t in s["tables"]]) for s in metric["sources"]]
    return label, sources


def _priority_node(tree: dict[str, Any]) -> Node:
    label = f"{tree['level']} {tree['priority_id']}: {tree['title']}"
    children = [_metric_node(m, m["role"]) for m in tree["metrics"]]
    children += [_priority_node(c) for c in tree["children"]]
    if not children:
        children = [("no metric evidences this priority yet (a gap in the evidence)", [])]
    return label, children


def _up_label(p: dict[str, Any]) -> str:
    chain = " < ".join(p["ancestors"])
    label = f"{p['level']} {p['priority_id']}: {p['title']} [{p['role']}]"
    return label + (f"  (in {chain})" if chain else "")


def to_tree(kind: str, result: dict[str, Any]) -> Node:
    version = f"strategy {result['strategy_version']}, " + (
        "active" if result["is_active_strategy"] else "not active"
    )
    if kind == "priority":
        label, children = _priority_node(result["priority"])
        chain = " < ".join(result["ancestors"])
        return f"{label}  ({version}" + (f"; in {chain})" if chain else ")"), children
    if kind == "metric":
        label, down = _metric_node(result["metric"])
        up = [(_up_label(p), []) for p in result["priorities"]] or [("no priority in this version", [])]
        return f"{label}  ({version})", [("evidences", up), ("computed from", down)]
    tables = [_table_node(t) for t in result["tables"]]
    metrics = [
        (f"metric {m['metric_id']}: {m['title']}", [(_up_label(p), []) for p in m["priorities"]])
        for m in result["metrics"]
    ] or [("no metric depends on it", [])]
    priorities = [(f"{p['level']} {p['priority_id']}: {p['title']}", []) for p in result["priorities"]]
    return f"source {result['source']}  ({version})", [
        ("tables", tables),
        (f"metrics depending on it ({len(result['metrics'])})", metrics),
        (f"priorities depending on it ({len(result['priorities'])})", priorities or [("none", [])]),
    ]


def render_tree(node: Node) -> str:
    lines = [node[0]]

    def walk(children: list[Node], prefix: str) -> None:
        for i, (label, grandchildren) in enumerate(children):
            last = i == len(children) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{label}")
            walk(grandchildren, prefix + ("    " if last else "│   "))

    walk(node[1], "")
    return "\n".join(lines)


def build_index(strategy_version: str | None = None) -> LineageIndex:
    from nqs.settings import get_settings

    return LineageIndex(
        strategy=load_strategy(version=strategy_version),
        manifest=load_manifest(),
        sources_dir=get_settings().sources_dir,
    )
