"""Reads the metric catalogue, strategy versions, priorities and their mapping from the seeds.

The seeds are the one definition: Dagster builds one asset per metric and per priority from them,
dbt exposures are generated from them and `nqs lineage` reads them, so a new metric or a
re-organised strategy changes every picture without a code change.

The active strategy version is the one whose `status` is `active` in `seeds/strategy_versions.csv`.
`NQS_STRATEGY_VERSION` overrides it for one run (dbt reads the same variable), so a draft can be
tried without editing the seeds.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nqs.settings import SEEDS_DIR

STRATEGY_VERSION_ENV = "NQS_STRATEGY_VERSION"
CATALOGUE = SEEDS_DIR / "metric_catalogue.csv"

#: How metric_values computes each unit's confidence interval (macros/metric_statistics.sql).
INTERVAL_METHODS: dict[str, str] = {
    "proportion": "Wilson score interval",
    "count": "exact Poisson (Garwood) interval on the count",
    "rate_per_1000": "exact Poisson (Garwood) interval on the numerator, over the denominator",
    "ratio": "exact Poisson (Garwood) interval on the numerator, over the denominator",
    "standardised_ratio": "exact Poisson (Garwood) interval on the observed count, over the expected count",
    "mean": "Student t interval from the observations",
    "median": "distribution-free interval between order statistics (binomial ranks)",
    "gap": "Newcombe hybrid score interval from the two Wilson intervals",
}


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
    #: months of source data, earliest loaded to latest, the metric needs before it has a first value
    history_months_required: int = 1


@dataclass(frozen=True)
class Priority:
    priority_id: str
    parent_priority_id: str | None
    level: str
    title: str
    description: str
    valid_from: str = ""


@dataclass(frozen=True)
class StrategyVersion:
    strategy_version: str
    title: str
    status: str
    valid_from: str
    description: str


@dataclass(frozen=True)
class Strategy:
    version: str
    metrics: tuple[Metric, ...]
    priorities: tuple[Priority, ...]
    #: (metric_id, priority_id, role) of this version
    mapping: tuple[tuple[str, str, str], ...]
    is_active: bool = True
    rationales: tuple[str, ...] = ()

    def metrics_for(self, priority_id: str) -> list[str]:
        """Metrics mapped directly to a priority."""
        return [m for m, p, _ in self.mapping if p == priority_id]

    def children_of(self, priority_id: str) -> list[str]:
        return [p.priority_id for p in self.priorities if p.parent_priority_id == priority_id]

    def all_metrics_for(self, priority_id: str) -> list[str]:
        """Metrics mapped to a priority or to any priority below it, each once."""
        found = list(dict.fromkeys(self.metrics_for(priority_id)))
        for child in self.children_of(priority_id):
            found += [m for m in self.all_metrics_for(child) if m not in found]
        return found

    def priority(self, priority_id: str) -> Priority | None:
        return next((p for p in self.priorities if p.priority_id == priority_id), None)

    def metric(self, metric_id: str) -> Metric | None:
        return next((m for m in self.metrics if m.metric_id == metric_id), None)

    def ancestors_of(self, priority_id: str) -> list[str]:
        """The priorities above one, nearest first, up to its domain."""
        chain: list[str] = []
        parent = (self.priority(priority_id) or Priority("", None, "", "", "")).parent_priority_id
        while parent and parent not in chain:
            chain.append(parent)
            parent = (self.priority(parent) or Priority("", None, "", "", "")).parent_priority_id
        return chain

    def depth(self, priority_id: str) -> int:
        return len(self.ancestors_of(priority_id))

    def domain_of(self, priority_id: str) -> str:
        return ([priority_id] + self.ancestors_of(priority_id))[-1]

    def roles(self, metric_id: str) -> list[tuple[str, str]]:
        """(priority_id, role) of every priority one metric evidences directly."""
        return [(p, r) for m, p, r in self.mapping if m == metric_id]

    def rationale(self, metric_id: str, priority_id: str) -> str:
        for (m, p, _), text in zip(self.mapping, self.rationales, strict=False):
            if (m, p) == (metric_id, priority_id):
                return text
        return ""


def seed_rows(path: Path) -> list[dict[str, str]]:
    """The rows of one seed CSV in file order, every column as text: the one reader of the seeds."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_catalogue(path: Path = CATALOGUE) -> list[dict[str, str]]:
    """Catalogue rows in file order, every column as text."""
    return seed_rows(path)


DISCLOSURE_CONTROL = SEEDS_DIR / "disclosure_control.csv"


@dataclass(frozen=True)
class DisclosureControl:
    """The disclosure control of published figures (seeds/disclosure_control.csv, applied in dbt)."""

    rule_set: str
    exempt_org_level: str
    suppress_from: int
    suppress_to: int
    rounding_base: int
    observation_suppress_from: int
    observation_suppress_to: int
    suppression_marker: str
    description: str

    def summary(self) -> str:
        """The count rule in one line, for generated docs."""
        return (
            f"{self.suppress_from} to {self.suppress_to} suppressed, the rest rounded to the nearest "
            f"{self.rounding_base}, except at {self.exempt_org_level} level"
        )


def load_disclosure_control(path: Path = DISCLOSURE_CONTROL) -> DisclosureControl:
    """The one rule set in force; ValueError unless the seed holds exactly one row."""
    rows = seed_rows(path)
    if len(rows) != 1:
        raise ValueError(f"{path.name} must hold exactly one rule set, found {len(rows)}")
    row = rows[0]
    integers = {name for name, kind in DisclosureControl.__annotations__.items() if kind == "int"}
    return DisclosureControl(**{k: int(v) if k in integers else v for k, v in row.items()})


def split_list(value: str) -> list[str]:
    """A catalogue list field (space, comma or semicolon separated) as its items."""
    return value.replace(",", " ").replace(";", " ").split()


def domains(row: dict[str, str]) -> list[str]:
    """Quality domains of a metric: its `domains` list where the catalogue has one, else `domain`."""
    return split_list(row.get("domains") or row.get("domain", ""))


def load_strategy_versions(seeds_dir: Path = SEEDS_DIR) -> list[StrategyVersion]:
    return [StrategyVersion(**row) for row in seed_rows(seeds_dir / "strategy_versions.csv")]


def resolve_active_version(versions: list[StrategyVersion], override: str | None = None) -> str:
    """The version named by `override` if given, else the one with status active; ValueError if none."""
    known = [v.strategy_version for v in versions]
    if override:
        if override not in known:
            raise ValueError(
                f"{STRATEGY_VERSION_ENV}={override} names no strategy version in "
                f"seeds/strategy_versions.csv; known: {', '.join(known)}"
            )
        return override
    active = [v.strategy_version for v in versions if v.status == "active"]
    if len(active) != 1:
        raise ValueError(f"seeds/strategy_versions.csv must mark exactly one version active, found {active}")
    return active[0]


def active_version(seeds_dir: Path = SEEDS_DIR) -> str:
    """The active strategy version, `NQS_STRATEGY_VERSION` first, then the seeds' status column."""
    return resolve_active_version(load_strategy_versions(seeds_dir), os.environ.get(STRATEGY_VERSION_ENV))


def seed_active_version(seeds_dir: Path = SEEDS_DIR) -> str:
    """The version the seeds mark active, whatever `NQS_STRATEGY_VERSION` says (generated files follow it)."""
    return resolve_active_version(load_strategy_versions(seeds_dir))


def load_metrics(seeds_dir: Path = SEEDS_DIR) -> tuple[Metric, ...]:
    return tuple(
        Metric(
            metric_id=r["metric_id"],
            title=r["title"],
            description=r["description"],
            domain=r["domain"],
            unit=r["unit"],
            improvement_direction=r["improvement_direction"],
            source_family=r["source_family"],
            sources=tuple(split_list(r["sources"])),
            history_months_required=int(r.get("history_months_required") or 1),
        )
        for r in load_catalogue(seeds_dir / "metric_catalogue.csv")
    )


@cache
def load_strategy(seeds_dir: Path = SEEDS_DIR, version: str | None = None) -> Strategy:
    """One strategy version (the active one unless named) with its priorities and metric mapping."""
    active = active_version(seeds_dir)
    version = version or active
    known = [v.strategy_version for v in load_strategy_versions(seeds_dir)]
    if version not in known:
        raise ValueError(f"no strategy version {version}; known: {', '.join(known)}")
    priorities = tuple(
        Priority(
            priority_id=r["priority_id"],
            parent_priority_id=r["parent_priority_id"] or None,
            level=r["level"],
            title=r["title"],
            description=r["description"],
            valid_from=r["valid_from"],
        )
        for r in seed_rows(seeds_dir / "priorities.csv")
        if r["strategy_version"] == version
    )
    rows = [r for r in seed_rows(seeds_dir / "metric_priorities.csv") if r["strategy_version"] == version]
    return Strategy(
        version=version,
        metrics=load_metrics(seeds_dir),
        priorities=priorities,
        mapping=tuple((r["metric_id"], r["priority_id"], r["role"]) for r in rows),
        is_active=version == active,
        rationales=tuple(r["rationale"] for r in rows),
    )


def load_all_strategies(seeds_dir: Path = SEEDS_DIR) -> list[Strategy]:
    """Every strategy version, the active one first."""
    versions = [v.strategy_version for v in load_strategy_versions(seeds_dir)]
    strategies = [load_strategy(seeds_dir, v) for v in versions]
    return sorted(strategies, key=lambda s: not s.is_active)
