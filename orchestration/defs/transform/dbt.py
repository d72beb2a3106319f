"""dbt builds staging, intermediate and marts models, and runs their tests as asset checks.

The project runs as several steps split from the dbt manifest by the landed sources each model reads
(`nqs.dbt_manifest.split_dbt_steps`): one step for models reading no landed data (seeds,
definitions, the quarantine and the check results), one per source, and one for models combining
sources. A source refused at landing skips its own step and the cross-source step; the rest builds.
"""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from nqs.dbt_manifest import DBT_EXECUTABLE, DbtStep, dbt_steps
from nqs.settings import get_settings
from orchestration.lib.dbt import WarehouseDbtCliResource, dbt_project, translator
from orchestration.lib.retries import TRANSIENT_RETRY_POLICY, transient_only
from orchestration.lib.warehouse import BUILD_DB_TAG, BUILD_DB_TAGS

#: A test runs in the step that builds the last of the models it reads (every test is selected by
#: name); `cautious` keeps dbt from adding tests of models built in another step.
INDIRECT_SELECTION = "cautious"


#: Each step starts its own dbt: no JSON artifacts (nothing reads them, and writing the manifest costs
#: about half a second a step) and an info-level log file rather than every SQL statement.
BUILD_ARGS = ["build", "--no-write-json", "--log-level-file", "info"]


def _dbt_step(step: DbtStep) -> dg.AssetsDefinition:
    def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        settings = get_settings()
        settings.build_db.parent.mkdir(parents=True, exist_ok=True)
        os.environ.update(settings.dbt_env())
        os.environ.setdefault("DBT_INDIRECT_SELECTION", INDIRECT_SELECTION)
        # One target folder per data folder: the first step of a build parses the project for this
        # build database (its path is part of the profile) and the others reuse that parse.
        target = settings.build_db.parent / "dbt_target"
        yield from dbt.cli(BUILD_ARGS, context=context, target_path=target).stream()

    _build.__doc__ = step.description
    return dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=translator,
        select=step.select,
        name=step.name,
        op_tags=BUILD_DB_TAGS,
        retry_policy=TRANSIENT_RETRY_POLICY,
    )(transient_only(_build))


dbt_step_assets = [_dbt_step(step) for step in dbt_steps()]

defs = dg.Definitions(
    assets=dbt_step_assets,
    resources={"dbt": WarehouseDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
    # Steps run as soon as their inputs are ready; only one at a time may write the DuckDB build file.
    executor=dg.multiprocess_executor.configured(
        {"tag_concurrency_limits": [{"key": BUILD_DB_TAG, "value": "open", "limit": 1}]}
    ),
)
