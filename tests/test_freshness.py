"""Source freshness: a table whose latest landed month is older than the one due shows as overdue.

Landed Parquet files are written for real (in the flat layout and the Hive `month=` layout), the
checks run in a real Dagster job, and the sample build's own run is read for the checks it recorded.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from conftest import Build

from contracts.sources import SOURCE_TABLES, get_table, latest_period_ended_by
from nqs.settings import SettingsError, get_settings
from orchestration.defs.ingest.freshness import (
    FRESHNESS_CHECK,
    FRESHNESS_JOB,
    expected_month,
    freshness,
    latest_landed_month,
)

EVENTS = get_table("incidents", "events")  # due 1 month after the month ends
EPISODES = get_table("hip_fracture_audit", "episodes")  # due 2 months after
OUTCOMES = get_table("adult_social_care", "outcomes")  # annual (ASCOF), due 8 months after the year


def _land(landed: Path, relative: str, rows: int) -> None:
    path = landed / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"event_id": [f"E{i}" for i in range(rows)]}, schema={"event_id": pl.String}).write_parquet(
        path
    )


@pytest.fixture
def landed(tmp_path: Path) -> Path:
    """incidents/events landed to 2025-05 (2025-04 flat, 2025-05 in a month partition), a refused
    2025-06 (an empty output) and the placeholder of a table with no files."""
    landed = tmp_path / "data" / "landed"
    _land(landed, "incidents/events/events_2025-04.parquet", 3)
    _land(landed, "incidents/events/month=2025-05/events_2025-05.parquet", 2)
    _land(landed, "incidents/events/month=2025-06/events_2025-06.parquet", 0)
    _land(landed, "hip_fracture_audit/episodes/_no_files.parquet", 0)
    return landed


def test_every_monthly_table_declares_its_delivery_lag():
    for table in SOURCE_TABLES:
        monthly = table.source != "organisations"
        assert (table.delivery_lag_months is not None) == monthly, table.name
        assert table.delivery_lag_months is None or table.delivery_lag_months >= 0


def test_the_month_due_follows_the_lag():
    # March's file with a lag of 1 is due by the end of April
    assert expected_month(EVENTS, date(2025, 4, 30)) == date(2025, 2, 1)
    assert expected_month(EVENTS, date(2025, 5, 1)) == date(2025, 3, 1)
    assert expected_month(EPISODES, date(2025, 5, 1)) == date(2025, 2, 1)
    assert expected_month(EVENTS, date(2026, 1, 15)) == date(2025, 11, 1)  # across a year


def test_an_annual_return_is_expected_at_the_year_start_month_once_due():
    assert OUTCOMES.months_per_file == 12 and OUTCOMES.delivery_lag_months == 8
    # 2024-25 (named 2024-04) is due by the end of November 2025; until then 2023-24 is the latest due
    assert expected_month(OUTCOMES, date(2025, 11, 30)) == date(2023, 4, 1)
    assert expected_month(OUTCOMES, date(2025, 12, 1)) == date(2024, 4, 1)
    assert expected_month(OUTCOMES, date(2026, 6, 15)) == date(2024, 4, 1)


def test_an_annual_return_is_fresh_all_year_and_overdue_once_the_next_is_due(tmp_path: Path):
    landed = tmp_path / "landed"
    _land(landed, "adult_social_care/outcomes/month=2024-04/outcomes_2024-04.parquet", 3)
    assert latest_landed_month(OUTCOMES, landed) == date(2024, 4, 1)
    assert freshness(OUTCOMES, landed, date(2026, 11, 30)).is_fresh
    late = freshness(OUTCOMES, landed, date(2026, 12, 1))
    assert not late.is_fresh and late.expected == date(2025, 4, 1) and late.months_overdue == 12


def test_latest_month_counts_only_files_with_rows(landed: Path):
    assert latest_landed_month(EVENTS, landed) == date(2025, 5, 1)
    assert latest_landed_month(EPISODES, landed) is None


def test_fresh_then_overdue_as_time_passes(landed: Path):
    fresh = freshness(EVENTS, landed, date(2025, 7, 31))
    assert fresh.is_fresh and fresh.expected == date(2025, 5, 1) and fresh.months_overdue == 0
    late = freshness(EVENTS, landed, date(2025, 9, 2))
    assert not late.is_fresh and late.expected == date(2025, 7, 1) and late.months_overdue == 2
    assert "overdue by 2 month(s): latest landed 2025-05, 2025-07 was due by 2025-09-02" in late.description
    never = freshness(EPISODES, landed, date(2025, 9, 2))
    assert not never.is_fresh and "no month landed" in never.description


@pytest.fixture
def settings_at(monkeypatch: pytest.MonkeyPatch, landed: Path):
    def configure(as_of: str):
        monkeypatch.setenv("NQS_DATA_DIR", str(landed.parent))
        monkeypatch.setenv("NQS_FRESHNESS_AS_OF", as_of)
        get_settings.cache_clear()
        return get_settings()

    yield configure
    get_settings.cache_clear()


def test_the_reference_date_is_a_setting_defaulting_to_today(settings_at, monkeypatch):
    assert settings_at("2025-07-31").freshness_date == date(2025, 7, 31)
    monkeypatch.delenv("NQS_FRESHNESS_AS_OF")
    get_settings.cache_clear()
    assert get_settings().freshness_date == date.today()
    with pytest.raises(SettingsError, match="NQS_FRESHNESS_AS_OF='July' is not a date"):
        settings_at("July")


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        "/".join(e.asset_key.path[1:]): e
        for e in (
            event.event_specific_data
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
    }


def test_the_freshness_job_warns_on_each_overdue_table(settings_at):
    from orchestration.definitions import defs

    job = defs.resolve_job_def(FRESHNESS_JOB)
    settings_at("2025-07-31")
    evaluations = _evaluations(job.execute_in_process(instance=dg.DagsterInstance.ephemeral()))
    monthly = {f"{t.source}/{t.table}" for t in SOURCE_TABLES if t.delivery_lag_months is not None}
    assert set(evaluations) == monthly
    assert {e.check_name for e in evaluations.values()} == {FRESHNESS_CHECK}
    events = evaluations["incidents/events"]
    assert events.passed
    assert events.metadata["latest_month"].value == "2025-05"
    assert events.metadata["expected_month"].value == "2025-05"
    episodes = evaluations["hip_fracture_audit/episodes"]  # nothing landed
    assert not episodes.passed and episodes.severity == dg.AssetCheckSeverity.WARN

    settings_at("2025-08-01")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success  # a warning, never a failed run
    events = _evaluations(result)["incidents/events"]
    assert not events.passed and events.severity == dg.AssetCheckSeverity.WARN
    assert events.metadata["latest_month"].value == "2025-05"
    assert events.metadata["expected_month"].value == "2025-06"
    assert events.metadata["months_overdue"].value == 1


def test_the_sample_build_reports_its_overdue_sources_and_still_publishes(sample_build: Build):
    """The sample ends at a fixed month: judged on today, every monthly table is late, as a warning."""
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    with dg.DagsterInstance.from_config(str(sample_build.data_dir / "dagster_home")) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        evaluations = {
            "/".join(
                r.dagster_event.event_specific_data.asset_key.path[1:]
            ): r.dagster_event.event_specific_data
            for r in records
            if r.dagster_event.event_specific_data.check_name == FRESHNESS_CHECK
        }
    end = date.fromisoformat(sample_build.manifest["end"] + "-01")
    as_of = date.today()
    for table in SOURCE_TABLES:
        if table.delivery_lag_months is None:
            continue
        evaluation = evaluations[f"{table.source}/{table.table}"]
        due = expected_month(table, as_of).strftime("%Y-%m")
        # the month naming its latest file: a quarterly or annual table's latest period the span ends
        latest = latest_period_ended_by(end, table.months_per_file).strftime("%Y-%m")
        assert evaluation.metadata["latest_month"].value == latest, table.name
        assert evaluation.metadata["expected_month"].value == due
        assert evaluation.passed == (latest >= due)
        assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "freshness" in sample_build.stdout.split("Checks:")[1]
