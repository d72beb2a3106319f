"""Impact questions over the lineage index: what depends on a source, what a priority or metric rests on."""

from __future__ import annotations

from typing import Any

from contracts.sources import SOURCE_TABLES
from nqs.catalogue import Strategy
from nqs.coverage import coverage_status
from nqs.lineage.index import LineageIndex


class UnknownName(LookupError):
    """A source, priority or metric named on the command line that the definitions do not know."""


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
        # from the definitions alone: no contract results or metric values are read here
        "coverage": coverage_status(metrics, set(metrics)),
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
