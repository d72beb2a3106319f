"""OpenLineage events for runs launched from the Dagster UI or the schedule.

`nqs build` emits them itself at the end of its run (it runs in process, without the daemon); these
sensors do the same for every other finished run of this code location.
"""

import dagster as dg

from nqs.settings import get_settings
from orchestration.lib.openlineage import emit_run


def _emit(context: dg.RunStatusSensorContext) -> None:
    path, count = emit_run(
        context.instance, context.dagster_run.run_id, context.repository_def.asset_graph, get_settings()
    )
    context.log.info(f"wrote {count} OpenLineage events to {path}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="openlineage_on_success",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Emit OpenLineage events (file, and NQS_OPENLINEAGE_URL if set) for each successful run.",
)
def openlineage_on_success(context: dg.RunStatusSensorContext) -> None:
    _emit(context)


@dg.run_failure_sensor(
    name="openlineage_on_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Emit OpenLineage events, FAIL included, for each failed run.",
)
def openlineage_on_failure(context: dg.RunFailureSensorContext) -> None:
    _emit(context)
