"""The one dbt project handle and the rules that name dbt nodes as Dagster assets."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from contracts.sources import SOURCE_TABLES
from orchestration.lib.settings import DBT_PROJECT_DIR, SEEDS_DIR

#: The dbt source reading every quarantine file through one glob; in Dagster, one asset per table.
QUARANTINE_SOURCE = "quarantine"
QUARANTINE_GLOB_KEY = dg.AssetKey(["landed", "quarantine"])

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


def source_files_asset_key(source: str, table: str) -> dg.AssetKey:
    """Key of the external asset standing for a source table's files as they arrive."""
    return dg.AssetKey(["source_files", source, table])


class WarehouseTranslator(DagsterDbtTranslator):
    """Models keyed by layer and name; dbt sources are the landed tables the contracts write."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props["source_name"] == QUARANTINE_SOURCE:
                return QUARANTINE_GLOB_KEY
            return landed_asset_key(dbt_resource_props["source_name"], dbt_resource_props["name"])
        # keyed by the relation BI users query (a model's alias), not by its file name
        name = dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return dg.AssetKey([self._layer(dbt_resource_props), name])

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None):
        """Models reading the quarantine glob depend on every source table's quarantine asset."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        if not any(dep.asset_key == QUARANTINE_GLOB_KEY for dep in spec.deps):
            return spec
        deps = [dep for dep in spec.deps if dep.asset_key != QUARANTINE_GLOB_KEY]
        deps += [dg.AssetDep(quarantine_asset_key(t.source, t.table)) for t in SOURCE_TABLES]
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
