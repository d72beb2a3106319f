"""A monthly service: landing by month partition, change detection by content hash, the file sensor.

Landing and the sensor run on real files (the contract fixtures, copied as several months) with the
real landing code, ledger and a real Dagster instance; the builds are the session's shared builds
(tests/conftest.py): the refused build changes one file, the rebuilt build is a `--full-refresh`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from conftest import REFUSED_SOURCE, REFUSED_TABLE, Build, RebuiltBuild, RefusedBuild, copy_data, run_nqs

from contracts.sources import SOURCE_TABLES, get_table
from nqs.landing.land import land_source_table
from nqs.landing.ledger import mark_built, read_ledger
from nqs.landing.paths import is_monthly, output_folders, parquet_files
from nqs.settings import DBT_PROJECT_DIR, SAMPLE_PSEUDONYM_KEY, get_settings

FIXTURES = Path(__file__).parent / "fixtures" / "contracts"
KEY = SAMPLE_PSEUDONYM_KEY.encode()
EVENTS = get_table("incidents", "events")
MONTHS = ("2025-05", "2025-06", "2025-07")


def _sources(tmp_path: Path) -> Path:
    """The contract fixtures, with incidents/events delivered for three months."""
    sources = tmp_path / "sources"
    shutil.copytree(FIXTURES, sources)
    for month in MONTHS[1:]:
        shutil.copy(
            sources / "incidents" / "events_2025-05.csv", sources / "incidents" / f"events_{month}.csv"
        )
    return sources


def _land(sources: Path, landed: Path, **options) -> list[str]:
    results = land_source_table(EVENTS, sources, landed, pseudonym_key=KEY, today=_today(), **options)
    return [r.source_file for r in results]


def _today():
    from datetime import date

    return date(2026, 4, 30)


def _snapshot(landed: Path) -> dict[str, tuple[int, int]]:
    """Every output file of the table -> (rows, modification time in ns)."""
    return {
        p.relative_to(landed).as_posix(): (pl.read_parquet(p).height, p.stat().st_mtime_ns)
        for folder in output_folders(EVENTS, landed)
        for p in parquet_files(folder)
    }


def test_each_month_lands_in_its_own_hive_partition_and_relanding_it_replaces_only_it(tmp_path):
    sources, landed = _sources(tmp_path), tmp_path / "landed"
    _land(sources, landed)
    first = _snapshot(landed)
    assert {Path(p).parent.name for p in first} == {f"month={m}" for m in MONTHS}
    assert "incidents/events/month=2025-06/events_2025-06.parquet" in first
    assert "_quarantine/incidents/events/month=2025-06/events_2025-06.parquet" in first

    assert _land(sources, landed, months={"2025-06"}) == ["incidents/events_2025-06.csv"]
    second = _snapshot(landed)
    assert {p: rows for p, (rows, _) in second.items()} == {p: rows for p, (rows, _) in first.items()}
    rewritten = {p for p in first if second[p][1] != first[p][1]}
    assert rewritten and all("month=2025-06" in p for p in rewritten)


def test_only_new_or_changed_files_are_landed_by_content_hash(tmp_path):
    sources, landed = _sources(tmp_path), tmp_path / "landed"
    assert len(_land(sources, landed, only_changed=True)) == len(MONTHS)
    assert _land(sources, landed, only_changed=True) == []  # nothing changed
    corrected = sources / "incidents" / "events_2025-06.csv"
    lines = corrected.read_text().splitlines(keepends=True)
    corrected.write_text("".join(lines[:-1]))  # a corrected resubmission: one row withdrawn
    before = _snapshot(landed)
    assert _land(sources, landed, only_changed=True) == ["incidents/events_2025-06.csv"]
    after = _snapshot(landed)
    accepted = "incidents/events/month=2025-06/events_2025-06.parquet"
    quarantined = "_quarantine/incidents/events/month=2025-06/events_2025-06.parquet"
    assert after[accepted][0] + after[quarantined][0] < before[accepted][0] + before[quarantined][0]
    assert {p for p in before if after[p][1] != before[p][1]} <= {p for p in before if "month=2025-06" in p}
    # the same file with the same content but a new modification time is not landed again
    corrected.touch()
    assert _land(sources, landed, only_changed=True) == []


def test_a_withdrawn_file_leaves_no_output_and_its_month_is_pending_until_built(tmp_path):
    sources, landed = _sources(tmp_path), tmp_path / "landed"
    _land(sources, landed)
    mark_built([EVENTS], landed, {})
    assert read_ledger(EVENTS, landed).pending_months() == set()
    (sources / "incidents" / "events_2025-07.csv").unlink()
    _land(sources, landed, only_changed=True)
    assert not [p for p in _snapshot(landed) if "2025-07" in p]
    assert not (landed / "incidents" / "events" / "month=2025-07").exists()
    assert read_ledger(EVENTS, landed).pending_months() == {"2025-07"}
    mark_built([EVENTS], landed, {})
    assert read_ledger(EVENTS, landed).pending_months() == set()


def test_other_landing_inputs_land_every_file_again(tmp_path):
    """A file landed under other contracts, landing code, organisations or key is landed again."""
    sources, landed = _sources(tmp_path), tmp_path / "landed"
    _land(sources, landed, only_changed=True, landing_fingerprint="before")
    assert len(_land(sources, landed, only_changed=True, landing_fingerprint="after")) == len(MONTHS)


def test_outputs_of_the_flat_layout_are_swept(tmp_path):
    sources, landed = _sources(tmp_path), tmp_path / "landed"
    _land(sources, landed)
    flat = landed / "incidents" / "events" / "events_2025-05.parquet"
    shutil.copy(landed / "incidents" / "events" / "month=2025-05" / "events_2025-05.parquet", flat)
    _land(sources, landed, only_changed=True)
    assert not flat.exists()


# ---------------------------------------------------------------------------------------------
# The plan of `nqs build`: what changed since the last successful build, and when it is a full refresh
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def settings_at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    sources = _sources(tmp_path)
    monkeypatch.setenv("NQS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NQS_SOURCES_DIR", str(sources))
    monkeypatch.setenv("NQS_PSEUDONYM_KEY", "a-test-key")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_the_plan_is_a_full_refresh_first_then_only_the_changed_months(settings_at):
    from orchestration.lib.changes import pending_months, plan_build, record_successful_build

    first = plan_build(settings_at)
    assert first.full_refresh and first.reland and first.full_refresh_reason == "no build has succeeded yet"
    for table in SOURCE_TABLES:
        land_source_table(
            table,
            settings_at.sources_dir,
            settings_at.landed_dir,
            pseudonym_key=settings_at.landing_key(),
            today=_today(),
            landing_fingerprint=first.fingerprints["landing_fingerprint"],
        )
    record_successful_build(settings_at, first.fingerprints)
    assert plan_build(settings_at).nothing_changed
    corrected = settings_at.sources_dir / "incidents" / "events_2025-06.csv"
    corrected.write_text(corrected.read_text().replace("low", "moderate", 1))
    plan = plan_build(settings_at)
    assert not plan.full_refresh and plan.pending == {
        "incidents/events": {"incidents/events_2025-06.csv": "2025-06"}
    }
    assert plan.months == {"2025-06"} and pending_months(settings_at) == set()  # not landed yet
    forced = plan_build(settings_at, full_refresh=True)
    assert forced.full_refresh and forced.reland


def test_changed_seeds_or_organisations_make_the_build_a_full_refresh(settings_at, monkeypatch):
    from orchestration.lib.changes import full_refresh_reason, plan_build, record_successful_build

    record_successful_build(settings_at, plan_build(settings_at).fingerprints)
    assert full_refresh_reason(settings_at, plan_build(settings_at).fingerprints) == (None, False)
    monkeypatch.setenv("NQS_STRATEGY_VERSION", "draft")
    reason, reland = full_refresh_reason(settings_at, plan_build(settings_at).fingerprints)
    assert "seeds" in reason and not reland
    monkeypatch.delenv("NQS_STRATEGY_VERSION")
    organisations = settings_at.sources_dir / "organisations" / "organisations.csv"
    organisations.write_text(organisations.read_text() + "\n")
    reason, reland = full_refresh_reason(settings_at, plan_build(settings_at).fingerprints)
    assert "organisations" in reason and reland


def test_dbt_gets_the_changed_months_or_a_full_refresh(settings_at):
    from orchestration.defs.transform.dbt import BUILD_ARGS, DbtStepConfig, build_invocations
    from orchestration.lib.changes import plan_build, record_successful_build

    assert build_invocations(DbtStepConfig(), settings_at) == [[*BUILD_ARGS, "--full-refresh"]]  # first build
    record_successful_build(settings_at, plan_build(settings_at).fingerprints)
    (months,) = build_invocations(DbtStepConfig(changed_months=["2025-06", "2024-01"]), settings_at)
    assert months == [*BUILD_ARGS, "--vars", json.dumps({"changed_months": ["2024-01-01", "2025-06-01"]})]
    assert build_invocations(DbtStepConfig(full_refresh=True), settings_at) == [
        [*BUILD_ARGS, "--full-refresh"]
    ]


def test_a_long_full_refresh_is_rebuilt_in_windows_of_whole_financial_years():
    from orchestration.lib.changes import rebuild_windows

    ten_years = {f"{2016 + (i + 3) // 12}-{(i + 3) % 12 + 1:02d}" for i in range(120)}  # 2016-04..2026-03
    windows = rebuild_windows(ten_years, 24)
    assert [len(w) for w in windows] == [24] * 5 and sorted(sum(windows, [])) == sorted(ten_years)
    assert windows[0][0] == "2016-04" and windows[0][-1] == "2018-03" and windows[1][0] == "2018-04"
    # a history starting mid-year: its first part-year goes with the next whole year when both fit
    from_june = {m for m in ten_years if m >= "2016-06"}
    assert [len(w) for w in rebuild_windows(from_june, 24)] == [22, 24, 24, 24, 24]
    assert [len(w) for w in rebuild_windows(from_june, 36)] == [34, 36, 36, 12]
    assert rebuild_windows(ten_years, 0) == rebuild_windows(ten_years, 120) == [sorted(ten_years)]
    assert rebuild_windows(set(), 24) == []


def test_the_rebuild_window_setting():
    from nqs.settings import REBUILD_WINDOW_MONTHS_VARIABLE, SettingsError, rebuild_window_months

    assert rebuild_window_months("0") == 0 and rebuild_window_months(" 36 ") == 36
    for unusable in ("6", "-1", "two years"):
        with pytest.raises(SettingsError, match=REBUILD_WINDOW_MONTHS_VARIABLE):
            rebuild_window_months(unusable)


# ---------------------------------------------------------------------------------------------
# Dagster: monthly partitions on landing, the file sensor
# ---------------------------------------------------------------------------------------------


def test_landing_assets_are_partitioned_by_month_from_the_calendar_and_dbt_is_not():
    import yaml

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    start = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["calendar_start_date"]
    for table in SOURCE_TABLES:
        node = graph.get(dg.AssetKey(["landed", table.source, table.table]))
        if not is_monthly(table):
            assert node.partitions_def is None, table.name
            continue
        assert isinstance(node.partitions_def, dg.MonthlyPartitionsDefinition), table.name
        assert node.partitions_def.get_first_partition_key() == start[:7]
        assert node.assets_def.backfill_policy == dg.BackfillPolicy.single_run()
        for key in (
            ["landed", "quarantine", table.source, table.table],
            ["landed", "check_results", table.source, table.table],
        ):
            assert graph.get(dg.AssetKey(key)).partitions_def == node.partitions_def
    for key in (["marts", "metric_values"], ["staging", "stg_incidents__events"], ["published", "current"]):
        assert graph.get(dg.AssetKey(key)).partitions_def is None
    assert defs.resolve_job_def("refresh_warehouse").partitions_def is not None


def test_the_file_sensor_requests_a_run_for_exactly_the_new_or_changed_months(settings_at):
    from orchestration.definitions import defs
    from orchestration.lib.changes import record_successful_build

    sensor = defs.resolve_sensor_def("source_files_changed")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    for table in SOURCE_TABLES:
        land_source_table(
            table, settings_at.sources_dir, settings_at.landed_dir, pseudonym_key=KEY, today=_today()
        )
    record_successful_build(settings_at)  # what is landed is built: nothing is pending
    events = settings_at.sources_dir / "incidents"
    with dg.instance_for_test() as instance:

        def tick(cursor: str | None):
            context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
            result = sensor.evaluate_tick(context)
            return result.run_requests, result.cursor

        requests, cursor = tick(None)  # every delivered file is landed already
        assert requests == []
        shutil.copy(events / "events_2025-07.csv", events / "events_2025-08.csv")  # a new month
        requests, cursor = tick(cursor)
        assert [_range(r) for r in requests] == [("2025-08", "2025-08")]
        dbt_config = requests[0].run_config["ops"]["dbt_cross_source"]["config"]
        assert dbt_config == {"full_refresh": False, "changed_months": ["2025-08"]}
        requests, cursor = tick(cursor)  # unchanged
        assert requests == []
        corrected = events / "events_2025-05.csv"
        corrected.write_text(corrected.read_text().replace("low", "moderate", 1))  # an old month corrected
        requests, cursor = tick(cursor)
        assert [_range(r) for r in requests] == [("2025-05", "2025-05")]
        corrected.touch()  # touched, not changed
        requests, cursor = tick(cursor)
        assert requests == []


def _range(request: dg.RunRequest) -> tuple[str, str]:
    return request.tags["dagster/asset_partition_range_start"], request.tags[
        "dagster/asset_partition_range_end"
    ]


# ---------------------------------------------------------------------------------------------
# `nqs build` on the session's builds
# ---------------------------------------------------------------------------------------------


def _landing_metadata(data_dir: Path) -> dict[str, dict]:
    """source/table -> the contract check's metadata in the data folder's last Dagster run."""
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        found = {}
        for record in records:
            evaluation = record.dagster_event.event_specific_data
            if evaluation.check_name == "contract":
                metadata = {k: v.value for k, v in evaluation.metadata.items()}
                found["/".join(evaluation.asset_key.path[1:])] = metadata
        return found


def _partitions_materialised(data_dir: Path, key: list[str]) -> set[str | None]:
    """The partitions of one asset the data folder's last Dagster run materialised."""
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        return {r.dagster_event.partition for r in records if r.dagster_event.asset_key == dg.AssetKey(key)}


def test_a_second_build_with_nothing_changed_lands_and_builds_nothing(sample_build: Build, tmp_path):
    data_dir = copy_data(sample_build, tmp_path / "data")
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        runs_before = len(instance.get_runs())
    done = run_nqs("build", data_dir=data_dir)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "nothing changed since the last successful build" in done.stdout
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        assert len(instance.get_runs()) == runs_before


def test_a_changed_file_lands_only_itself_and_its_month_stays_pending_after_a_failed_build(
    refused_build: RefusedBuild,
):
    """The refused build changed one file of one month: it alone is landed, over that month only."""
    landed = _landing_metadata(refused_build.data_dir)
    name = f"{REFUSED_SOURCE}/{REFUSED_TABLE}"
    month = refused_build.broken_file.stem.rsplit("_", 1)[1]
    assert landed[name]["files_landed"] == 1 and landed[name]["months"] == month
    assert {t: m["files_landed"] for t, m in landed.items() if t != name} == {
        f"{t.source}/{t.table}": 0 for t in SOURCE_TABLES if f"{t.source}/{t.table}" != name
    }
    assert _partitions_materialised(
        refused_build.data_dir, ["landed", "quarantine", REFUSED_SOURCE, REFUSED_TABLE]
    ) == {month}
    ledger = read_ledger(get_table(REFUSED_SOURCE, REFUSED_TABLE), refused_build.data_dir / "landed")
    assert ledger.pending_months() == {month}  # the build failed: the month is rebuilt next time


def test_a_full_refresh_lands_every_file_again_with_the_same_rows(
    sample_build: Build, rebuilt_build: RebuiltBuild
):
    assert rebuilt_build.exit_code == 0, rebuilt_build.output[-3000:]
    assert "full refresh (a full refresh was asked for" in rebuilt_build.stdout
    landed = _landing_metadata(rebuilt_build.data_dir)
    first = _landing_metadata(sample_build.data_dir)
    assert {t: m["files_landed"] for t, m in landed.items()} == {t: m["files"] for t, m in landed.items()}
    for name, metadata in landed.items():
        for count in ("files", "rows_read", "rows_accepted", "rows_quarantined"):
            assert metadata[count] == first[name][count], (name, count)
