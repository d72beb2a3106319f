"""The one dbt project handle and the rules that name dbt nodes as Dagster assets."""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from contracts.sources import SOURCE_TABLES
from orchestration.lib.settings import DBT_PROJECT_DIR, SEEDS_DIR

#: The dbt source reading every quarantine file through one glob; in Dagster, one asset per table.
QUARANTINE_SOURCE = "quarantine"
QUARANTINE_GLOB_KEY = dg.AssetKey(["landed", "quarantine"])
#: The dbt source of landing's own records: per-check results (one glob) and the registry of tables.
QUALITY_SOURCE = "quality"
CHECK_RESULTS_TABLE = "check_results"
SOURCE_TABLES_TABLE = "source_tables"
CHECK_RESULTS_GLOB_KEY = dg.AssetKey(["landed", "check_results"])
SOURCE_REGISTRY_KEY = dg.AssetKey(["landed", "source_tables"])

#: dbt from this interpreter's environment, so nothing depends on an activated venv or PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


# dagster-dbt's project preparer runs `dbt` from PATH; make that this environment's dbt even when the
# virtual environment is not activated (`make run`, CI, `.venv/bin/nqs`).
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_BIN, os.environ.get("PATH", "")])

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _manifest_is_current() -> bool:
    """True when the manifest is newer than every file of the dbt project and the seeds."""
    if not dbt_project.manifest_path.exists():
        return False
    built = dbt_project.manifest_path.stat().st_mtime
    skip = {dbt_project.project_dir / "target", dbt_project.project_dir / "logs"}
    files = [
        path
        for folder in (dbt_project.project_dir, SEEDS_DIR)
        for path in folder.rglob("*")
        if path.is_file() and not any(parent in skip for parent in path.parents)
    ]
    return all(path.stat().st_mtime <= built for path in files)


def ensure_manifest() -> None:
    """Parse the dbt project once, when it changed since the last parse (never at every import)."""
    if not _manifest_is_current():
        dbt_project.preparer.prepare(dbt_project)


ensure_manifest()
dbt_project.prepare_if_dev()


def landed_asset_key(source: str, table: str) -> dg.AssetKey:
    """Key of the asset that lands one source table's files through its contract."""
    return dg.AssetKey(["landed", source, table])


def quarantine_asset_key(source: str, table: str) -> dg.AssetKey:
    """Key of the rows of one source table that its contract rejected."""
    return dg.AssetKey(["landed", "quarantine", source, table])


def check_results_asset_key(source: str, table: str) -> dg.AssetKey:
    """Key of the per-check results of landing one source table's files (one row per check per file)."""
    return dg.AssetKey(["landed", "check_results", source, table])


#: Keys standing for a glob over every source table's files, and the per-table asset each stands for.
GLOB_KEYS: dict[dg.AssetKey, Callable[[str, str], dg.AssetKey]] = {
    QUARANTINE_GLOB_KEY: quarantine_asset_key,
    CHECK_RESULTS_GLOB_KEY: check_results_asset_key,
}


def source_files_asset_key(source: str, table: str) -> dg.AssetKey:
    """Key of the external asset standing for a source table's files as they arrive."""
    return dg.AssetKey(["source_files", source, table])


class WarehouseTranslator(DagsterDbtTranslator):
    """Models keyed by layer and name; dbt sources are the landed tables the contracts write."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            if source == QUARANTINE_SOURCE:
                return QUARANTINE_GLOB_KEY
            if source == QUALITY_SOURCE:
                return CHECK_RESULTS_GLOB_KEY if table == CHECK_RESULTS_TABLE else SOURCE_REGISTRY_KEY
            return landed_asset_key(source, table)
        # keyed by the relation BI users query (a model's alias), not by its file name
        name = dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return dg.AssetKey([self._layer(dbt_resource_props), name])

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None):
        """Models reading a glob over every source table depend on each table's asset."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        globs = [dep.asset_key for dep in spec.deps if dep.asset_key in GLOB_KEYS]
        if not globs:
            return spec
        deps = [dep for dep in spec.deps if dep.asset_key not in GLOB_KEYS]
        deps += [dg.AssetDep(GLOB_KEYS[glob](t.source, t.table)) for glob in globs for t in SOURCE_TABLES]
        return spec.replace_attributes(deps=deps)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._layer(dbt_resource_props)

    @staticmethod
    def _layer(dbt_resource_props: Mapping[str, Any]) -> str:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "models"


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


# ---------------------------------------------------------------------------------------------
# Splitting the dbt project into steps, so that a source refused at landing stops only its own models
# ---------------------------------------------------------------------------------------------

#: The step of models that read no landed source data (seeds, definitions, quarantine, check results).
UNSOURCED_STEP = "dbt_definitions_and_quality"
#: The step of models that combine several sources (metric_values).
CROSS_SOURCE_STEP = "dbt_cross_source"


def source_step_name(source: str) -> str:
    return f"dbt_source__{source}"


@dataclass(frozen=True)
class DbtStep:
    """One Dagster step running `dbt build` on a part of the project."""

    name: str
    #: the landed sources every model of the step reads (empty for the unsourced step)
    sources: tuple[str, ...]
    #: fully qualified names (dbt `fqn:` selectors) of the models, seeds and tests the step builds
    selectors: tuple[str, ...]

    @property
    def select(self) -> str:
        return " ".join(f"fqn:{selector}" for selector in self.selectors)

    @property
    def description(self) -> str:
        if self.name == UNSOURCED_STEP:
            return (
                "dbt models that read no landed source data: seeds, definitions, the quarantine and the "
                "check results. Built whatever happened to any source."
            )
        if self.name == CROSS_SOURCE_STEP:
            return f"dbt models combining several sources ({', '.join(self.sources)})."
        return f"dbt models reading only the `{self.sources[0]}` source, skipped when it was refused."


def landed_sources_by_node(manifest: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """For each model, seed, snapshot and test: the registered sources whose landed tables it reads.

    A dbt source counts when it is a registered source table (quarantine and check results are
    landing's own records, written whatever a file's fate, so they count as no source).
    """
    registered = {(t.source, t.table) for t in SOURCE_TABLES}
    nodes = manifest["nodes"]
    found: dict[str, frozenset[str]] = {}

    def sources_of(unique_id: str) -> frozenset[str]:
        if unique_id in found:
            return found[unique_id]
        if unique_id in manifest["sources"]:
            props = manifest["sources"][unique_id]
            key = (props["source_name"], props["name"])
            return frozenset([key[0]]) if key in registered else frozenset()
        if unique_id not in nodes:  # macros and other non-data nodes
            return frozenset()
        parents = nodes[unique_id].get("depends_on", {}).get("nodes", [])
        found[unique_id] = frozenset().union(*(sources_of(p) for p in parents))
        return found[unique_id]

    kinds = {"model", "seed", "snapshot", "test"}
    return {uid: sources_of(uid) for uid, props in nodes.items() if props["resource_type"] in kinds}


def split_dbt_steps(manifest: Mapping[str, Any]) -> list[DbtStep]:
    """The dbt project split by the landed sources each node reads, from the manifest alone.

    A node reading no landed source goes to the unsourced step, one reading exactly one source to
    that source's step, one reading several to the cross-source step. A node's parents read a subset
    of its sources, so every step's inputs come from itself or from steps before it. A test goes with
    the sources of all the nodes it reads, so it runs once every one of them is built (a test over
    sources that no single step builds runs in the cross-source step).
    """
    by_node = landed_sources_by_node(manifest)
    nodes = manifest["nodes"]
    members: dict[str, list[str]] = defaultdict(list)
    sources: dict[str, set[str]] = defaultdict(set)
    tests = []
    for unique_id, node_sources in sorted(by_node.items()):
        props = nodes[unique_id]
        if props["resource_type"] == "test":
            tests.append((unique_id, node_sources))
        elif props.get("config", {}).get("materialized") != "ephemeral":
            name = _step_name(node_sources)
            members[name].append(".".join(props["fqn"]))
            sources[name] |= node_sources
    for unique_id, node_sources in tests:
        name = _step_name(node_sources)
        if name not in members:
            name = CROSS_SOURCE_STEP if CROSS_SOURCE_STEP in members else UNSOURCED_STEP
        members[name].append(".".join(nodes[unique_id]["fqn"]))
    single = sorted(name for name in members if name not in {UNSOURCED_STEP, CROSS_SOURCE_STEP})
    order = [UNSOURCED_STEP, *single, CROSS_SOURCE_STEP]
    return [
        DbtStep(name=name, sources=tuple(sorted(sources[name])), selectors=tuple(members[name]))
        for name in order
        if name in members
    ]


def _step_name(sources: frozenset[str]) -> str:
    if not sources:
        return UNSOURCED_STEP
    if len(sources) == 1:
        return source_step_name(next(iter(sources)))
    return CROSS_SOURCE_STEP


@cache
def dbt_steps() -> tuple[DbtStep, ...]:
    """The steps of this project's manifest."""
    return tuple(split_dbt_steps(json.loads(dbt_project.manifest_path.read_text())))
