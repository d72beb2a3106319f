"""Releases: what BI tools read, how it is switched, and that readers never fail during a refresh.

On the session's sample build: the release file holds only schema `published` (tables, documented, no
views, no row-level or hashed data), records which release it is and what fed it, the internal file
holds the unrounded marts, and the exports hold every table with a data dictionary and checksums that
`sha256sum -c` accepts. On a copy of it: two real refreshes (`nqs build` after a file is withdrawn, then
delivered again) while one process reads through new connections in a loop and another holds one
connection open; then retention. On plain directories: the pointer and pruning rules.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import Build, copy_data, run_nqs

from contracts.sources import SOURCE_TABLES
from nqs.landing.paths import delivered_files
from nqs.releases import (
    CURRENT,
    PARTITIONED_TABLES,
    ReleaseError,
    current_release,
    link_legacy_path,
    pending_release,
    prune,
    release_ids,
    remove_unpublished,
    switch_current,
)
from nqs.settings import Settings

READER = Path(__file__).with_name("release_reader.py")
HASH = re.compile(r"[0-9a-f]{64}")


# ---- the pointer and pruning, on plain directories ----------------------------------------------------


def _releases(folder: Path, *ids: str) -> Path:
    for release_id in ids:
        (folder / release_id).mkdir(parents=True)
        (folder / release_id / "warehouse.duckdb").write_text(release_id)
    return folder


def test_the_pointer_moves_only_to_a_release_and_reads_through(tmp_path: Path):
    releases = _releases(tmp_path, "20260101T000000Z", "20260201T000000Z")
    assert current_release(releases) is None and pending_release(releases) == "20260201T000000Z"
    switch_current(releases, "20260101T000000Z")
    assert (releases / CURRENT / "warehouse.duckdb").read_text() == "20260101T000000Z"
    assert os.readlink(releases / CURRENT) == "20260101T000000Z"  # relative: the folder can move
    switch_current(releases, "20260201T000000Z")
    assert (releases / CURRENT / "warehouse.duckdb").read_text() == "20260201T000000Z"
    assert pending_release(releases) is None
    with pytest.raises(ReleaseError):
        switch_current(releases, "20260301T000000Z")
    assert release_ids(releases) == ["20260101T000000Z", "20260201T000000Z"]  # `current` is no release
    assert sorted(p.name for p in releases.iterdir()) == [*release_ids(releases), CURRENT]  # no temp link


def test_pruning_keeps_the_newest_and_never_the_current_one(tmp_path: Path):
    ids = [f"2026010{d}T000000Z" for d in range(1, 6)]
    releases = _releases(tmp_path, *ids)
    switch_current(releases, ids[3])
    assert prune(releases, 2) == ids[:2]
    assert release_ids(releases) == ids[2:]  # the one newer than current is left to remove_unpublished
    assert prune(releases, 1) == [ids[2]]
    assert current_release(releases) == ids[3]
    with pytest.raises(ReleaseError):
        prune(releases, 0)


def test_what_a_failed_build_staged_is_removed_before_the_next_release(tmp_path: Path):
    releases = _releases(tmp_path, "20260101T000000Z", "20260201T000000Z")
    switch_current(releases, "20260101T000000Z")
    (releases / ".staging-20260301T000000Z-abc").mkdir()
    assert remove_unpublished(releases) == ["20260201T000000Z"]
    assert sorted(p.name for p in releases.iterdir()) == ["20260101T000000Z", CURRENT]


def test_the_old_serving_copy_becomes_a_link_to_the_current_release(tmp_path: Path):
    """A data folder published before releases had a copy at data/warehouse.duckdb: it is replaced by a
    relative link, so connection strings naming it read the current release from then on."""
    settings = Settings(data_dir=tmp_path, sources_dir=tmp_path / "sources", pseudonym_key=None)
    (tmp_path / "warehouse.duckdb").write_text("the old copy")
    switch_current(_releases(settings.releases_dir, "20260101T000000Z"), "20260101T000000Z")
    link_legacy_path(settings)
    assert os.readlink(tmp_path / "warehouse.duckdb") == "releases/current/warehouse.duckdb"
    assert (tmp_path / "warehouse.duckdb").read_text() == "20260101T000000Z"
    link_legacy_path(settings)  # already a link: left alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["releases", "warehouse.duckdb"]


# ---- the release of the sample build --------------------------------------------------------------------


@pytest.fixture(scope="module")
def release(sample_build: Build) -> Path:
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    releases = sample_build.data_dir / "releases"
    assert os.readlink(releases / CURRENT) == release_ids(releases)[-1]
    return releases / release_ids(releases)[-1]


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def test_the_summary_names_the_release_and_the_old_path_leads_to_it(sample_build: Build, release: Path):
    assert f"Release {release.name} (current)" in sample_build.stdout
    assert str(sample_build.warehouse) in sample_build.stdout
    legacy = sample_build.data_dir / "warehouse.duckdb"
    assert legacy.is_symlink() and legacy.resolve() == (release / "warehouse.duckdb").resolve()


def test_the_release_holds_its_board_report(release: Path):
    """Written by `published/board_report` from the release's own file, before it became current."""
    report = (release / "report" / "board_report.html").read_text(encoding="utf-8")
    assert release.name in report and "<svg" in report


def test_the_release_file_holds_only_published_tables_documented(release: Path):
    with _connect(release / "warehouse.duckdb") as db:
        schemas = db.execute(
            "select distinct schema_name from duckdb_tables() union "
            "select distinct schema_name from duckdb_views() where not internal"
        ).fetchall()
        views = db.execute("select view_name from duckdb_views() where not internal").fetchall()
        tables = db.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'published'"
        ).fetchall()
        undocumented = db.execute(
            "select table_name || '.' || column_name from duckdb_columns() "
            "where not internal and coalesce(comment, '') = ''"
        ).fetchall()
        columns = db.execute(
            "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'published'"
        ).fetchall()
    assert schemas == [("published",)] and views == []
    names = {t for t, _ in tables}
    assert {"metric_values", "metric_catalogue", "priority_coverage", "alerts", "release"} <= names
    assert "release_sources" in names and "quarantined_rows" not in names
    assert all(comment for _, comment in tables), tables
    assert undocumented == []
    assert not [(t, c) for t, c, _ in columns if c.endswith("_hash")]
    types = {(t, c): d for t, c, d in columns}
    for table in ("metric_values", "metric_values_by_deprivation"):
        assert types[(table, "numerator")] == types[(table, "denominator")] == "BIGINT", table


def test_the_release_file_holds_no_hashed_identifier(release: Path):
    """No value anywhere is a 64-hex-digit digest (landing's keyed hash of an NHS number or staff id)."""
    with _connect(release / "warehouse.duckdb") as db:
        text_columns = db.execute(
            "select table_name, column_name from duckdb_columns() "
            "where not internal and data_type = 'VARCHAR'"
        ).fetchall()
        found = [
            f"{t}.{c}"
            for t, c in text_columns
            if db.execute(
                f"""select count(*) from published."{t}" where regexp_matches("{c}", '[0-9a-f]{{64}}')"""  # noqa: S608
            ).fetchall()[0][0]
        ]
    assert found == []


def test_the_release_records_itself_and_its_sources(sample_build: Build, release: Path):
    with _connect(release / "warehouse.duckdb") as db:
        (row,) = db.sql("select * from published.release").pl().to_dicts()
        sources = db.sql("select * from published.release_sources").pl()
        counts = {
            t: db.execute(f'select count(*) from published."{t}"').fetchall()[0][0]  # noqa: S608
            for (t,) in db.execute("select table_name from duckdb_tables()").fetchall()
        }
    with _connect(sample_build.build_db) as db:
        (strategy,) = db.execute(
            "select distinct strategy_version from marts.priorities where is_active_strategy"
        ).fetchall()[0]
    assert row["release_id"] == release.name and row["built_at"].strftime("%Y%m%dT%H%M%SZ") == release.name
    assert row["strategy_version"] == strategy and row["dbt_version"] and row["duckdb_version"]
    assert json.loads(row["row_counts"]) == counts and row["tables"] == len(counts)
    delivered = {
        (t.source, t.table, len(delivered_files(t, sample_build.data_dir / "sources"))) for t in SOURCE_TABLES
    }
    assert set(sources.select("source", "table_name", "files").iter_rows()) == delivered
    assert sources["contract_versions"].null_count() == 0 and (sources["rows_accepted"] > 0).all()
    events = sources.filter(source="incidents", table_name="events").row(0, named=True)
    assert events["contract_versions"] == "v1,v2"  # NRLS-shaped, then LFPSE from October 2025
    months = sorted(
        p.stem.split("_")[-1] for p in (sample_build.data_dir / "sources" / "incidents").glob("*.csv")
    )
    assert (events["first_month"].isoformat()[:7], events["last_month"].isoformat()[:7]) == (
        months[0],
        months[-1],
    )


def test_the_internal_file_holds_the_unrounded_marts(sample_build: Build, release: Path):
    with _connect(release / "internal.duckdb") as db:
        db.execute(f"attach '{sample_build.build_db}' as build (read_only)")
        schemas = db.execute(
            "select distinct schema_name from duckdb_tables() where database_name = 'internal'"
        ).fetchall()
        tables = {
            t
            for (t,) in db.execute(
                "select table_name from duckdb_tables() where database_name = 'internal'"
            ).fetchall()
        }
        marts = {
            t
            for (t,) in db.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'build' and schema_name = 'marts'"
            ).fetchall()
        }
        (differences,) = db.execute(
            "select count(*) from (from unrounded.metric_values except all from build.marts.metric_values)"
        ).fetchall()[0]
        rows = db.execute(
            "select (select count(*) from unrounded.metric_values), "
            "(select count(*) from build.marts.metric_values)"
        ).fetchall()[0]
    assert schemas == [("unrounded",)]
    assert tables == marts - {"quarantined_rows"}
    assert differences == 0 and rows[0] == rows[1] > 0


def test_every_published_table_is_exported_with_the_same_rows(release: Path):
    exports = release / "exports"
    with _connect(release / "warehouse.duckdb") as db:
        tables = [t for (t,) in db.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        for table in tables:
            (rows,) = db.execute(f'select count(*) from published."{table}"').fetchall()[0]  # noqa: S608
            if table in PARTITIONED_TABLES:
                files = exports / "parquet" / table / "**" / "*.parquet"
                assert not (exports / "csv" / f"{table}.csv").exists()
                exported = db.execute(
                    f"select count(*), count(distinct financial_year) from read_parquet('{files}', "
                    "hive_partitioning = true)"
                ).fetchall()[0]
                assert exported[0] == rows and exported[1] >= 2, table  # partitioned by financial year
                # every row and column comes back, the partition keys included
                columns = ", ".join(
                    f'"{c}"'
                    for (c,) in db.execute(
                        f'select column_name from (describe published."{table}")'
                    ).fetchall()
                )
                (different,) = db.execute(
                    f'select count(*) from (from published."{table}" except all '  # noqa: S608
                    f"select {columns} from read_parquet('{files}', hive_partitioning = true))"
                ).fetchall()[0]
                assert different == 0, table
            else:
                parquet = db.execute(
                    f"select count(*) from '{exports / 'parquet' / f'{table}.parquet'}'"
                ).fetchall()[0]
                csv = pl.read_csv(exports / "csv" / f"{table}.csv", infer_schema=False)
                assert parquet[0] == rows == csv.height, table


def test_the_data_dictionary_covers_every_exported_column(release: Path):
    exports = release / "exports"
    dictionary = pl.read_csv(exports / "data_dictionary.csv", infer_schema=False)
    described = {(t, c) for t, c, d in dictionary.select("table", "column", "description").iter_rows() if d}
    assert described == {(t, c) for t, c in dictionary.select("table", "column").iter_rows()}
    exported = set()
    with duckdb.connect() as db:
        for path in (exports / "parquet").iterdir():
            table = path.name.removesuffix(".parquet")
            source = f"{path}/**/*.parquet" if path.is_dir() else str(path)
            columns = db.execute(
                "select column_name from (describe select * from "
                f"read_parquet('{source}', hive_partitioning = true))"
            ).fetchall()
            exported |= {(table, c) for (c,) in columns}
    for path in (exports / "csv").iterdir():
        exported |= {(path.stem, c) for c in pl.read_csv(path, n_rows=0).columns}
    assert exported - described == set()
    markdown = (exports / "data_dictionary.md").read_text()
    assert all(f"## {table}" in markdown for table, _ in exported)


def test_the_checksums_match_the_files(release: Path):
    exports = release / "exports"
    manifest = json.loads((exports / "manifest.json").read_text())["files"]
    files = {p.relative_to(exports).as_posix() for p in exports.rglob("*") if p.is_file()}
    assert {f["path"] for f in manifest} == files - {"manifest.json", "SHA256SUMS"}
    for entry in manifest:
        assert (exports / entry["path"]).stat().st_size == entry["bytes"]
    checked = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=exports, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == len(manifest)


# ---- readers through two refreshes ----------------------------------------------------------------------


def _start_reader(mode: str, warehouse: Path, stop: Path, out: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, str(READER), mode, str(warehouse), str(stop), str(out)])
    deadline = time.monotonic() + 60
    while not out.with_suffix(".ready").exists():
        assert process.poll() is None and time.monotonic() < deadline, f"{mode} reader did not start"
        time.sleep(0.1)
    return process


def _refresh(data: Path) -> str:
    """A real `nqs build` of what changed, keeping two releases; returns the new current release."""
    done = run_nqs("build", data_dir=data, extra_env={"NQS_RELEASES_KEPT": "2"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return current_release(data / "releases")


def test_readers_never_fail_and_never_see_two_releases_through_two_refreshes(
    sample_build: Build, tmp_path: Path
):
    data = copy_data(sample_build, tmp_path / "data")
    releases = data / "releases"
    first = current_release(releases)
    warehouse = releases / CURRENT / "warehouse.duckdb"
    stop = tmp_path / "stop"
    loop = _start_reader("loop", warehouse, stop, tmp_path / "loop.json")
    hold = _start_reader("hold", warehouse, stop, tmp_path / "hold.json")
    try:
        withdrawn = sorted((data / "sources" / "incidents").glob("events_*.csv"))[-1]
        shutil.move(withdrawn, tmp_path / withdrawn.name)  # the latest month withdrawn...
        second = _refresh(data)
        shutil.move(tmp_path / withdrawn.name, withdrawn)  # ...and delivered again
        third = _refresh(data)
        time.sleep(1)  # the loop reader reads the last release a few times
    finally:
        stop.touch()
        loop.wait(timeout=60)
        hold.wait(timeout=60)
    assert first < second < third
    looped = json.loads((tmp_path / "loop.json").read_text())
    held = json.loads((tmp_path / "hold.json").read_text())

    # new connections: no error, every query one release, and they followed the pointer
    assert looped["errors"] == []
    assert all(q["consistent"] for q in looped["seen"]) and len(looped["seen"]) > 50
    ids = [q["release_id"] for q in looped["seen"]]
    assert ids == sorted(ids) and {first, third} <= set(ids) <= {first, second, third}

    # the held connection: no error, its release to the end (pruned meanwhile), the new one on reconnecting
    assert held["errors"] == [] and all(q["consistent"] for q in held["seen"])
    assert {q["release_id"] for q in held["seen"]} == {first}
    assert held["after_reconnect"] == third

    # retention: two kept, the previous one still readable where it is
    assert release_ids(releases) == [second, third] and current_release(releases) == third
    with _connect(releases / second / "warehouse.duckdb") as db:
        assert db.execute("select release_id from published.release").fetchall()[0] == (second,)
    with _connect(releases / third / "warehouse.duckdb") as db:
        counts = json.loads(db.execute("select row_counts from published.release").fetchall()[0][0])
    assert counts["data_quality_results"] > 0
