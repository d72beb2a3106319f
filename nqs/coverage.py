"""The one rule for a critical failure and the one list of coverage statuses, as Python reads them.

Both are seeds, so dbt and Python read the same definition:

- `seeds/critical_failure_rule.csv`: a check result is a critical failure when its severity is the
  refusing severity. Landing records a refused file as one check result `critical:<reason>` with
  that severity and nothing else of the file, with `rows_failed` the rows it could read (0 for an
  empty file), so `rows_failed` is no part of the rule. dbt applies it once, as
  `stg_quality__check_results.is_critical_failure`; `contract_health` applies it here to the check
  results landing wrote, so the priorities' health is known right after landing, before dbt runs.
- `seeds/coverage_statuses.csv`: a priority's coverage status is the first, in order of precedence,
  whose condition holds. `marts.priority_coverage` and `coverage_status` here both pick from it.
- a metric's history (`metric_histories`): the months from the earliest to the latest month its
  source tables' loaded files cover, for the table covering the fewest, against the catalogue's
  `history_months_required`. With less, the metric cannot be computed yet: its priorities are
  `insufficient history`, a warning, never a failure. dbt applies the same rule in
  `int_metric_histories_measured`.

A test compares this module's answers with `marts.priority_coverage` on a real build.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from nqs.catalogue import Metric, Strategy, seed_rows
from nqs.settings import SEEDS_DIR

COVERAGE_STATUSES = SEEDS_DIR / "coverage_statuses.csv"
CRITICAL_FAILURE_RULE = SEEDS_DIR / "critical_failure_rule.csv"
#: Where a metric's or priority's shortfall of history is reported (Dagster metadata; "none" if none).
INSUFFICIENT_HISTORY = "insufficient_history"
#: The conditions a coverage status can name (seeds/coverage_statuses.csv `condition`).
CONDITIONS = ("no_metric", "source_at_risk", "insufficient_history", "metric_without_values", "otherwise")


@dataclass(frozen=True)
class CoverageStatus:
    coverage_status: str
    precedence: int
    condition: str
    needs_metric_values: bool
    meaning: str


@cache
def coverage_statuses(path: Path = COVERAGE_STATUSES) -> tuple[CoverageStatus, ...]:
    """Every coverage status in order of precedence."""
    statuses = [
        CoverageStatus(
            coverage_status=r["coverage_status"],
            precedence=int(r["precedence"]),
            condition=r["condition"],
            needs_metric_values=r["needs_metric_values"].strip().lower() == "true",
            meaning=r["meaning"],
        )
        for r in seed_rows(path)
    ]
    unknown = sorted({s.condition for s in statuses} - set(CONDITIONS))
    if unknown:
        raise ValueError(f"{path.name} names unknown conditions {unknown}; known: {', '.join(CONDITIONS)}")
    return tuple(sorted(statuses, key=lambda s: s.precedence))


@cache
def refusing_severity(path: Path = CRITICAL_FAILURE_RULE) -> str:
    """The check severity that refuses a file as a whole (`critical`)."""
    rule = {r["parameter"]: r["value"] for r in seed_rows(path)}
    return rule["refusing_severity"]


def coverage_status(
    metric_ids: list[str],
    with_values: set[str],
    risks: list[str] | None = None,
    lacking_history: set[str] | frozenset[str] = frozenset(),
) -> str:
    """The first status of seeds/coverage_statuses.csv whose condition holds for a priority.

    `lacking_history`: the metrics whose sources cover fewer months than they need (`metric_histories`).
    """
    holds = {
        "no_metric": not metric_ids,
        "source_at_risk": bool(risks),
        "insufficient_history": bool(set(metric_ids) & set(lacking_history)),
        "metric_without_values": not set(metric_ids) <= with_values,
        "otherwise": True,
    }
    return next(s.coverage_status for s in coverage_statuses() if holds[s.condition])


@dataclass(frozen=True)
class TableHealth:
    """What the latest landing of one source table's files says about its contract."""

    source: str
    table: str
    files_loaded: int
    #: one line per critical failure: "source/table: check (column) in file"
    critical_failures: tuple[str, ...]
    #: the earliest and latest month covered by a file loaded (not refused, rows or none); None if none
    first_period: date | None = None
    latest_period: date | None = None
    #: whether the table's files cover months at all (organisations' do not)
    is_monthly: bool = True

    @property
    def is_at_risk(self) -> bool:
        return self.files_loaded == 0 or bool(self.critical_failures)

    @property
    def reasons(self) -> list[str]:
        if self.critical_failures:
            return list(self.critical_failures)
        return [f"{self.source}/{self.table}: no file loaded"] if self.files_loaded == 0 else []

    @property
    def history_months(self) -> int:
        """Months from the earliest to the latest month loaded, both counted (0 with no such file)."""
        if self.first_period is None or self.latest_period is None:
            return 0
        first, latest = self.first_period, self.latest_period
        return (latest.year - first.year) * 12 + latest.month - first.month + 1


def contract_health(landed_dir: Path) -> dict[tuple[str, str], TableHealth]:
    """Per source table, its critical failures in the check results landing wrote (`_checks/`).

    The rule of `marts.priority_coverage`: a table is at risk when a check result of any of its files
    is a critical failure (seeds/critical_failure_rule.csv), or when no file of it was loaded. Its
    history is that of `int_metric_histories_measured`: the months covered by the files it loaded and
    did not refuse (a file delivered with no row still covers its month).
    """
    import polars as pl

    from contracts.sources import SOURCE_TABLES
    from nqs.landing.paths import checks_path, parquet_files

    severity = refusing_severity()
    health = {}
    for table in SOURCE_TABLES:
        files = parquet_files(checks_path(table, landed_dir))  # every month partition
        results = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed") if files else None
        if results is None or results.is_empty():
            health[(table.source, table.table)] = TableHealth(table.source, table.table, 0, ())
            continue
        failed = results.filter(pl.col("severity") == severity)
        lines = sorted(
            {
                f"{table.source}/{table.table}: {r['check_name']}"
                + (f" ({r['column_name']})" if r["column_name"] else "")
                + f" in {r['source_file']}"
                for r in failed.iter_rows(named=True)
            }
        )
        loaded = results.select(pl.col("source_file").n_unique()).item()
        by_file = results.group_by("source_file", "file_period").agg(
            (pl.col("severity") == severity).any().alias("is_refused")
        )
        usable = by_file.filter(~pl.col("is_refused"))
        periods = usable.get_column("file_period").drop_nulls()
        health[(table.source, table.table)] = TableHealth(
            table.source,
            table.table,
            loaded,
            tuple(lines),
            first_period=periods.min() if len(periods) else None,
            latest_period=periods.max() if len(periods) else None,
            is_monthly=usable.is_empty() or len(periods) > 0,
        )
    return health


@dataclass(frozen=True)
class MetricHistory:
    """The months of history one metric has against the months the catalogue says it needs."""

    metric_id: str
    months_required: int
    months_available: int

    @property
    def is_sufficient(self) -> bool:
        return self.months_available >= self.months_required

    @property
    def shortfall(self) -> str | None:
        """One line naming the metric and the months it needs and has; None when it has enough."""
        if self.is_sufficient:
            return None
        return f"{self.metric_id} needs {self.months_required} months of history, has {self.months_available}"


def metric_histories(
    metrics: Iterable[Metric], health: dict[tuple[str, str], TableHealth]
) -> dict[str, MetricHistory]:
    """Per metric, its history: the shortest among the monthly source tables of its sources."""
    histories = {}
    for metric in metrics:
        months = [
            table.history_months
            for (source, _), table in health.items()
            if source in metric.sources and table.is_monthly
        ]
        histories[metric.metric_id] = MetricHistory(
            metric.metric_id, metric.history_months_required, min(months, default=0)
        )
    return histories


def lacking_history(histories: dict[str, MetricHistory]) -> set[str]:
    """The metrics that cannot be computed yet for want of history."""
    return {m for m, history in histories.items() if not history.is_sufficient}


def priority_risks(strategy: Strategy, health: dict[tuple[str, str], TableHealth]) -> dict[str, list[str]]:
    """Per priority of `strategy`, the reasons it is at risk (empty when it is not)."""
    risks: dict[str, list[str]] = {}
    for priority in strategy.priorities:
        sources = {
            s
            for m in strategy.all_metrics_for(priority.priority_id)
            if (x := strategy.metric(m))
            for s in x.sources
        }
        risks[priority.priority_id] = [
            reason
            for (source, _), table in sorted(health.items())
            if source in sources
            for reason in table.reasons
        ]
    return risks
