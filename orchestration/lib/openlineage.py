"""OpenLineage run events from a Dagster run's event log, so a catalogue can draw the same graph.

Each run becomes one OpenLineage job (`refresh_warehouse`) with a START and a COMPLETE or FAIL event,
and each step of it (a landing, the dbt build, the metrics, the priorities) a child job with its own
START and COMPLETE or FAIL, whose inputs are the assets the step reads and whose outputs are the assets
it writes. Events follow the OpenLineage 2-0-2 `RunEvent` and are appended as JSON lines to
`$NQS_DATA_DIR/lineage/openlineage.jsonl`; when `NQS_OPENLINEAGE_URL` is set (for example Marquez's
`http://localhost:5000/api/v1/lineage`) each event is also POSTed there.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from nqs.settings import SPARK, Settings

SPEC_VERSION = "2-0-2"
RUN_EVENT_SCHEMA_URL = f"https://openlineage.io/spec/{SPEC_VERSION}/OpenLineage.json#/$defs/RunEvent"
PRODUCER = "urn:nqs:national-quality-warehouse"
NAMESPACE = "nqs"
URL_ENV = "NQS_OPENLINEAGE_URL"
FACET_SCHEMAS = {
    "parent": "https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet",
    "errorMessage": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "jobType": "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
}
#: dbt layers, whose assets are tables in the build database's schema of the same name
DBT_SCHEMAS = {"seeds", "staging", "intermediate", "marts", "published"}
#: Assets of the published group that are release steps (nqs.releases), not tables of the build file.
RELEASE_STEPS = {"release", "board_report", "current"}


def events_path(settings: Settings) -> Path:
    return settings.data_dir / "lineage" / "openlineage.jsonl"


def dataset(key: dg.AssetKey, settings: Settings) -> dict[str, str]:
    """An asset as an OpenLineage dataset: files by path, warehouse tables by schema and name."""
    from nqs.landing.paths import CHECKS_DIR, QUARANTINE_DIR

    path = key.path
    if path[0] == "source_files":
        return {"namespace": "file", "name": str(settings.sources_dir / path[1] / path[2])}
    folders = {"quarantine": QUARANTINE_DIR, "check_results": CHECKS_DIR}
    if path[0] == "landed" and path[1] in folders:
        return {"namespace": "file", "name": str(settings.landed_dir.joinpath(folders[path[1]], *path[2:]))}
    if path[0] == "landed":
        return {"namespace": "file", "name": str(settings.landed_dir.joinpath(*path[1:]))}
    if path[0] == "published" and path[-1] in RELEASE_STEPS:
        return {"namespace": "file", "name": str(settings.releases_dir / path[-1])}
    if path[0] in DBT_SCHEMAS:
        # OpenLineage's naming of datasets: a DuckDB file's tables, or a Spark warehouse's
        where = settings.spark_dir / "warehouse" if settings.engine == SPARK else settings.build_db
        return {"namespace": f"{settings.engine}://{where}", "name": ".".join(path)}
    return {"namespace": NAMESPACE, "name": "/".join(path)}


def _facet(name: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": FACET_SCHEMAS[name], **fields}


def _event(
    event_type: str,
    at: float,
    run_id: str,
    job_name: str,
    *,
    inputs: Iterable[dict[str, str]] = (),
    outputs: Iterable[dict[str, str]] = (),
    run_facets: Mapping[str, Any] | None = None,
    job_type: str = "JOB",
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z"),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA_URL,
        "run": {"runId": run_id, "facets": dict(run_facets or {})},
        "job": {
            "namespace": NAMESPACE,
            "name": job_name,
            "facets": {
                "jobType": _facet("jobType", processingType="BATCH", integration="DAGSTER", jobType=job_type)
            },
        },
        "inputs": list(inputs),
        "outputs": list(outputs),
    }


def _step_assets(graph: Any) -> tuple[dict[str, set[dg.AssetKey]], Any]:
    """Step (op) name -> the asset keys it materialises, and the asset graph for their parents."""
    by_step: dict[str, set[dg.AssetKey]] = {}
    for assets_def in graph.assets_defs:
        if assets_def.is_executable and assets_def.keys:
            by_step.setdefault(assets_def.node_def.name, set()).update(assets_def.keys)
    return by_step, graph


def run_events(instance: dg.DagsterInstance, run_id: str, asset_graph: Any, settings: Settings) -> list[dict]:
    """The OpenLineage events of one finished Dagster run, in the order things happened."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return []
    by_step, graph = _step_assets(asset_graph)
    started: dict[str, float] = {}
    ended: dict[str, tuple[str, float, str | None]] = {}
    written: dict[str, set[dg.AssetKey]] = {}
    run_start = run_end = None
    run_failed = False
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == dg.DagsterEventType.RUN_START:
            run_start = record.timestamp
        elif kind in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
            run_end, run_failed = record.timestamp, kind == dg.DagsterEventType.RUN_FAILURE
        elif kind == dg.DagsterEventType.STEP_START:
            started[event.step_key] = record.timestamp
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            ended[event.step_key] = ("COMPLETE", record.timestamp, None)
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:
                error = error.cause
            message = (error.message if error else "step failed").strip()
            ended[event.step_key] = ("FAIL", record.timestamp, message)
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            key = event.step_materialization_data.materialization.asset_key
            written.setdefault(event.step_key, set()).add(key)

    parent_id = run_id
    job = run.job_name
    parent = _facet("parent", run={"runId": parent_id}, job={"namespace": NAMESPACE, "name": job})
    events: list[dict] = []
    if run_start is not None:
        events.append(_event("START", run_start, parent_id, job))
    for step, at in sorted(started.items(), key=lambda item: item[1]):
        planned = by_step.get(step, set())
        outputs = written.get(step) or planned
        inputs = {p for key in planned if graph.has(key) for p in graph.get(key).parent_keys} - planned
        step_run = str(uuid.uuid5(uuid.UUID(parent_id), step))
        name = f"{job}.{step}"
        ins = [dataset(k, settings) for k in sorted(inputs)]
        outs = [dataset(k, settings) for k in sorted(outputs)]
        events.append(
            _event("START", at, step_run, name, inputs=ins, run_facets={"parent": parent}, job_type="ASSET")
        )
        if step in ended:
            status, end, message = ended[step]
            facets: dict[str, Any] = {"parent": parent}
            if message:
                facets["errorMessage"] = _facet("errorMessage", message=message, programmingLanguage="python")
            events.append(
                _event(
                    status, end, step_run, name, inputs=ins, outputs=outs, run_facets=facets, job_type="ASSET"
                )
            )
    if run_end is not None:
        events.append(_event("FAIL" if run_failed else "COMPLETE", run_end, parent_id, job))
    return events


def emit(events: list[dict], settings: Settings) -> Path:
    """Append events to the JSON-lines file; POST each to NQS_OPENLINEAGE_URL when it is set."""
    path = events_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event, sort_keys=True) + "\n")
    url = os.environ.get(URL_ENV)
    if url:
        for event in events:
            _post(url, event)
    return path


def _post(url: str, event: dict) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(event).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the operator configures the URL
            pass
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        # lineage is a by-product of the build: an unreachable catalogue must not fail it
        print(f"OpenLineage: could not POST to {url}: {exc}", file=sys.stderr)


def emit_run(
    instance: dg.DagsterInstance, run_id: str, asset_graph: Any, settings: Settings
) -> tuple[Path, int]:
    """Emit the OpenLineage events of one run; returns the events file and how many were written.

    `asset_graph` is the code location's (`Definitions.resolve_asset_graph()`, or a sensor's
    `repository_def.asset_graph`): it names the datasets each step read and wrote.
    """
    events = run_events(instance, run_id, asset_graph, settings)
    return emit(events, settings), len(events)
