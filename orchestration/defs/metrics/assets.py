"""One asset per metric and per strategy priority, generated from the catalogue seeds.

The graph reads source files -> landed -> staging -> metric_values -> metric -> priority -> domain.
A priority with no metric still appears, with no upstream metric: that gap is reported, not hidden.
Each family of assets is computed in one step (a multi-asset), since each is one query.

Every priority carries a `contract_health` check. The checks are declared, and yielded, by their
own step (`priority_contract_health`), which depends only on the contract results landing wrote, so
it runs after landing whatever happened downstream: when a source has a critical failure and its
metrics are skipped, the priorities that depend on it still turn red, naming the source, check and
file. The rule and the coverage statuses are the seeds' (`nqs.coverage`).

A metric whose source tables cover fewer months than the catalogue's `history_months_required`
cannot be computed yet: its `has_values` check fails as a warning (never an error) naming the months
it needs and has, and its priorities are `insufficient history`.
"""

import dagster as dg

from contracts.sources import SOURCE_TABLES
from nqs.benchmarking.schema import UNIT_LEVELS
from nqs.catalogue import Strategy, load_strategy
from nqs.coverage import (
    INSUFFICIENT_HISTORY,
    contract_health,
    coverage_status,
    lacking_history,
    metric_histories,
    priority_risks,
)
from nqs.engines import open_build
from nqs.settings import get_settings
from orchestration.lib.dbt import check_results_asset_key
from orchestration.lib.warehouse import BUILD_DB_TAGS

METRIC_VALUES = dg.AssetKey(["marts", "metric_values"])
HAS_VALUES = "has_values"
CONTRACT_HEALTH = "contract_health"
PRIORITY_HEALTH_KEY = dg.AssetKey(["quality", "priority_contract_health"])


def metric_asset_key(metric_id: str) -> dg.AssetKey:
    return dg.AssetKey(["metrics", metric_id])


def priority_asset_key(priority_id: str) -> dg.AssetKey:
    return dg.AssetKey(["priorities", priority_id])


def _metric_summaries() -> dict[str, dict]:
    """Per metric: trust-months with a value, trusts with data (local authority months and local
    authorities for the metrics councils return), first and latest month with a value,
    national totals (England). A month whose denominator is 0 (no patient followed up yet) has no value."""
    with open_build(get_settings()) as db:
        rows = db.rows(
            f"""
            select metric_id,
                   count(*) filter (where org_level in {UNIT_LEVELS}),
                   count(distinct org_code) filter (where org_level in {UNIT_LEVELS}),
                   min(period_start), max(period_start),
                   sum(numerator) filter (where org_level = 'england'),
                   sum(denominator) filter (where org_level = 'england')
            from marts.metric_values
            where org_view = 'as_recorded' and period_type = 'month' and value is not null
            group by metric_id
            """  # noqa: S608 - fixed levels
        )
    return {
        metric_id: {
            "trust_months": n,
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
        dg.AssetCheckSpec(
            HAS_VALUES,
            asset=spec.key,
            description="The metric has trust values; a warning, not an error, while its sources cover "
            "fewer months than it needs (the catalogue's history_months_required).",
        )
        for spec in specs
    ]

    @dg.multi_asset(name="metrics", specs=specs, check_specs=checks, can_subset=True, op_tags=BUILD_DB_TAGS)
    def _metrics(context: dg.AssetExecutionContext):
        summaries = _metric_summaries()
        histories = metric_histories(strategy.metrics, contract_health(get_settings().landed_dir))
        for key in context.selected_asset_keys:
            history = histories[key.path[-1]]
            summary = summaries.get(key.path[-1], {"trust_months": 0})
            shortfall = history.shortfall
            about_history = {
                "history_months_required": history.months_required,
                "history_months_available": history.months_available,
                INSUFFICIENT_HISTORY: shortfall or "none",
            }
            yield dg.MaterializeResult(asset_key=key, metadata={**summary, **about_history})
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=HAS_VALUES,
                passed=summary["trust_months"] > 0,
                # a metric that cannot be computed yet is reported, not failed
                severity=dg.AssetCheckSeverity.WARN if shortfall else dg.AssetCheckSeverity.ERROR,
                metadata={"trust_months": summary["trust_months"], **about_history},
                description=f"insufficient history: {shortfall}" if shortfall else None,
            )

    return _metrics


def _lineage_metadata(priority_id: str, strategy: Strategy) -> dict[str, str]:
    """What a priority rests on: its metrics, their domains, sources and the contracts reading them."""
    metric_ids = strategy.all_metrics_for(priority_id)
    metrics = [m for m in strategy.metrics if m.metric_id in metric_ids]
    sources = sorted({s for m in metrics for s in m.sources})
    return {
        "metrics": ", ".join(metric_ids) or "none yet",
        "metric_domains": ", ".join(sorted({m.domain for m in metrics})) or "none",
        "sources": ", ".join(sources) or "none",
        "contracts": ", ".join(
            f"{t.source}/{t.table} {t.model.__name__} {t.version}"
            for t in SOURCE_TABLES
            if t.source in sources
        )
        or "none",
    }


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
                "domain": strategy.domain_of(p.priority_id),
                "strategy_version": strategy.version,
                **_lineage_metadata(p.priority_id, strategy),
            },
            skippable=True,
        )
        for p in strategy.priorities
    ]

    @dg.multi_asset(name="priorities", specs=specs, can_subset=True, op_tags=BUILD_DB_TAGS)
    def _priorities(context: dg.AssetExecutionContext):
        with open_build(get_settings()) as db:
            latest = dict(
                db.rows(
                    "select metric_id, max(period_start) from marts.metric_values "
                    "where value is not null group by metric_id"
                )
            )
        health = contract_health(get_settings().landed_dir)
        risks = priority_risks(strategy, health)
        histories = metric_histories(strategy.metrics, health)
        lacking = lacking_history(histories)
        # sub-priorities before priorities before domains: Dagster wants upstream assets first
        for key in sorted(context.selected_asset_keys, key=lambda k: -strategy.depth(k.path[-1])):
            metric_ids = strategy.all_metrics_for(key.path[-1])
            periods = [latest[m] for m in metric_ids if m in latest]
            reasons = risks.get(key.path[-1], [])
            shortfalls = sorted(s for m in metric_ids if m in histories and (s := histories[m].shortfall))
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "coverage_status": coverage_status(metric_ids, set(latest), reasons, lacking),
                    "metrics": len(metric_ids),
                    "metrics_with_data": sum(m in latest for m in metric_ids),
                    "latest_period": str(max(periods)) if periods else "none",
                    "health": "at risk: " + "; ".join(reasons) if reasons else "contracts passed",
                    INSUFFICIENT_HISTORY: "; ".join(shortfalls) or "none",
                },
            )

    return _priorities


def _priority_health_asset(strategy: Strategy) -> dg.AssetsDefinition:
    checks = [
        dg.AssetCheckSpec(
            CONTRACT_HEALTH,
            asset=priority_asset_key(p.priority_id),
            description="Every source table behind the priority's metrics loaded without a critical "
            "failure; evaluated by priority_contract_health right after landing.",
        )
        for p in strategy.priorities
    ]

    @dg.multi_asset(
        name="priority_contract_health",
        specs=[
            dg.AssetSpec(
                key=PRIORITY_HEALTH_KEY,
                # only the contract results: landing writes them whatever a file's fate, so this step
                # runs after every landing step even when a refused source skips its models and metrics
                deps=[check_results_asset_key(t.source, t.table) for t in SOURCE_TABLES],
                group_name="priorities",
                kinds={"parquet"},
                description="Which priorities are at risk because a source behind their metrics had a "
                "critical failure, from the contract results landing wrote.",
            )
        ],
        # the checks are on the priorities, which this step does not materialise: it must not wait
        # on them, since they are skipped when a refused source stops the metrics. A hidden parameter
        # of dagster 1.13 (pinned by tests/test_pinned_apis.py), the one dagster-dbt's assets use.
        check_specs=checks,
        allow_arbitrary_check_specs=True,
    )
    def priority_contract_health(context: dg.AssetExecutionContext):
        """Which priorities are at risk because a source behind their metrics had a critical failure.

        Reads only the contract results landing wrote, so it runs even when a failed source stopped
        the models and metrics downstream, and yields each priority's `contract_health` check.
        """
        health = contract_health(get_settings().landed_dir)
        risks = priority_risks(strategy, health)
        at_risk = sorted(p for p, reasons in risks.items() if reasons)
        failing_tables = sorted(f"{s}/{t}" for (s, t), h in health.items() if h.is_at_risk)
        yield dg.MaterializeResult(
            asset_key=PRIORITY_HEALTH_KEY,
            metadata={
                "strategy_version": strategy.version,
                "priorities_at_risk": len(at_risk),
                "at_risk": ", ".join(at_risk) or "none",
                "failing_source_tables": ", ".join(failing_tables) or "none",
            },
        )
        for priority_id, reasons in risks.items():
            yield dg.AssetCheckResult(
                asset_key=priority_asset_key(priority_id),
                check_name=CONTRACT_HEALTH,
                passed=not reasons,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "status": "at risk" if reasons else "contracts passed",
                    "failing": "\n".join(reasons) or "none",
                    "failing_sources": ", ".join(sorted({r.split(":")[0] for r in reasons})) or "none",
                },
                description="; ".join(reasons) if reasons else None,
            )

    return priority_contract_health


_strategy = load_strategy()
metrics_asset = _metrics_asset(_strategy)
priorities_asset = _priorities_asset(_strategy)
priority_health_asset = _priority_health_asset(_strategy)
