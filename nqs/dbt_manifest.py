"""The dbt project as the warehouse core reads it: its manifest, parsed once, and its build steps.

Everything here works from `target/manifest.json` alone, with no Dagster: `nqs lineage` and the
generated exposures read the same manifest the orchestration splits into steps.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from contracts.sources import SOURCE_TABLES
from nqs.settings import DBT_PROJECT_DIR, SEEDS_DIR

#: dbt from this interpreter's environment, so nothing depends on an activated venv or PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
#: dbt on the Spark target, in a process whose Spark session has the quantile functions (nqs.spark_session).
SPARK_DBT_EXECUTABLE = str(Path(sys.executable).with_name("nqs-dbt-spark"))
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"

#: The dbt source reading every quarantine file through one glob.
QUARANTINE_SOURCE = "quarantine"
#: The dbt source of landing's own records: per-check results (one glob over every file).
QUALITY_SOURCE = "quality"
CHECK_RESULTS_TABLE = "check_results"
#: dbt sources holding landing's records rather than a source table's accepted rows.
RECORD_SOURCES = frozenset({QUARANTINE_SOURCE, QUALITY_SOURCE})


def dbt_environment() -> dict[str, str]:
    """The process environment with this interpreter's bin folder first on PATH (for dbt itself)."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    return env


def manifest_is_current() -> bool:
    """True when the manifest is newer than every file of the dbt project and the seeds."""
    if not MANIFEST_PATH.exists():
        return False
    built = MANIFEST_PATH.stat().st_mtime
    skip = {DBT_PROJECT_DIR / "target", DBT_PROJECT_DIR / "logs"}
    files = [
        path
        for folder in (DBT_PROJECT_DIR, SEEDS_DIR)
        for path in folder.rglob("*")
        if path.is_file() and not any(parent in skip for parent in path.parents)
    ]
    return all(path.stat().st_mtime <= built for path in files)


def ensure_manifest() -> Path:
    """Parse the dbt project when it changed since the last parse (never at every import).

    Several processes may ask at once (the test suite's builds, Dagster's step processes): one parses
    while the others wait on a lock, then find the manifest current. dbt writes into a folder of its
    own and the manifest is moved into place whole, so a reader never sees half a file.
    """
    if manifest_is_current():
        return MANIFEST_PATH
    MANIFEST_PATH.parent.mkdir(parents=True, exist_ok=True)
    with (MANIFEST_PATH.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest_is_current():
            with tempfile.TemporaryDirectory(prefix=".parse-", dir=MANIFEST_PATH.parent) as parsed:
                subprocess.run(
                    [
                        DBT_EXECUTABLE,
                        "parse",
                        "--quiet",
                        "--project-dir",
                        str(DBT_PROJECT_DIR),
                        "--profiles-dir",
                        str(DBT_PROJECT_DIR),
                        "--target-path",
                        parsed,
                    ],
                    cwd=DBT_PROJECT_DIR,
                    env=dbt_environment(),
                    check=True,
                )
                os.replace(Path(parsed) / MANIFEST_PATH.name, MANIFEST_PATH)
    return MANIFEST_PATH


def load_manifest() -> dict[str, Any]:
    """The dbt manifest, parsed first when the project changed."""
    return json.loads(ensure_manifest().read_text())


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
    return tuple(split_dbt_steps(load_manifest()))


# ---------------------------------------------------------------------------------------------
# The published schema: what BI users read
# ---------------------------------------------------------------------------------------------

#: The dbt folder (and schema) of the tables BI users read, under disclosure control.
PUBLISHED_SCHEMA = "published"


def published_models(manifest: Mapping[str, Any]) -> list[str]:
    """The tables dbt builds in schema published (the models' aliases), sorted."""
    return sorted(
        props.get("alias") or props["name"]
        for props in manifest["nodes"].values()
        if props["resource_type"] == "model" and props["fqn"][1:2] == [PUBLISHED_SCHEMA]
    )


@cache
def published_dbt_tables() -> tuple[str, ...]:
    """The tables dbt builds in schema published, from this project's manifest."""
    return tuple(published_models(load_manifest()))
