"""Contract versions side by side: chosen per file, landed together, conformed in staging, diffed.

The incident contract has v1 (NRLS-shaped) and v2 (the LFPSE taxonomy). Files of both versions land
in one folder, each row keeping the version it arrived under; staging maps v1 history onto the v2
meaning; `nqs contracts diff` says what changed and whether it breaks.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from conftest import run_nqs_many

from contracts.base import ContractModel, carried
from contracts.domains import DOMAINS
from contracts.incidents import IncidentEventV1, IncidentEventV2
from contracts.sources import SOURCE_TABLES, SourceTable, get_table
from contracts.versions import ContractVersion, diff, diff_report
from nqs.landing.file import land_file
from nqs.landing.land import land_source_table
from nqs.landing.paths import landed_paths, parquet_files
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "contracts"
V2_FIXTURES = Path(__file__).parent / "fixtures" / "contract_versions"
TODAY = date(2026, 4, 30)
KEY = SAMPLE_PSEUDONYM_KEY
EVENTS = get_table("incidents", "events")
V1_FILE = FIXTURES / "incidents" / "events_2025-05.csv"
V2_FILE = V2_FIXTURES / "incidents" / "events_2025-05.csv"


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------


def test_every_table_lists_its_versions_oldest_first_and_model_means_the_newest():
    for table in SOURCE_TABLES:
        assert table.versions and table.model is table.versions[-1].model
        assert table.version == table.versions[-1].version
        assert all(v.change and v.valid_from for v in table.versions)
        starts = [v.valid_from for v in table.versions]
        assert starts == sorted(starts)
    assert [(v.version, v.model) for v in EVENTS.versions] == [
        ("v1", IncidentEventV1),
        ("v2", IncidentEventV2),
    ]
    assert EVENTS.version_entry("v2").renamed == (("degree_of_harm", "physical_harm"),)


def test_a_table_built_the_older_way_or_with_a_variant_model_has_one_version():
    older = SourceTable(
        source="s",
        table="t",
        family="audit",
        file_glob="t_*.csv",
        key_columns=("event_id",),
        identifier_columns=(),
        description="d",
        model=IncidentEventV1,
        version="v1",
    )
    assert [v.model for v in older.versions] == [IncidentEventV1] and older.version == "v1"
    variant = SourceTable(**{**EVENTS.__dict__, "model": IncidentEventV1})
    assert [v.model for v in variant.versions] == [IncidentEventV1]
    with pytest.raises(KeyError, match="versions: v1, v2"):
        EVENTS.at_version("v3")


def test_the_version_is_chosen_from_the_header():
    v1_header = pl.read_csv(V1_FILE, n_rows=0).columns
    v2_header = pl.read_csv(V2_FILE, n_rows=0).columns
    assert EVENTS.contract_for_header(v1_header).version == "v1"
    assert EVENTS.contract_for_header(v2_header).version == "v2"
    assert EVENTS.contract_for_header(reversed(v1_header)).version == "v1"  # order does not matter
    near_v2 = [c for c in v2_header if c != "psychological_harm"]
    assert EVENTS.contract_for_header(near_v2).model is IncidentEventV2
    assert get_table("workforce", "vacancies").contract_for_header(["x"]).version == "v1"


# ---------------------------------------------------------------------------------------------
# Landing files of both versions
# ---------------------------------------------------------------------------------------------


def _sources_with_both_versions(tmp_path: Path) -> Path:
    sources = tmp_path / "sources"
    (sources / "incidents").mkdir(parents=True)
    shutil.copytree(FIXTURES / "organisations", sources / "organisations")
    shutil.copy(V1_FILE, sources / "incidents" / "events_2025-09.csv")
    v2 = pl.read_csv(V2_FILE, infer_schema=False).with_columns(
        pl.col("event_id").str.replace("W0", "W1"),
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("fatal"))
        .otherwise("psychological_harm")
        .alias("psychological_harm"),
    )
    v2.write_csv(sources / "incidents" / "events_2025-10.csv")
    return sources


def test_files_of_both_versions_land_together_each_row_keeping_its_version(tmp_path):
    sources, landed = _sources_with_both_versions(tmp_path), tmp_path / "landed"
    results = land_source_table(EVENTS, sources, landed, pseudonym_key=KEY, today=TODAY)
    assert [r.critical_error for r in results] == [None, None]
    accepted_dir, quarantine_dir = landed_paths(EVENTS, landed)
    assert [p.relative_to(accepted_dir).as_posix() for p in parquet_files(accepted_dir)] == [
        "month=2025-09/events_2025-09.parquet",
        "month=2025-10/events_2025-10.parquet",
    ]
    rows = pl.concat([pl.read_parquet(p) for p in parquet_files(accepted_dir)], how="diagonal")
    by_version = dict(rows.group_by("_contract_version").len().iter_rows())
    assert by_version == {"v1": 3, "v2": 2}
    v1_rows = pl.read_parquet(accepted_dir / "month=2025-09" / "events_2025-09.parquet")
    v2_rows = pl.read_parquet(accepted_dir / "month=2025-10" / "events_2025-10.parquet")
    assert {"degree_of_harm", "care_setting"} <= set(
        v1_rows.columns
    ) and "physical_harm" not in v1_rows.columns
    assert {"physical_harm", "psychological_harm", "service_area", "location_type"} <= set(v2_rows.columns)
    quarantine = pl.read_parquet(quarantine_dir / "month=2025-10" / "events_2025-10.parquet")
    assert quarantine.select("row_number", "column_name", "check_name", "contract_version").rows() == [
        (3, "psychological_harm", "in_domain", "v2")  # LFPSE has no fatal psychological harm
    ]
    checks = pl.concat([r.checks for r in results])
    assert set(checks["contract_version"]) == {"v1", "v2"}
    assert all(r.rows_read == r.rows_accepted + r.rows_quarantined for r in results)


def test_a_file_near_a_version_is_reported_against_that_version(tmp_path):
    path = tmp_path / "incidents" / "events_2025-10.csv"
    path.parent.mkdir()
    pl.read_csv(V2_FILE, infer_schema=False).drop("psychological_harm").write_csv(path)
    result = land_file(EVENTS, path, sources_dir=tmp_path, pseudonym_key=KEY, today=TODAY)
    assert result.critical_error is not None
    assert "missing column 'psychological_harm'" in result.critical_error
    assert set(result.quarantine["contract_version"]) == {"v2"} and result.rows_quarantined == 3


# ---------------------------------------------------------------------------------------------
# What changed between versions
# ---------------------------------------------------------------------------------------------


def test_incident_v2_diff_names_the_rename_the_split_and_the_new_harm_category():
    report = diff_report("incidents/events", *EVENTS.versions)
    changes = {(c["kind"], c["column"]): c for c in report["changes"]}
    assert report["breaking"] is True
    assert changes[("renamed", "physical_harm")]["detail"] == "degree_of_harm -> physical_harm"
    assert changes[("codes", "physical_harm")]["breaking"] is False  # same codes under the new name
    assert changes[("split", "care_setting")]["detail"] == "care_setting -> service_area, location_type"
    assert "none, low, moderate, severe" in changes[("added", "psychological_harm")]["detail"]
    assert {k for k, _ in changes} == {"renamed", "split", "added", "codes"}  # nothing else changed
    assert diff(EVENTS.versions[0], EVENTS.versions[0]) == []


class _Base(ContractModel):
    event_id: str = pa.Field(str_matches=r"^W[0-9]{9}$", description="Key.")
    harm: str = pa.Field(isin=["none", "low"], description="Harm.")
    score: int = pa.Field(in_range={"min_value": 0, "max_value": 48}, description="Score.")

    class Config:
        unique_key = {"columns": ["event_id"]}


class _Compatible(ContractModel):
    event_id: str = carried(_Base, "event_id")
    harm: str = carried(_Base, "harm")
    score: int = carried(_Base, "score")
    note: str = pa.Field(nullable=True, description="A new optional column.")

    class Config:
        unique_key = {"columns": ["event_id"]}
        plausible_range = {"column": "score", "max_value": 40}  # a minor check never rejects a row


class _Breaking(ContractModel):
    event_id: str = carried(_Base, "event_id")
    harm: str = pa.Field(isin=["none", "low", "moderate"], description="Harm.")
    score: float = pa.Field(in_range={"min_value": 0, "max_value": 40}, description="Score.")

    class Config:
        unique_key = {"columns": ["event_id"]}


def _version(label: str, model: type[ContractModel]) -> ContractVersion:
    return ContractVersion(label, model, date(2025, 1, 1), "test")


def test_an_optional_column_and_a_minor_check_do_not_break():
    report = diff_report("t/t", _version("v1", _Base), _version("v2", _Compatible))
    kinds = {(c["kind"], c["column"], c["breaking"]) for c in report["changes"]}
    assert kinds == {("added", "note", False), ("check_added", "score", False)}
    assert report["breaking"] is False


def test_type_code_list_and_tighter_range_changes_break():
    report = diff_report("t/t", _version("v1", _Base), _version("v2", _Breaking))
    changes = {(c["kind"], c["column"]): c for c in report["changes"]}
    assert (
        changes[("type", "score")]["detail"] == "Int64 -> Float64" and changes[("type", "score")]["breaking"]
    )
    assert changes[("codes", "harm")]["detail"] == "codes added: moderate"
    assert "max_value=40" in changes[("check_changed", "score")]["detail"]
    assert report["breaking"] is True


def test_nqs_contracts_diff_prints_text_and_json(tmp_path):
    diff = ("contracts", "diff", "incidents/events", "v1")
    done = run_nqs_many([(*diff, "v2"), (*diff, "v2", "--json"), (*diff, "v9")], data_dir=tmp_path)
    text = done[(*diff, "v2")]
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "incidents/events v1 -> v2: BREAKING"
    assert any("renamed" in line and "degree_of_harm -> physical_harm" in line for line in lines)
    as_json = done[(*diff, "v2", "--json")]
    assert json.loads(as_json.stdout) == diff_report("incidents/events", *EVENTS.versions)
    unknown = done[(*diff, "v9")]
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "v9" in unknown.stderr


# ---------------------------------------------------------------------------------------------
# The generator delivers v2 from the contract's valid_from; the care-setting map reads both ways
# ---------------------------------------------------------------------------------------------


def _care_settings() -> list[dict[str, str]]:
    with (REPO_ROOT / "seeds" / "incident_care_settings.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_care_setting_map_covers_v1_and_maps_both_ways():
    rows = _care_settings()
    assert sorted(r["care_setting"] for r in rows) == sorted(DOMAINS["care_setting"])
    pairs = [(r["service_area"], r["location_type"]) for r in rows]
    assert len(set(pairs)) == len(pairs)
    assert {a for a, _ in pairs} <= set(DOMAINS["service_area"])
    assert {b for _, b in pairs} <= set(DOMAINS["location_type"])


def test_generator_switches_to_v2_at_its_valid_from(tmp_path):
    from nqs.generate import generate_sources

    manifest = generate_sources(tmp_path, scale=0.002, seed=3, months=3, end="2025-11", bad_row_share=0)
    columns = {
        name: pl.read_csv(tmp_path / name, n_rows=0).columns
        for name in manifest["files"]
        if "events_" in name
    }
    assert columns["incidents/events_2025-09.csv"] == list(IncidentEventV1.to_schema().columns)
    assert columns["incidents/events_2025-10.csv"] == list(IncidentEventV2.to_schema().columns)
    assert columns["incidents/events_2025-11.csv"] == list(IncidentEventV2.to_schema().columns)
    v2 = pl.concat([pl.read_csv(tmp_path / f"incidents/events_2025-{m}.csv") for m in ("10", "11")])
    pairs = set(v2.select("service_area", "location_type").unique().iter_rows())
    assert pairs <= {(r["service_area"], r["location_type"]) for r in _care_settings()}
    assert set(v2["psychological_harm"]) <= set(DOMAINS["psychological_harm"])
    assert v2["psychological_harm"].value_counts()["count"].max() < v2.height  # not all one value
    results = land_source_table(EVENTS, tmp_path, tmp_path / "landed", pseudonym_key=KEY, today=TODAY)
    assert {r.source_file: r.table.version for r in results} == {
        "incidents/events_2025-09.csv": "v1",
        "incidents/events_2025-10.csv": "v2",
        "incidents/events_2025-11.csv": "v2",
    }
    assert all(r.critical_error is None and r.rows_quarantined == 0 for r in results)


# ---------------------------------------------------------------------------------------------
# Through the warehouse: one staging model, the metrics across both versions
# ---------------------------------------------------------------------------------------------


def test_staging_conforms_both_versions_and_metrics_span_them(sample_build):
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    build_db = sample_build.data_dir / "build" / "warehouse.duckdb"
    import duckdb

    with duckdb.connect(str(build_db), read_only=True) as db:
        rows = db.sql(
            """
            select contract_version, min(reported_month_date), max(reported_month_date), count(*),
                count(degree_of_harm), count(psychological_harm), count(care_setting), count(service_area),
                count(location_type)
            from staging.stg_incidents__events group by contract_version order by contract_version
            """
        ).fetchall()
    valid_from = EVENTS.version_entry("v2").valid_from
    (v1, first_v1, last_v1, n1, *counts1), (v2, first_v2, _, n2, *counts2) = rows
    assert (v1, v2) == ("v1", "v2") and last_v1 < valid_from <= first_v2
    assert counts1 == [n1, 0, n1, n1, n1]  # psychological harm not recorded under v1; the rest mapped
    assert counts2 == [n2, n2, n2, n2, n2]
    metric_months = sample_build.query(
        """
        select metric_id, min(period_start), max(period_start) from marts.metric_values
        where metric_id in ('incident_moderate_harm_share', 'never_events') and denominator > 0
        group by metric_id
        """
    )
    assert len(metric_months) == 2
    for _, first, last in metric_months:
        assert first <= first_v1 and last >= first_v2
