"""One real build of a small sample: counts reconcile, metrics cover every family, planted truths show."""

from __future__ import annotations

import hashlib
import shutil
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest
from conftest import Build, run_nqs

from contracts.sources import SOURCE_TABLES

pytestmark = pytest.mark.slow

MART_TABLES = ["metric_values", "metric_catalogue", "priorities", "metric_lineage", "quarantined_rows"]


def test_build_succeeds_and_summarises(sample_build: Build):
    assert sample_build.exit_code == 0, sample_build.output[-4000:]
    out = sample_build.output
    assert "Sources (rows read / accepted / quarantined)" in out
    assert "Metrics built:" in out and str(sample_build.warehouse) in out
    assert "Priorities" in out and "make ui" in out


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
    scan = pl.scan_parquet(sorted(folder.glob("*.parquet")), missing_columns="insert", extra_columns="ignore")
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
    for metric_id, trusts in worse.items():
        if metric_id not in national:  # a median or mean: checked on its observations
            continue
        sign = 1 if directions[metric_id] == "decrease" else -1
        for trust in trusts:
            assert sign * (pooled[metric_id][trust] - national[metric_id]) > 0, (metric_id, trust)


def test_rebuild_republishes_and_adds_nothing_twice(sample_build: Build, tmp_path: Path):
    before = sample_build.query("select count(*) from marts.quarantined_rows")[0][0]
    again = run_nqs("build", data_dir=sample_build.data_dir)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert sample_build.query("select count(*) from marts.quarantined_rows")[0][0] == before


def test_a_failed_build_publishes_nothing(sample_build: Build, tmp_path: Path):
    """A file missing a column stops its source with a one-line error; the served warehouse is untouched."""
    data_dir = tmp_path / "data"
    shutil.copytree(sample_build.data_dir, data_dir)
    published = data_dir / "warehouse.duckdb"
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    broken = sorted((data_dir / "sources" / "workforce").glob("vacancies_*.csv"))[0]
    frame = pl.read_csv(broken, infer_schema=False)
    frame.drop("vacancy_fte").write_csv(broken)

    done = run_nqs("build", data_dir=data_dir)

    assert done.returncode != 0
    failure = [line for line in done.stdout.splitlines() if line.startswith("FAILED")]
    assert failure and "workforce" in failure[0] and broken.name in failure[0] and "vacancy_fte" in failure[0]
    assert "previously published warehouse was kept" in done.stdout
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before
