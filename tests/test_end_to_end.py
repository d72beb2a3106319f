"""One real build of a small sample: counts reconcile, metrics cover every family, planted truths show."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import polars as pl
from conftest import Build

from contracts.sources import SOURCE_TABLES
from nqs.landing.paths import parquet_files

MART_TABLES = [
    "metric_values",
    "metric_catalogue",
    "priorities",
    "metric_lineage",
    "quarantined_rows",
    "data_quality_results",
]


def test_build_succeeds_and_summarises(sample_build: Build):
    assert sample_build.exit_code == 0, sample_build.output[-4000:]
    out = sample_build.output
    assert "Sources (rows read / accepted / quarantined)" in out
    assert "Metrics built:" in out and str(sample_build.warehouse) in out
    assert "Priorities" in out and "make ui" in out
    assert "Data quality (checks run / failed" in out
    sources = {t.source for t in SOURCE_TABLES}
    quality = out.split("Data quality")[1].split("Checks:")[0].splitlines()[1:]
    assert {line.split()[0] for line in quality if line.strip()} == sources
    checks = out.split("Checks:")[1]
    for group in ("contracts", "reconciliation", "dbt tests", "metrics"):
        line = next(line for line in checks.splitlines() if line.strip().startswith(group))
        assert line.split()[-2] == "0", f"{group}: {line}"


def test_marts_are_published(sample_build: Build):
    tables = {
        t
        for (t,) in sample_build.query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert set(MART_TABLES) <= tables
    for table in MART_TABLES:
        assert sample_build.query(f"select count(*) from marts.{table}")[0][0] > 0, table


def test_rows_read_equal_accepted_plus_quarantined_for_every_file(sample_build: Build):
    landed = sample_build.data_dir / "landed"
    for table in SOURCE_TABLES:
        accepted = _rows_by_file(landed / table.source / table.table, ["_source_file", "_row_number"])
        quarantined = _rows_by_file(
            landed / "_quarantine" / table.source / table.table,
            ["source_file", "row_number"],
            held_only=True,  # minor findings are recorded there but their rows were accepted
        )
        files = {
            f: n
            for f, n in sample_build.manifest["files"].items()
            if f.startswith(f"{table.source}/")
            and Path(f).name.startswith(table.file_glob.split("*")[0].removesuffix(".csv"))
        }
        assert files, f"no files for {table.source}/{table.table}"
        for file, rows in files.items():
            assert accepted.get(file, 0) + quarantined.get(file, 0) == rows, file


def _rows_by_file(folder: Path, columns: list[str], *, held_only: bool = False) -> dict[str, int]:
    # files landed under different contract versions differ in columns
    scan = pl.scan_parquet(parquet_files(folder), missing_columns="insert", extra_columns="ignore")
    if held_only:
        scan = scan.filter(pl.col("severity") != "minor")
    frame = scan.select(columns).unique().collect()
    return dict(frame.group_by(columns[0]).len().iter_rows())


def test_every_planted_bad_row_is_quarantined(sample_build: Build):
    quarantined = set(sample_build.query("select source_file, source_row_number from marts.quarantined_rows"))
    planted = sample_build.manifest["bad_rows"]
    assert planted
    missing = [b for b in planted if (b["file"], b["row"]) not in quarantined]
    assert not missing, missing[:5]


def test_every_source_family_yields_metric_rows(sample_build: Build):
    families = {
        f
        for (f,) in sample_build.query(
            """select distinct c.source_family from marts.metric_values as v
           inner join marts.metric_catalogue as c using (metric_id) where v.denominator > 0"""
        )
    }
    assert {"incident", "audit", "registry", "workforce"} <= families


def test_every_metric_has_values_and_a_priority(sample_build: Build):
    """Every metric, medians, means and deprivation gaps included, has values and a priority."""
    catalogue = {m for (m,) in sample_build.query("select metric_id from marts.metric_catalogue")}
    with_values = {m for (m,) in sample_build.query("select distinct metric_id from marts.metric_values")}
    mapped = {m for (m,) in sample_build.query("select distinct metric_id from marts.metric_lineage")}
    assert catalogue == with_values
    assert catalogue == mapped


def test_planted_worse_trusts_are_worse(sample_build: Build):
    directions = dict(
        sample_build.query("select metric_id, improvement_direction from marts.metric_catalogue")
    )
    pooled = defaultdict(dict)
    national = {}
    trust_months = (
        "from marts.metric_values"
        " where org_view = 'as_recorded' and org_level = 'trust' and period_type = 'month'"
        " and unit != 'gap'"
    )
    for metric_id, org, num, den in sample_build.query(
        f"select metric_id, org_code, sum(numerator), sum(denominator) {trust_months} group by all"
    ):
        if den:
            pooled[metric_id][org] = num / den
    for metric_id, num, den in sample_build.query(
        f"select metric_id, sum(numerator), sum(denominator) {trust_months} group by all"
    ):
        national[metric_id] = num / den
    worse = sample_build.manifest["worse_trusts"]
    assert len(worse) >= 5
    checked = set()
    for metric_id, trusts in worse.items():
        if metric_id not in national:  # a median or mean: checked on its observations
            continue
        sign = 1 if directions[metric_id] == "decrease" else -1
        for trust in trusts:
            assert sign * (pooled[metric_id][trust] - national[metric_id]) > 0, (metric_id, trust)
            checked.add(metric_id)
    assert len(checked) >= 5, checked


def test_data_quality_results_cover_every_file_and_agree_with_the_quarantine(sample_build: Build):
    files = set(sample_build.manifest["files"])
    checked = {
        f for (f,) in sample_build.query("select distinct source_file from marts.data_quality_results")
    }
    assert checked == files
    # every held-back row is a failure of some check of its file
    by_file = dict(
        sample_build.query(
            """select source_file, count(distinct source_row_number) from marts.quarantined_rows
               where is_row_held group by all"""
        )
    )
    most_failed = dict(
        sample_build.query(
            """select source_file, max(rows_failed) from marts.data_quality_results
               where severity != 'minor' group by all"""
        )
    )
    assert by_file, "no row was held back"
    for file, held in by_file.items():
        assert 0 < most_failed[file] <= held, file
    statuses = dict(
        sample_build.query("select status, count(*) from marts.data_quality_results group by all")
    )
    assert statuses.get("passed", 0) > statuses.get("failed", 0) > 0


def _warehouse_counts(build: Build) -> dict[str, int]:
    tables = [
        f"{schema}.{name}"
        for schema, name in build.query(
            """select table_schema, table_name from information_schema.tables
               where table_schema in ('staging', 'marts') order by all"""
        )
    ]
    return {t: build.query(f"select count(*) from {t}")[0][0] for t in tables}  # noqa: S608


def test_rebuild_republishes_and_adds_nothing_twice(sample_build: Build, rebuilt_build: Build):
    """Landing the same files again leaves every staging model and mart with the same rows.

    (The rebuild also makes the draft strategy active, which changes flags, not rows.)
    """
    before = _warehouse_counts(sample_build)
    assert before["marts.quarantined_rows"] > 0 and before["marts.data_quality_results"] > 0
    assert rebuilt_build.exit_code == 0, rebuilt_build.output[-6000:]
    assert _warehouse_counts(rebuilt_build) == before
