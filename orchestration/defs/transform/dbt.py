"""dbt builds staging, intermediate and marts models, and runs their tests as asset checks.

The project runs as several steps split from the dbt manifest by the landed sources each model reads
(`nqs.dbt_manifest.split_dbt_steps`): one step for models reading no landed data (seeds,
definitions, the quarantine and the check results), one per source, and one for models combining
sources. A source refused at landing skips its own step and the cross-source step; the rest builds.

The steps are whole tables, not partitioned. Each passes dbt what changed since the last successful
build (interface 2 of the monthly service): `--full-refresh` when the run config says
`full_refresh: true` (`nqs build --full-refresh`) or when `orchestration.lib.changes` finds no
successful build yet or changed seeds, dbt code, contracts or organisations reference; otherwise
`--vars {changed_months: [...]}`, the months of the files new, changed or removed since the last
successful build. `nqs build` and the file sensor give those months in the run config
(`changed_months`), so every step of a run passes the same; without them a step reads them from
the landing ledger when it starts. A changed file whose name gives no month leaves the var out: every
month counts as changed.

A full refresh of a landed history longer than NQS_REBUILD_WINDOW_MONTHS runs in windows of whole
financial years (`build_invocations`), so memory and spill are those of a window whatever the length
of the history; only the last window's results become Dagster events (an earlier window's failure
fails the step with dbt's error).
"""

import json
import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from nqs.dbt_manifest import DBT_EXECUTABLE, SPARK_DBT_EXECUTABLE, DbtStep, dbt_steps
from nqs.settings import SPARK, Settings, get_settings
from orchestration.lib.changes import (
    fingerprints,
    full_refresh_reason,
    landed_months,
    month_start,
    pending_months,
    rebuild_windows,
)
from orchestration.lib.dbt import WarehouseDbtCliResource, dbt_project, translator
from orchestration.lib.retries import TRANSIENT_RETRY_POLICY, transient_only
from orchestration.lib.warehouse import BUILD_DB_TAG, BUILD_DB_TAGS

#: A test runs in the step that builds the last of the models it reads (every test is selected by
#: name); `cautious` keeps dbt from adding tests of models built in another step.
INDIRECT_SELECTION = "cautious"


#: Each step starts its own dbt: no JSON artifacts (nothing reads them, and writing the manifest costs
#: about half a second a step) and an info-level log file rather than every SQL statement.
BUILD_ARGS = ["build", "--no-write-json", "--log-level-file", "info"]


#: A windowed full refresh runs one model at a time: the tables rebuilt whole in every window (the
#: published marts) grow with the history, and at six national years
#: `published.metric_values_by_deprivation` ran out of DuckDB's memory beside
#: `published.metric_values_by_ethnicity`. One at a time, with disclosure control in one pass over the
#: rows (macros/disclosure_control.sql), a ten-year backfill builds under 4 GB (README, Benchmarks).
WINDOW_THREADS = ["--threads", "1"]


class DbtStepConfig(dg.Config):
    """Run config of a dbt step."""

    full_refresh: bool = False  #: rebuild every model from scratch (`dbt build --full-refresh`)
    #: months (`YYYY-MM`) whose landed data changed; None: read from the landing ledger
    changed_months: list[str] | None = None


def _vars_args(variables: dict) -> list[str]:
    return [*BUILD_ARGS, "--vars", json.dumps(variables)] if variables else list(BUILD_ARGS)


def _changed_months(months: list[str]) -> dict:
    return {"changed_months": [month_start(m) for m in sorted(months)]}


def build_invocations(config: DbtStepConfig, settings: Settings) -> list[list[str]]:
    """The `dbt build` arguments of each invocation a step runs, in order: one with the changed months
    as the `changed_months` var; or a full refresh, in windows when the landed history is longer than
    NQS_REBUILD_WINDOW_MONTHS (`rebuild_windows`): `--full-refresh` for the first window, each later
    one with its months as `changed_months`, and every window but the last with `rebuild_through`, its
    last month, so no model builds or reads months of the windows to come."""
    reason, _ = full_refresh_reason(settings, fingerprints(settings))
    if config.full_refresh or reason is not None:
        # Spark rebuilds every model whole in each invocation (docs/spark.md): one window
        window_months = 0 if settings.engine == SPARK else settings.rebuild_window_months
        windows = rebuild_windows(landed_months(settings), window_months)
        invocations = []
        for number, window in enumerate(windows):
            variables = {} if number == 0 else _changed_months(window)
            if number < len(windows) - 1:
                variables["rebuild_through"] = month_start(window[-1])
            args = [*_vars_args(variables), *(WINDOW_THREADS if len(windows) > 1 else [])]
            invocations.append([*args, "--full-refresh"] if number == 0 else args)
        return invocations or [[*BUILD_ARGS, "--full-refresh"]]
    months = set(config.changed_months) if config.changed_months is not None else pending_months(settings)
    if None in months:  # a file naming no month changed: every month counts as changed
        return [BUILD_ARGS]
    return [_vars_args(_changed_months(sorted(months)))]


def _dbt_step(step: DbtStep) -> dg.AssetsDefinition:
    def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtStepConfig):
        settings = get_settings()
        settings.build_db.parent.mkdir(parents=True, exist_ok=True)
        os.environ.update(settings.dbt_env())
        os.environ.setdefault("DBT_INDIRECT_SELECTION", INDIRECT_SELECTION)
        # One target folder per data folder and engine: the first step of a build parses the project
        # for this build (its paths are part of the profile) and the others reuse that parse.
        target = (settings.spark_dir if settings.engine == SPARK else settings.build_db.parent) / "dbt_target"
        *earlier, last = build_invocations(config, settings)
        for number, args in enumerate(earlier, start=1):
            # a window of a long history's full refresh: a failure stops the step here, with dbt's error
            context.log.info(f"window {number} of {len(earlier) + 1}: dbt {' '.join(args)}")
            dbt.cli(args, context=context, target_path=target).wait()
        context.log.info(
            f"{f'window {len(earlier) + 1} of {len(earlier) + 1}: ' if earlier else ''}dbt {' '.join(last)}"
        )
        yield from dbt.cli(last, context=context, target_path=target).stream()

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


def dbt_resource(settings: Settings) -> WarehouseDbtCliResource:
    """dbt on the build's engine: DuckDB (the profile's default target) or Spark (`nqs-dbt-spark`, the
    `spark` target)."""
    if settings.engine == SPARK:
        return WarehouseDbtCliResource(
            project_dir=dbt_project, dbt_executable=SPARK_DBT_EXECUTABLE, target=SPARK
        )
    return WarehouseDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


dbt_step_assets = [_dbt_step(step) for step in dbt_steps()]

defs = dg.Definitions(
    assets=dbt_step_assets,
    resources={"dbt": dbt_resource(get_settings())},
    # Steps run as soon as their inputs are ready; only one at a time may open the build (the DuckDB
    # file, or the local Spark's catalogue).
    executor=dg.multiprocess_executor.configured(
        {"tag_concurrency_limits": [{"key": BUILD_DB_TAG, "value": "open", "limit": 1}]}
    ),
)


def dbt_run_config(*, full_refresh: bool, changed_months: set[str | None] | None) -> dict:
    """The run config of every dbt step: a full refresh, or the months that changed (None: from the
    ledger at each step's start)."""
    months = None if changed_months is None or None in changed_months else sorted(changed_months)
    config = {"full_refresh": full_refresh, "changed_months": months}
    return {a.node_def.name: {"config": config} for a in dbt_step_assets}
