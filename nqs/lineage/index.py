"""The lineage index: one strategy version, the contract registry, the dbt manifest and the files delivered.

`models_for_table` reads from the manifest which models lie on the way from a source table to
`marts.metric_values`; `LineageIndex` answers, per table, metric and priority, what the queries of
`nqs.lineage.queries` put together. Each delivered file is shown with the contract version it was
landed under (the landing ledger records it), or, for a file not landed yet, the version its header
would be landed under.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.sources import SOURCE_TABLES, SourceTable
from nqs.catalogue import Strategy, load_strategy

#: the mart every metric's values end in
METRIC_VALUES_MODEL = "model.nqs.metric_values"


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


@dataclass
class LineageIndex:
    """Everything `nqs lineage` answers from: one strategy version, the registry, the manifest, files."""

    strategy: Strategy
    manifest: dict[str, Any]
    sources_dir: Path
    landed_dir: Path | None = None  #: where the landing ledger is; None: no file counts as landed
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
            "contract_versions": {v.version: v.model.__name__ for v in table.versions},
            "file_glob": table.file_glob,
            "folder": str(folder),
            "files": files,
            "file_versions": self._file_versions(table, files),
            "models": self._models[table.name],
        }

    def _file_versions(self, table: SourceTable, files: list[str]) -> list[dict[str, Any]]:
        """Each file's contract version: as landed (the ledger), else as its header would land it."""
        from nqs.landing.ledger import read_ledger
        from nqs.landing.reading import read_header

        landed = read_ledger(table, self.landed_dir).landed if self.landed_dir else {}
        versions = []
        for name in files:
            entry = landed.get(f"{table.source}/{name}", {})
            version = entry.get("contract_version")
            if version is None:  # not landed (or by a landing that did not record it)
                version = table.contract_for_header(read_header(self.sources_dir / table.source / name))
                version = version.version
            versions.append({"file": name, "contract_version": version, "landed": bool(entry)})
        return versions

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


def build_index(strategy_version: str | None = None) -> LineageIndex:
    from nqs.settings import get_settings

    return LineageIndex(
        strategy=load_strategy(version=strategy_version),
        manifest=load_manifest(),
        sources_dir=get_settings().sources_dir,
        landed_dir=get_settings().landed_dir,
    )
