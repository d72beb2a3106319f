"""One asset per metric and per strategy priority, generated from the catalogue seeds.

The graph reads source files -> landed -> staging -> metric_values -> metric -> priority -> domain.
A priority with no metric still appears, with no upstream metric: that gap is reported, not hidden.
Each family of assets is computed in one step (a multi-asset), since each is one query.
"""

import dagster as dg

from orchestration.lib.catalogue import Strategy, load_strategy
from orchestration.lib.settings import get_settings
from orchestration.lib.warehouse import read_only

METRIC_VALUES = dg.AssetKey(["marts", "metric_values"])
HAS_VALUES = "has_values"


def metric_asset_key(metric_id: str) -> dg.AssetKey:
    return dg.AssetKey(["metrics", metric_id])


def priority_asset_key(priority_id: str) -> dg.AssetKey:
    return dg.AssetKey(["priorities", priority_id])


def coverage_status(metric_ids: list[str], with_values: set[str]) -> str:
    """How well a priority is evidenced: no metric, metrics without data, or covered."""
    if not metric_ids:
        return "no metric"
    if not set(metric_ids) <= with_values:
        return "metrics without data"
    return "covered"


def _metric_summaries() -> dict[str, dict]:
    """Per metric: rows, trusts with data, first and latest period, national totals."""
    with read_only(get_settings().build_db) as db:
        rows = db.execute(
            """
            select metric_id, count(*), count(distinct org_code), min(period_start), max(period_start),
                   sum(numerator), sum(denominator)
            from marts.metric_values
            where org_level = 'trust'
            group by metric_id
            """
        ).fetchall()
    return {
        metric_id: {
            "rows": n,
            "trusts_with_data": trusts,
            "first_period": str(first),
            "latest_period": str(last),
            "national_numerator": float(numerator or 0),
            "national_denominator": float(denominator or 0),
        }
        for metric_id, n, trusts, first, last, numerator, denominator in rows
    }


def _metrics_asset(strategy: Strategy) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            key=metric_asset_key(m.metric_id),
            deps=[METRIC_VALUES],
            group_name="metrics",
            description=f"**{m.title}**. {m.description}",
            metadata={
                "domain": m.domain,
                "unit": m.unit,
                "improvement_direction": m.improvement_direction,
                "source_family": m.source_family,
                "sources": ", ".join(m.sources),
            },
            kinds={"duckdb"},
            skippable=True,
        )
        for m in strategy.metrics
    ]
    checks = [
        dg.AssetCheckSpec(HAS_VALUES, asset=spec.key, description="The metric has trust values.")
        for spec in specs
    ]

    @dg.multi_asset(name="metrics", specs=specs, check_specs=checks, can_subset=True)
    def _metrics(context: dg.AssetExecutionContext):
        summaries = _metric_summaries()
        for key in context.selected_asset_keys:
            summary = summaries.get(key.path[-1], {"rows": 0})
            yield dg.MaterializeResult(asset_key=key, metadata=summary)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=HAS_VALUES,
                passed=summary["rows"] > 0,
                metadata={"rows": summary["rows"]},
            )

    return _metrics


def _all_metrics(priority_id: str, strategy: Strategy) -> list[str]:
    """Metrics mapped to a priority or to any priority below it."""
    found = list(strategy.metrics_for(priority_id))
    for child in strategy.children_of(priority_id):
        found += [m for m in _all_metrics(child, strategy) if m not in found]
    return found


def _depth(priority_id: str, strategy: Strategy) -> int:
    parents = {p.priority_id: p.parent_priority_id for p in strategy.priorities}
    depth = 0
    while parents.get(priority_id):
        priority_id, depth = parents[priority_id], depth + 1
    return depth


def _priorities_asset(strategy: Strategy) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            key=priority_asset_key(p.priority_id),
            deps=[METRIC_VALUES]
            + [metric_asset_key(m) for m in strategy.metrics_for(p.priority_id)]
            + [priority_asset_key(c) for c in strategy.children_of(p.priority_id)],
            group_name="priorities",
            description=f"**{p.title}** ({p.level}, strategy {strategy.version}). {p.description}",
            metadata={
                "level": p.level,
                "strategy_version": strategy.version,
                "metrics": ", ".join(_all_metrics(p.priority_id, strategy)) or "none yet",
            },
            skippable=True,
        )
        for p in strategy.priorities
    ]

    @dg.multi_asset(name="priorities", specs=specs, can_subset=True)
    def _priorities(context: dg.AssetExecutionContext):
        with read_only(get_settings().build_db) as db:
            latest = dict(
                db.execute(
                    "select metric_id, max(period_start) from marts.metric_values group by 1"
                ).fetchall()
            )
        # sub-priorities before priorities before domains: Dagster wants upstream assets first
        for key in sorted(context.selected_asset_keys, key=lambda k: -_depth(k.path[-1], strategy)):
            metric_ids = _all_metrics(key.path[-1], strategy)
            periods = [latest[m] for m in metric_ids if m in latest]
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "coverage_status": coverage_status(metric_ids, set(latest)),
                    "metrics": len(metric_ids),
                    "metrics_with_data": sum(m in latest for m in metric_ids),
                    "latest_period": str(max(periods)) if periods else "none",
                },
            )

    return _priorities


_strategy = load_strategy()
metrics_asset = _metrics_asset(_strategy)
priorities_asset = _priorities_asset(_strategy)
