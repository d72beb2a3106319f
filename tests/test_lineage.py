"""Lineage from source files to priorities: seeds, generated dbt files, CLI, marts, Dagster, OpenLineage."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import jsonschema
import polars as pl
import pytest
from conftest import (
    DROPPED_COLUMN,
    REFUSED_SOURCE,
    REFUSED_TABLE,
    REPO_ROOT,
    Build,
    RebuiltBuild,
    RefusedBuild,
    run_nqs_many,
)

SEEDS = REPO_ROOT / "seeds"
DBT_DIR = REPO_ROOT / "dbt_project"
TABLES_SQL = "select table_name from information_schema.tables where table_schema = 'marts'"
COLUMNS_SQL = (
    "select column_name from information_schema.columns "
    "where table_schema = 'marts' and table_name = ? order by ordinal_position"
)


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _seed_active_version() -> str:
    (active,) = [v["strategy_version"] for v in _seed("strategy_versions") if v["status"] == "active"]
    return active


def _versions() -> list[str]:
    return [v["strategy_version"] for v in _seed("strategy_versions")]


def _draft_version() -> str:
    return next(v for v in _versions() if v != _seed_active_version())


def _priorities_depending_on(source: str, version: str) -> set[str]:
    """From the seeds alone: priorities whose metrics (or whose sub-priorities' metrics) read `source`."""
    metrics = {m["metric_id"] for m in _seed("metric_catalogue") if source in m["sources"].split()}
    parents = {
        p["priority_id"]: p["parent_priority_id"]
        for p in _seed("priorities")
        if p["strategy_version"] == version
    }
    found: set[str] = set()
    for row in _seed("metric_priorities"):
        if row["strategy_version"] == version and row["metric_id"] in metrics:
            priority = row["priority_id"]
            while priority:
                found.add(priority)
                priority = parents.get(priority)
    return found


UNKNOWN_NAMES = [("--source", "nowhere"), ("--priority", "world_peace"), ("--metric", "happiness")]
#: The `nqs lineage` commands that need no build, run together in one process (`lineage_cli`).
LINEAGE_COMMANDS = [
    ("lineage", "--source", "incidents", "--json"),
    ("lineage", "--source", "incident", "--json"),
    ("lineage", "--source", "incidents", "--strategy-version", _draft_version(), "--json"),
    ("lineage", "--metric", "never_events"),
    *(("lineage", flag, name) for flag, name in UNKNOWN_NAMES),
]


@pytest.fixture(scope="module")
def lineage_cli(tmp_path_factory) -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    """Each of LINEAGE_COMMANDS run through `nqs`, on an empty data folder: lineage needs no build."""
    return run_nqs_many(LINEAGE_COMMANDS, data_dir=tmp_path_factory.mktemp("lineage_cli"))


# ---------------------------------------------------------------------------------------------
# The taxonomy in the seeds
# ---------------------------------------------------------------------------------------------


def test_two_strategy_versions_each_with_a_tree_and_a_mapping():
    versions = _seed("strategy_versions")
    assert len(versions) >= 2 and sum(v["status"] == "active" for v in versions) == 1
    for version in _versions():
        priorities = [p for p in _seed("priorities") if p["strategy_version"] == version]
        levels = {p["level"] for p in priorities}
        assert levels == {"domain", "priority", "sub_priority"}, version
        assert all(p["title"] and p["description"] and p["valid_from"] for p in priorities)
        mapping = [m for m in _seed("metric_priorities") if m["strategy_version"] == version]
        assert {m["role"] for m in mapping} == {"primary", "supporting"}
        assert all(m["rationale"] for m in mapping)
    first, second = (
        {p["priority_id"] for p in _seed("priorities") if p["strategy_version"] == v} for v in _versions()[:2]
    )
    assert first - second and second - first, "the second version re-organises nothing"


def test_every_metric_maps_to_a_priority_of_the_active_version():
    active = _seed_active_version()
    mapped = {m["metric_id"] for m in _seed("metric_priorities") if m["strategy_version"] == active}
    priorities = {p["priority_id"] for p in _seed("priorities") if p["strategy_version"] == active}
    assert {m["metric_id"] for m in _seed("metric_catalogue")} <= mapped
    assert {
        m["priority_id"] for m in _seed("metric_priorities") if m["strategy_version"] == active
    } <= priorities


def test_the_strategy_version_setting_switches_what_dagster_reads():
    draft = _draft_version()
    code = (
        "from nqs.catalogue import load_strategy\n"
        "s = load_strategy()\n"
        "print(s.version, sorted(p.priority_id for p in s.priorities))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "NQS_STRATEGY_VERSION": draft},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    expected = sorted(p["priority_id"] for p in _seed("priorities") if p["strategy_version"] == draft)
    assert done.stdout.strip() == f"{draft} {expected}"
    wrong = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, "NQS_STRATEGY_VERSION": "no_such_version"},
        capture_output=True,
        text=True,
    )
    assert wrong.returncode != 0 and "no_such_version" in wrong.stderr


# ---------------------------------------------------------------------------------------------
# Generated files and dbt exposures
# ---------------------------------------------------------------------------------------------


def test_source_tables_seed_is_the_contract_registry():
    from contracts.sources import SOURCE_TABLES

    rows = _seed("source_tables")
    assert [(r["source"], r["table_name"], r["contract"], r["contract_version"]) for r in rows] == [
        (t.source, t.table, t.model.__name__, t.version) for t in SOURCE_TABLES
    ]


#: `dbt ls` of each argument list of the JSON list argv[1], with the common arguments argv[2], in one
#: process: the project is parsed once and every listing reads that manifest.
_DBT_LISTINGS = """
import json, sys
from dbt.cli.main import dbtRunner

common = json.loads(sys.argv[2])
parsed = dbtRunner().invoke(["parse", *common])
if not parsed.success:
    sys.exit(f"dbt parse failed: {parsed.exception}")
runner = dbtRunner(manifest=parsed.result)
listings = []
for args in json.loads(sys.argv[1]):
    done = runner.invoke(["ls", *args, "--output", "name", "--quiet", *common])
    if not done.success:
        sys.exit(f"dbt ls {args} failed: {done.exception}")
    listings.append(list(done.result))
print(json.dumps(listings))
"""


@pytest.fixture(scope="module")
def dbt_listing(tmp_path_factory) -> dict[str, set[str]]:
    """`dbt ls` of every exposure and of what `+exposure:<priority>` selects for two priorities."""
    tmp = tmp_path_factory.mktemp("dbt_ls")
    priorities = ("stroke_care", "never_events_elimination")
    selections = [["--resource-type", "exposure"]] + [
        ["--select", f"+exposure:{p}", "--resource-type", "model", "--resource-type", "seed"]
        for p in priorities
    ]
    common = [
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(tmp / "target"),
    ]
    env = {**os.environ, "NQS_BUILD_DB": str(tmp / "parse.duckdb"), "NQS_LANDED_DIR": str(tmp / "landed")}
    done = subprocess.run(
        [sys.executable, "-c", _DBT_LISTINGS, json.dumps(selections), json.dumps(common)],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    exposures, *selected = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "exposures": set(exposures),
        **{p: set(names) for p, names in zip(priorities, selected, strict=True)},
    }


def test_one_exposure_per_priority_of_the_active_version(dbt_listing):
    active = _seed_active_version()
    priorities = {p["priority_id"] for p in _seed("priorities") if p["strategy_version"] == active}
    metrics = {m["metric_id"] for m in _seed("metric_catalogue")}  # each metric has its own exposure too
    assert dbt_listing["exposures"] == priorities | metrics


def test_exposure_selection_builds_what_a_priority_needs_and_no_unrelated_source(dbt_listing):
    stroke = dbt_listing["stroke_care"]
    assert {"stg_stroke_audit__admissions", "int_metrics__stroke_audit", "priority_coverage"} <= stroke
    assert {"data_quality_results", "metric_lineage", "dim_priorities", "metric_catalogue"} <= stroke
    assert not {"stg_incidents__events", "int_metrics__incidents", "stg_workforce__vacancies"} & stroke
    never = dbt_listing["never_events_elimination"]
    assert {"stg_incidents__events", "int_metrics__incidents", "priority_coverage"} <= never
    assert "stg_stroke_audit__admissions" not in never


# ---------------------------------------------------------------------------------------------
# nqs lineage
# ---------------------------------------------------------------------------------------------


def _incident_contract() -> str:
    from contracts.sources import get_table

    return get_table("incidents", "events").model.__name__


def test_lineage_of_a_source_lists_every_dependent_metric_and_priority(lineage_cli):
    done = lineage_cli[("lineage", "--source", "incidents", "--json")]
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    expected_metrics = {
        m["metric_id"] for m in _seed("metric_catalogue") if "incidents" in m["sources"].split()
    }
    assert {m["metric_id"] for m in result["metrics"]} == expected_metrics
    assert {p["priority_id"] for p in result["priorities"]} == _priorities_depending_on(
        "incidents", _seed_active_version()
    )
    (table,) = result["tables"]
    assert table["contract"] == _incident_contract() and table["models"][0] == "stg_incidents__events"
    # the family name answers the same question
    family = json.loads(lineage_cli[("lineage", "--source", "incident", "--json")].stdout)
    assert {m["metric_id"] for m in family["metrics"]} == expected_metrics


def test_lineage_reads_a_previous_version(lineage_cli):
    draft = _draft_version()
    done = lineage_cli[("lineage", "--source", "incidents", "--strategy-version", draft, "--json")]
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["strategy_version"] == draft and result["is_active_strategy"] is False
    assert {p["priority_id"] for p in result["priorities"]} == _priorities_depending_on("incidents", draft)


def test_lineage_of_a_metric_goes_both_ways_and_prints_a_tree(lineage_cli):
    done = lineage_cli[("lineage", "--metric", "never_events")]
    assert done.returncode == 0, done.stderr
    mapped = [
        m["priority_id"]
        for m in _seed("metric_priorities")
        if m["metric_id"] == "never_events" and m["strategy_version"] == _seed_active_version()
    ]
    for priority in mapped:
        assert priority in done.stdout
    assert _incident_contract() in done.stdout and "stg_incidents__events" in done.stdout
    assert "└── " in done.stdout


@pytest.mark.parametrize(("flag", "name"), UNKNOWN_NAMES)
def test_lineage_says_clearly_when_a_name_is_unknown(lineage_cli, flag, name):
    done = lineage_cli[("lineage", flag, name)]
    assert done.returncode == 2
    assert f"unknown {flag.removeprefix('--')} '{name}'" in done.stderr and "known" in done.stderr
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------------------------------------
# On the sample build
# ---------------------------------------------------------------------------------------------


def test_every_priority_with_metrics_reaches_real_source_files(sample_build: Build):
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    delivered = set(sample_build.manifest["files"])
    active = _seed_active_version()
    with_metrics = sorted(
        {m["priority_id"] for m in _seed("metric_priorities") if m["strategy_version"] == active}
    )
    assert with_metrics
    commands = [("lineage", "--priority", priority, "--json") for priority in with_metrics]
    outcomes = run_nqs_many(commands, data_dir=sample_build.data_dir)
    for priority, command in zip(with_metrics, commands, strict=True):
        done = outcomes[command]
        assert done.returncode == 0, done.stderr
        tree = json.loads(done.stdout)["priority"]
        tables = [t for m in tree["metrics"] for s in m["sources"] for t in s["tables"]]
        assert tables, priority
        for table in tables:
            assert table["files"], f"{priority}: {table['source']}/{table['table']} has no files"
            assert {f"{table['source']}/{f}" for f in table["files"]} <= delivered
            assert table["models"][-1] == "metric_values"


def test_metric_lineage_mart_reaches_landed_files_and_contracts(sample_build: Build):
    rows = sample_build.query(
        "select distinct source_name, table_name, contract, contract_version, upstream_models "
        "from marts.metric_lineage where is_active_strategy"
    )
    assert rows
    landed = {
        (s, t)
        for s, t in sample_build.query("select distinct source, table_name from marts.data_quality_results")
    }
    for source, table, contract, version, models in rows:
        assert (source, table) in landed
        assert contract and version
        assert models.startswith(f"stg_{source}__{table}") and models.endswith("metric_values")
    versions = {
        v for (v,) in sample_build.query("select distinct strategy_version from marts.metric_lineage")
    }
    assert versions == set(_versions())


def test_priority_coverage_on_the_sample_covers_what_has_metrics(sample_build: Build):
    active = _seed_active_version()
    rows = dict(
        sample_build.query(
            "select priority_id, coverage_status from marts.priority_coverage where strategy_version = ?",
            [active],
        )
    )
    with_metrics = {
        p
        for source in {s for m in _seed("metric_catalogue") for s in m["sources"].split()}
        for p in _priorities_depending_on(source, active)
    }
    assert {p for p, s in rows.items() if s == "covered"} == with_metrics
    assert {p for p, s in rows.items() if s == "no metric"} == set(rows) - with_metrics


def _exact_part(row: tuple) -> tuple:
    """A row without its doubles: what must match exactly, and what rows are ordered by."""
    return tuple(v for v in row if not isinstance(v, float))


def test_switching_the_strategy_version_changes_the_coverage_table_and_nothing_else(
    sample_build: Build, rebuilt_build: RebuiltBuild
):
    """Rebuild the warehouse with the draft version active; only the strategy flags move."""
    draft = _draft_version()
    assert rebuilt_build.strategy_version == draft
    assert rebuilt_build.exit_code == 0, rebuilt_build.output[-6000:]
    build_db, original = rebuilt_build.build_db, sample_build.build_db
    with duckdb.connect(str(original), read_only=True) as db:
        marts = [t for (t,) in db.execute(TABLES_SQL).fetchall()]
    strategy_marts = {"priorities", "metric_lineage", "priority_coverage"}
    assert strategy_marts <= set(marts)

    def rows(db_path: Path, table: str, drop: tuple[str, ...] = ()) -> list[tuple]:
        with duckdb.connect(str(db_path), read_only=True) as db:
            columns = [c for (c,) in db.execute(COLUMNS_SQL, [table]).fetchall()]
            keep = ", ".join(f'"{c}"' for c in columns if c not in drop)
            found = db.execute(f"select {keep} from marts.{table}").fetchall()  # noqa: S608
        return sorted(found, key=lambda row: repr((_exact_part(row), row)))

    def same(table: str, drop: tuple[str, ...] = ()) -> bool:
        """Equal rows; doubles to 1e-9 relative (DuckDB's parallel sums vary in their last bits).

        The rows equal to the last bit are set aside in SQL; those left on either side must pair up.
        """
        with duckdb.connect(str(original), read_only=True) as db:
            columns = [c for (c,) in db.execute(COLUMNS_SQL, [table]).fetchall()]
        keep = ", ".join(f'"{c}"' for c in columns if c not in drop)
        with duckdb.connect() as db:
            db.execute(f"attach '{build_db}' as switched (read_only)")
            db.execute(f"attach '{original}' as original (read_only)")
            left, right = (
                sorted(
                    db.execute(
                        f"select {keep} from {one}.marts.{table} "  # noqa: S608
                        f"except all select {keep} from {other}.marts.{table}"
                    ).fetchall(),
                    key=lambda row: repr((_exact_part(row), row)),
                )
                for one, other in (("switched", "original"), ("original", "switched"))
            )
        return len(left) == len(right) and all(
            _exact_part(a) == _exact_part(b)
            and [v for v in a if isinstance(v, float)]
            == pytest.approx([v for v in b if isinstance(v, float)], rel=1e-9, nan_ok=True)
            for a, b in zip(left, right, strict=True)
        )

    # the rebuild landed every file again: when is the one thing in the results that may differ
    relanded = {"data_quality_results": ("loaded_at",)}
    for table in marts:
        if table in strategy_marts:
            assert same(table, ("is_active_strategy",)), table
        else:
            assert same(table, relanded.get(table, ())), f"{table} changed with the strategy version"

    with duckdb.connect(str(build_db), read_only=True) as db:
        sql = "select distinct strategy_version from marts.priority_coverage where is_active_strategy"
        active = {v for (v,) in db.execute(sql).fetchall()}
    assert active == {draft}
    assert rows(build_db, "priority_coverage") != rows(original, "priority_coverage")


def test_openlineage_events_have_the_spec_shape(sample_build: Build):
    events = [json.loads(line) for line in (sample_build.data_dir / "lineage" / "openlineage.jsonl").open()]
    assert events
    jsonschema.validate(events, {"type": "array", "items": RUN_EVENT_SCHEMA})
    for event in events:
        uuid.UUID(event["run"]["runId"])
    types = {e["eventType"] for e in events}
    assert {"START", "COMPLETE"} <= types
    landing = [
        e
        for e in events
        if e["job"]["name"].endswith("land_incidents__events") and e["eventType"] == "COMPLETE"
    ]
    assert landing  # one per build of this data folder
    for complete in landing:
        assert any(d["name"].endswith("sources/incidents/events") for d in complete["inputs"])
        assert any(d["name"].endswith("landed/incidents/events") for d in complete["outputs"])
    built = {d["name"] for e in events if e["eventType"] == "COMPLETE" for d in e["outputs"]}
    assert {"marts.priority_coverage", "marts.metric_lineage", "marts.metric_values"} <= built


def test_openlineage_events_are_posted_when_a_url_is_set(tmp_path: Path, monkeypatch):
    from nqs.settings import Settings
    from orchestration.lib.openlineage import emit

    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server interface
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("NQS_OPENLINEAGE_URL", f"http://127.0.0.1:{server.server_port}/api/v1/lineage")
        event = {
            "eventType": "START",
            "eventTime": "2026-01-01T00:00:00Z",
            "run": {"runId": str(uuid.uuid4())},
        }
        path = emit([event], Settings(data_dir=tmp_path, sources_dir=tmp_path, pseudonym_key="k"))
    finally:
        server.shutdown()
    assert received == [event]
    assert [json.loads(line) for line in path.open()] == [event]


def test_a_critical_contract_failure_marks_exactly_the_dependent_priorities_at_risk(
    refused_build: RefusedBuild,
):
    """incidents/events loses a column: Dagster and priority_coverage flag exactly incidents' priorities."""
    assert refused_build.exit_code != 0
    broken, data_dir = refused_build.broken_file, refused_build.data_dir
    refused_table = f"{REFUSED_SOURCE}/{REFUSED_TABLE}"
    active = _seed_active_version()
    expected = _priorities_depending_on(REFUSED_SOURCE, active)
    assert expected

    # Dagster: the contract_health check of each dependent priority failed, naming source, check and file
    lines = refused_build.stdout.split("Priorities at risk", 1)[1].splitlines()[1:]
    flagged = dict(line.strip().split(": ", 1) for line in lines if line.startswith("  ") and ": " in line)
    flagged = {p: r for p, r in flagged.items() if p in {x["priority_id"] for x in _seed("priorities")}}
    assert set(flagged) == expected
    for reason in flagged.values():
        assert refused_table in reason and "critical:missing_column" in reason and broken.name in reason

    # the warehouse: the run itself rebuilt priority_coverage from the contract results, although the
    # incidents models and every metric were skipped
    with duckdb.connect(str(refused_build.build_db), read_only=True) as db:
        rows = db.execute(
            "select priority_id, failing_sources, failing_checks from marts.priority_coverage "
            "where strategy_version = ? and coverage_status = 'metrics at risk'",
            [active],
        ).fetchall()
    assert {p for p, _, _ in rows} == expected
    for _, sources, checks in rows:
        assert sources == refused_table
        assert f"critical:missing_column ({DROPPED_COLUMN})" in checks and broken.name in checks

    # OpenLineage: the run and the step that stopped it are FAIL events carrying the error
    events = [json.loads(line) for line in (data_dir / "lineage" / "openlineage.jsonl").open()]
    jsonschema.validate(events, {"type": "array", "items": RUN_EVENT_SCHEMA})
    assert events[-1]["eventType"] == "FAIL" and events[-1]["job"]["name"] == "refresh_warehouse"
    failed = [e for e in events if e["eventType"] == "FAIL" and "errorMessage" in e["run"]["facets"]]
    assert any(DROPPED_COLUMN in e["run"]["facets"]["errorMessage"]["message"] for e in failed)


#: The required fields of the OpenLineage 2-0-2 RunEvent (https://openlineage.io/spec/2-0-2/OpenLineage.json).
_DATASET = {
    "type": "object",
    "required": ["namespace", "name"],
    "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": {"type": "object"}},
}
RUN_EVENT_SCHEMA = {
    "type": "object",
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
    "properties": {
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "eventTime": {"type": "string", "format": "date-time"},
        "producer": {"type": "string", "format": "uri"},
        "schemaURL": {"type": "string", "format": "uri"},
        "run": {
            "type": "object",
            "required": ["runId"],
            "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": {"type": "object"}},
        },
        "job": {
            "type": "object",
            "required": ["namespace", "name"],
            "properties": {
                "namespace": {"type": "string"},
                "name": {"type": "string"},
                "facets": {"type": "object"},
            },
        },
        "inputs": {"type": "array", "items": _DATASET},
        "outputs": {"type": "array", "items": _DATASET},
    },
}


def test_dagster_priorities_carry_lineage_and_a_health_check_that_needs_no_metric():
    import dagster as dg

    from contracts.sources import SOURCE_TABLES
    from nqs.catalogue import load_strategy
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    strategy = load_strategy()
    for priority in strategy.priorities:
        key = dg.AssetKey(["priorities", priority.priority_id])
        metadata = graph.get(key).metadata
        assert {"metrics", "metric_domains", "sources", "contracts", "domain"} <= set(metadata)
        assert dg.AssetCheckKey(key, "contract_health") in graph.get_check_keys_for_assets({key})
    # the step evaluating those checks waits only on the contract results, written whatever a file's fate
    health = graph.get(dg.AssetKey(["quality", "priority_contract_health"]))
    assert {tuple(k.path[:2]) for k in health.parent_keys} == {("landed", "check_results")}
    assert len(health.parent_keys) == len(SOURCE_TABLES)


def test_each_file_shows_the_contract_version_it_landed_under(tmp_path: Path):
    """Files of an older contract version are shown under it, from the ledger once landed, and from
    their header before: not all under the newest version."""
    from contracts.sources import get_table
    from nqs.catalogue import load_strategy
    from nqs.landing.land import land_source_table
    from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY
    from nqs.lineage import LineageIndex, for_source, render_tree, to_tree

    table = get_table("incidents", "events")
    fixtures = REPO_ROOT / "tests" / "fixtures"
    sources, landed = tmp_path / "sources", tmp_path / "landed"
    (sources / "incidents").mkdir(parents=True)
    shutil.copytree(fixtures / "contracts" / "organisations", sources / "organisations")
    v1 = fixtures / "contracts" / "incidents" / "events_2025-05.csv"
    v2 = fixtures / "contract_versions" / "incidents" / "events_2025-05.csv"
    for name, fixture in [("events_2025-08", v1), ("events_2025-09", v1), ("events_2025-10", v2)]:
        (sources / "incidents" / f"{name}.csv").write_bytes(fixture.read_bytes())
    land_source_table(table, sources, landed, pseudonym_key=SAMPLE_PSEUDONYM_KEY, today=date(2026, 4, 30))
    # delivered after landing: not landed yet, its version read from its header
    (sources / "incidents" / "events_2025-11.csv").write_bytes(v2.read_bytes())
    landed_versions = {
        p.stem: pl.read_parquet(p)["_contract_version"].unique().to_list()
        for p in (landed / "incidents" / "events").rglob("*.parquet")
    }
    assert landed_versions == {"events_2025-08": ["v1"], "events_2025-09": ["v1"], "events_2025-10": ["v2"]}

    empty_manifest = {"child_map": {}, "parent_map": {}, "nodes": {}}  # the files need no dbt models
    index = LineageIndex(load_strategy(), empty_manifest, sources, landed)
    result = for_source(index, "incidents/events")
    (found,) = result["tables"]
    assert [(f["file"], f["contract_version"], f["landed"]) for f in found["file_versions"]] == [
        ("events_2025-08.csv", "v1", True),
        ("events_2025-09.csv", "v1", True),
        ("events_2025-10.csv", "v2", True),
        ("events_2025-11.csv", "v2", False),
    ]
    tree = render_tree(to_tree("source", result))
    v1_model, v2_model = (table.at_version(v).model.__name__ for v in ("v1", "v2"))
    assert f"v1 ({v1_model}): 2 files, landed: events_2025-08.csv .. events_2025-09.csv" in tree
    assert f"v2 ({v2_model}): 1 file, landed: events_2025-10.csv" in tree
    assert f"v2 ({v2_model}): 1 file, not landed yet (version from the header): events_2025-11.csv" in tree
