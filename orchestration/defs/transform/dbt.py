"""dbt builds staging, intermediate and marts models, and runs their tests as asset checks."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.lib.dbt import DBT_EXECUTABLE, dbt_project, translator
from orchestration.lib.settings import get_settings


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Seeds, models and tests of the warehouse, built into the build database (not the published one)."""
    settings = get_settings()
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    os.environ.update(settings.dbt_env())
    yield from dbt.cli(["build"], context=context).stream()


defs = dg.Definitions(
    assets=[warehouse_models],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
)
