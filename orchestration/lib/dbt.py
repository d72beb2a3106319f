"""The one dbt project handle and the rules that name dbt nodes as Dagster assets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject

from contracts.sources import SOURCE_TABLES
from nqs.dbt_manifest import (
    CHECK_RESULTS_TABLE,
    QUALITY_SOURCE,
    QUARANTINE_SOURCE,
    ensure_manifest,
)
from nqs.settings import DBT_PROJECT_DIR

#: In Dagster, the glob over every quarantine file stands for one asset per source table.
QUARANTINE_GLOB_KEY = dg.AssetKey(["landed", "quarantine"])
CHECK_RESULTS_GLOB_KEY = dg.AssetKey(["landed", "check_results"])

ensure_manifest()
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class WarehouseDbtCliResource(DbtCliResource):
    """dbt from this environment, run without dagster-dbt's adapter handle in the orchestration process.

    Before each dbt command dagster-dbt opens a dbt adapter in the calling process (parsing every
    macro: 1 to 2 seconds a step measured here) only for fetching row counts or column metadata
    afterwards, which this project does not do; with the project split in several steps that cost
    would recur in each.

    Pinned to dagster-dbt 0.29.27, which has no public way to skip it (no setting or environment
    variable; `DbtCliInvocation.run`, the way round `cli`, is not public either), so this overrides
    the private method `DbtCliResource.cli` calls. tests/test_pinned_apis.py fails if dagster-dbt
    renames it, changes its signature or stops calling it from `cli`.
    """

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001, ANN202 - dagster-dbt's signature
        return None


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
            if source == QUALITY_SOURCE and table == CHECK_RESULTS_TABLE:
                return CHECK_RESULTS_GLOB_KEY
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
