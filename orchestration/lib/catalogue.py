"""Reads the metric catalogue, priorities and their mapping from the seeds: the one definition.

Dagster builds one asset per metric and per priority from these files, so a new metric or a
re-organised strategy changes the asset graph without a code change.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from orchestration.lib.settings import SEEDS_DIR


@dataclass(frozen=True)
class Metric:
    metric_id: str
    title: str
    description: str
    domain: str
    unit: str
    improvement_direction: str
    source_family: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Priority:
    priority_id: str
    parent_priority_id: str | None
    level: str
    title: str
    description: str


@dataclass(frozen=True)
class Strategy:
    version: str
    metrics: tuple[Metric, ...]
    priorities: tuple[Priority, ...]
    #: (metric_id, priority_id, role) for the active version
    mapping: tuple[tuple[str, str, str], ...]

    def metrics_for(self, priority_id: str) -> list[str]:
        return [m for m, p, _ in self.mapping if p == priority_id]

    def children_of(self, priority_id: str) -> list[str]:
        return [p.priority_id for p in self.priorities if p.parent_priority_id == priority_id]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def load_strategy(seeds_dir: Path = SEEDS_DIR) -> Strategy:
    """The active strategy version with its priorities and metric mapping."""
    versions = _rows(seeds_dir / "strategy_versions.csv")
    active = [v["strategy_version"] for v in versions if v["status"] == "active"]
    if len(active) != 1:
        raise ValueError(f"seeds/strategy_versions.csv must mark exactly one version active, found {active}")
    version = active[0]
    metrics = tuple(
        Metric(
            metric_id=r["metric_id"],
            title=r["title"],
            description=r["description"],
            domain=r["domain"],
            unit=r["unit"],
            improvement_direction=r["improvement_direction"],
            source_family=r["source_family"],
            sources=tuple(r["sources"].split()),
        )
        for r in _rows(seeds_dir / "metric_catalogue.csv")
    )
    priorities = tuple(
        Priority(
            priority_id=r["priority_id"],
            parent_priority_id=r["parent_priority_id"] or None,
            level=r["level"],
            title=r["title"],
            description=r["description"],
        )
        for r in _rows(seeds_dir / "priorities.csv")
        if r["strategy_version"] == version
    )
    mapping = tuple(
        (r["metric_id"], r["priority_id"], r["role"])
        for r in _rows(seeds_dir / "metric_priorities.csv")
        if r["strategy_version"] == version
    )
    return Strategy(version=version, metrics=metrics, priorities=priorities, mapping=mapping)
