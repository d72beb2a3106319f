"""Immutable releases of the published warehouse, and the `current` pointer BI tools follow.

BI tools never open the build file: DuckDB allows one writer or many readers of a file, and the build
file holds staging views onto landed row-level data. Each successful build instead publishes a new
directory, `releases/<release_id>/` (the id is the UTC build time, so ids sort in time order):

- `warehouse.duckdb`: a new DuckDB file holding only schema `published`, every table copied as a table
  (no views, nothing reading landed files), documented with table and column comments, plus
  `published.release` and `published.release_sources`, so a dashboard can show which release it reads;
- `internal.duckdb`: the unrounded marts, as tables of schema `unrounded`, for internal analysts;
- `exports/`: Parquet of every published table (the large ones Hive-partitioned by period type and
  financial year), CSV of the small ones, the data dictionary (CSV and Markdown) and a checksum
  manifest (`manifest.json` and `SHA256SUMS`, which `sha256sum -c` reads);
- `report/board_report.html`: the board report, written by nqs.report after staging.

A release is written into a hidden temporary directory and renamed into place whole, so a
half-written release never exists. It becomes what BI tools read only when `current` (a relative
symlink) is switched to it: a new symlink renamed over the old one with `os.replace`, atomic on POSIX,
so a reader opening `releases/current/warehouse.duckdb` gets the old release or the new one, never a
mix. A file already open stays readable after the pointer moves, and after its release is pruned.

Releases newer than `current` were staged by a build that failed before switching; the next build's
staging removes them, so every kept release was current once (`prune` keeps the newest N).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path

import duckdb

from contracts.sources import SOURCE_TABLES
from nqs.benchmarking import benchmarking_tables
from nqs.dbt_manifest import PUBLISHED_SCHEMA, load_manifest
from nqs.engines import BuildTables, open_build
from nqs.engines import duckdb_literal as _quote
from nqs.landing.ledger import read_ledger
from nqs.settings import Settings

#: The schema of the internal file: its name says the figures are not disclosure-controlled.
UNROUNDED_SCHEMA = "unrounded"
#: The schema of the build file whose tables the internal file holds.
MARTS_SCHEMA = "marts"
#: Row-level, never copied out of the build file (not even into the internal file).
ROW_LEVEL_TABLES = frozenset({"quarantined_rows"})
CURRENT = "current"
WAREHOUSE_FILE = "warehouse.duckdb"
INTERNAL_FILE = "internal.duckdb"
EXPORTS_DIR = "exports"
REPORT_DIR = "report"
#: The board report (nqs.report), written into `report/` of a staged release by its Dagster asset.
BOARD_REPORT_FILE = "board_report.html"
DICTIONARY_STEM = "data_dictionary"
MANIFEST_FILE = "manifest.json"
CHECKSUMS_FILE = "SHA256SUMS"
RELEASE_TABLE = "release"
SOURCES_TABLE = "release_sources"
#: A release id: the UTC build time to the second, e.g. 20261205T153012Z.
RELEASE_ID = re.compile(r"\d{8}T\d{6}Z")
_STAGING_PREFIX = ".staging-"

#: Tables exported as Parquet partitioned by period: they grow with every month delivered.
PARTITIONED_TABLES = (
    "metric_values",
    "metric_values_by_deprivation",
    "spc_points",
    "funnel_points",
    "metric_values_by_ethnicity",
)
#: The Hive partition keys of the partitioned exports: the table's own `period_type` where it has one,
#: and `financial_year`, the table's own or, where it has none, derived from `period_start` and added
#: to the export, documented in the dictionary as:
FINANCIAL_YEAR_DESCRIPTION = (
    "The financial year (April to March, e.g. 2025-26) in which period_start falls; added to the "
    "Parquet export as its Hive partition key, not a column of the DuckDB table."
)
_FINANCIAL_YEAR_SQL = (
    "cast(year(period_start - interval 3 month) as varchar) || '-' || "
    "right(cast(year(period_start - interval 3 month) + 1 as varchar), 2)"
)

#: The release metadata tables: their grain, columns, DuckDB types and descriptions (one definition:
#: the tables are created from it and the data dictionary documents them from it).
RELEASE_TABLES: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {
    RELEASE_TABLE: (
        "one row: the release this file is",
        (
            (
                "release_id",
                "varchar",
                "The release: its build time in UTC, yyyymmddThhmmssZ; the name "
                "of its directory under data/releases/.",
            ),
            ("built_at", "timestamp", "When the release was built (UTC)."),
            (
                "strategy_version",
                "varchar",
                "The version of the national quality strategy whose "
                "priorities and metric mapping this release reports (marts.priorities' active version).",
            ),
            ("warehouse_version", "varchar", "Version of the warehouse code (the nqs-warehouse package)."),
            ("dbt_version", "varchar", "Version of dbt-core that built the models."),
            ("duckdb_version", "varchar", "Version of DuckDB that wrote this file."),
            (
                "contract_versions",
                "varchar",
                "Contract versions of the data landed, per source table: "
                "source/table v1,v2; ... (per table in release_sources).",
            ),
            ("tables", "bigint", "Tables in schema published, this one and release_sources included."),
            (
                "row_counts",
                "varchar",
                "Rows of every table of schema published, as JSON "
                "{table: rows}; compare with count(*) to check a query reads one release.",
            ),
        ),
    ),
    SOURCES_TABLE: (
        "one row per source table delivered to the warehouse",
        (
            ("source", "varchar", "The source folder (national collection), e.g. incidents."),
            ("table_name", "varchar", "The table of the source, e.g. events."),
            (
                "contract_versions",
                "varchar",
                "Contract versions the table's landed files were read under, comma-separated.",
            ),
            ("first_month", "date", "First month a landed file covers (null for a reference table)."),
            ("last_month", "date", "Last month a landed file covers (null for a reference table)."),
            ("files", "bigint", "Delivered files landed."),
            ("rows_accepted", "bigint", "Rows that passed the contract and were loaded."),
            ("rows_quarantined", "bigint", "Rows the contract rejected (kept internally, never published)."),
        ),
    ),
}


class ReleaseError(RuntimeError):
    """A release that cannot be made or switched to; the message is one line."""


# ---------------------------------------------------------------------------------------------
# Paths and the pointer
# ---------------------------------------------------------------------------------------------


def new_release_id(at: datetime | None = None) -> str:
    """The id of a release built at `at` (now): UTC, to the second, sortable as text."""
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def release_ids(releases_dir: Path) -> list[str]:
    """Every complete release in `releases_dir`, oldest first (staging directories are not releases)."""
    if not releases_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in releases_dir.iterdir()
        if RELEASE_ID.fullmatch(p.name) and p.is_dir() and not p.is_symlink()
    )


def current_release(releases_dir: Path) -> str | None:
    """The id `current` points to, or None before the first release."""
    link = releases_dir / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def pending_release(releases_dir: Path) -> str | None:
    """The newest release newer than `current`: staged by this build, not yet switched to."""
    current = current_release(releases_dir)
    newer = [r for r in release_ids(releases_dir) if current is None or r > current]
    return newer[-1] if newer else None


def switch_current(releases_dir: Path, release_id: str) -> None:
    """Point `current` at `release_id` atomically: a new relative symlink renamed over the old one."""
    if release_id not in release_ids(releases_dir):
        raise ReleaseError(f"no release {release_id} in {releases_dir}")
    _replace_symlink(releases_dir / CURRENT, Path(release_id))


def link_legacy_path(settings: Settings) -> None:
    """`data/warehouse.duckdb`, where BI tools read before releases, made a symlink to the current
    release's file (replacing the old copy), so existing connection strings keep working."""
    legacy = settings.data_dir / WAREHOUSE_FILE
    target = settings.published_db.relative_to(settings.data_dir)
    if legacy.is_symlink() and Path(os.readlink(legacy)) == target:
        return
    _replace_symlink(legacy, target)


def _replace_symlink(link: Path, target: Path) -> None:
    staged = link.with_name(f".{link.name}.{uuid.uuid4().hex}")
    os.symlink(target, staged)
    os.replace(staged, link)


def remove_unpublished(releases_dir: Path) -> list[str]:
    """Remove what a failed build left: staging directories, and releases newer than `current` (staged,
    never switched to). Called before staging, when no other build is writing (one run at a time)."""
    if not releases_dir.is_dir():
        return []
    current = current_release(releases_dir)
    removed = [r for r in release_ids(releases_dir) if current is None or r > current]
    for release_id in removed:
        shutil.rmtree(releases_dir / release_id)
    for leftover in releases_dir.glob(f"{_STAGING_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    return removed


def prune(releases_dir: Path, keep: int) -> list[str]:
    """Delete all but the newest `keep` releases up to `current`; never `current` itself. Returns the
    ids deleted. Readers holding a file of a deleted release open keep reading it (POSIX unlink)."""
    if keep < 1:
        raise ReleaseError(f"keep at least one release, not {keep}")
    current = current_release(releases_dir)
    if current is None:
        return []
    published = [r for r in release_ids(releases_dir) if r <= current]
    deleted = published[:-keep]
    for release_id in deleted:
        shutil.rmtree(releases_dir / release_id)
    return deleted


# ---------------------------------------------------------------------------------------------
# Documentation: the data dictionary, from the dbt docs and the benchmarking tables' definitions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableDoc:
    description: str
    columns: dict[str, str]


def published_docs() -> dict[str, TableDoc]:
    """Table -> its description and column descriptions, for every table schema `published` can hold:
    the dbt models of the published folder (their YAML docs, from the manifest), the benchmarking
    tables (nqs/benchmarking/tables.yml) and the release metadata tables (`RELEASE_TABLES`)."""
    docs: dict[str, TableDoc] = {}
    for table in benchmarking_tables().values():
        docs[table.name] = TableDoc(
            f"Grain: {table.grain}. {table.description}", {c.name: c.description for c in table.columns}
        )
    for node in load_manifest()["nodes"].values():
        if node["resource_type"] == "model" and node["fqn"][1:2] == [PUBLISHED_SCHEMA]:
            name = node.get("alias") or node["name"]
            docs[name] = TableDoc(
                " ".join(node.get("description", "").split()),
                {c: " ".join(spec.get("description", "").split()) for c, spec in node["columns"].items()},
            )
    for name, (grain, columns) in RELEASE_TABLES.items():
        docs[name] = TableDoc(f"Grain: {grain}.", {c: d for c, _, d in columns})
    return docs


# ---------------------------------------------------------------------------------------------
# Staging a release
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    release_id: str
    path: Path
    row_counts: dict[str, int]
    #: every published column without a description ("table.column")
    undescribed: tuple[str, ...]

    @property
    def warehouse(self) -> Path:
        return self.path / WAREHOUSE_FILE


def stage_release(settings: Settings) -> Release:
    """Write a release from the build file into `releases/<id>/` (not yet current) and return it.

    Everything is written into a hidden staging directory first, renamed into place when complete.
    """
    releases_dir = settings.releases_dir
    releases_dir.mkdir(parents=True, exist_ok=True)
    remove_unpublished(releases_dir)
    built_at = datetime.now(UTC).replace(microsecond=0)
    release_id = new_release_id(built_at)
    target = releases_dir / release_id
    if target.exists() or (current_release(releases_dir) or "") >= release_id:
        raise ReleaseError(f"release {release_id} is not newer than every release in {releases_dir}")
    staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{release_id}-", dir=releases_dir))
    try:
        docs = published_docs()
        with open_build(settings) as build:
            counts, undescribed = _write_published(
                settings, build, staging / WAREHOUSE_FILE, release_id, built_at, docs
            )
            _write_internal(settings, build, staging / INTERNAL_FILE)
        write_exports(settings, staging / WAREHOUSE_FILE, staging / EXPORTS_DIR)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a release is for every reader
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Release(release_id, target, counts, undescribed)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relations(db: duckdb.DuckDBPyConnection, database: str, schema: str) -> list[str]:
    """Tables and views of `database.schema` (the build's published schema may hold either)."""
    rows = db.execute(
        """
        select table_name from duckdb_tables() where database_name = ? and schema_name = ?
        union
        select view_name from duckdb_views() where database_name = ? and schema_name = ? and not internal
        order by 1
        """,
        [database, schema, database, schema],
    ).fetchall()
    return [name for (name,) in rows]


def _copy_tables(
    db: duckdb.DuckDBPyConnection, build: BuildTables, schema: str, target_schema: str, tables: Iterable[str]
) -> dict[str, int]:
    """Each table of the build's `schema` into `target_schema` of `db`, streamed through Arrow."""
    counts = {}
    for table in tables:
        rows = build.batches(f"select * from {schema}.{table}")  # noqa: S608
        db.register("_build_rows", rows)
        db.execute(f"create table {target_schema}.{_ident(table)} as select * from _build_rows")  # noqa: S608
        db.unregister("_build_rows")
        rows.close()
        # fetched to the end: `register` refuses a connection with a result still open
        [(counts[table],)] = db.execute(f"select count(*) from {target_schema}.{_ident(table)}").fetchall()  # noqa: S608
    return counts


def _comment(db: duckdb.DuckDBPyConnection, schema: str, table: str, doc: TableDoc | None) -> list[str]:
    """Comment a table and its columns from `doc`; returns the columns left without a description."""
    columns = [
        c
        for (c,) in db.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
            "order by column_index",
            [schema, table],
        ).fetchall()
    ]
    if doc and doc.description:
        db.execute(f"comment on table {schema}.{_ident(table)} is {_quote(doc.description)}")
    missing = []
    for column in columns:
        text = doc.columns.get(column, "") if doc else ""
        if text:
            db.execute(f"comment on column {schema}.{_ident(table)}.{_ident(column)} is {_quote(text)}")
        else:
            missing.append(f"{table}.{column}")
    return missing


def _write_published(
    settings: Settings,
    build: BuildTables,
    path: Path,
    release_id: str,
    built_at: datetime,
    docs: Mapping[str, TableDoc],
) -> tuple[dict[str, int], tuple[str, ...]]:
    tables = build.tables(PUBLISHED_SCHEMA)
    if not tables:
        raise ReleaseError(f"the build ({build.engine}) has no schema {PUBLISHED_SCHEMA} to release")
    with settings.connect(path) as db:
        db.execute(f"create schema {PUBLISHED_SCHEMA}")
        counts = _copy_tables(db, build, PUBLISHED_SCHEMA, PUBLISHED_SCHEMA, tables)
        sources = _release_sources(build, settings)
        versions = build.rows(
            f"select distinct strategy_version from {MARTS_SCHEMA}.priorities where is_active_strategy"  # noqa: S608
        )
        strategy = ",".join(sorted(version for (version,) in versions)) or None
        counts |= {SOURCES_TABLE: len(sources), RELEASE_TABLE: 1}
        _create_release_tables(db, release_id, built_at, strategy, sources, counts)
        undescribed = [m for t in sorted(counts) for m in _comment(db, PUBLISHED_SCHEMA, t, docs.get(t))]
        db.execute("checkpoint")
    return counts, tuple(undescribed)


def _release_sources(build: BuildTables, settings: Settings) -> list[tuple]:
    """One row per source table: contract versions (from the build's data-quality results), months,
    files and rows (from the landing ledger)."""
    versions: dict[tuple[str, str], list[str]] = {}
    for source, table, version in build.rows(
        f"select distinct source, table_name, contract_version from {MARTS_SCHEMA}.data_quality_results"  # noqa: S608
    ):
        if version is not None:
            versions.setdefault((source, table), []).append(version)
    rows = []
    for table in SOURCE_TABLES:
        landed = read_ledger(table, settings.landed_dir).landed.values()
        if not landed:
            continue
        months = sorted(e["month"] for e in landed if e.get("month"))
        table_versions = versions.get((table.source, table.table))
        rows.append(
            (
                table.source,
                table.table,
                ",".join(sorted(table_versions)) if table_versions else None,
                f"{months[0]}-01" if months else None,
                f"{months[-1]}-01" if months else None,
                len(landed),
                sum(e.get("rows_accepted") or 0 for e in landed),
                sum(e.get("rows_quarantined") or 0 for e in landed),
            )
        )
    return rows


def _create_release_tables(
    db: duckdb.DuckDBPyConnection,
    release_id: str,
    built_at: datetime,
    strategy_version: str | None,
    sources: list[tuple],
    counts: dict[str, int],
) -> None:
    for name, (_, columns) in RELEASE_TABLES.items():
        body = ", ".join(f"{c} {t}" for c, t, _ in columns)
        db.execute(f"create table {PUBLISHED_SCHEMA}.{name} ({body})")
    db.executemany(f"insert into {PUBLISHED_SCHEMA}.{SOURCES_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)", sources)
    contract_versions = "; ".join(f"{s}/{t} {v}" for s, t, v, *_ in sources if v)
    db.execute(
        f"insert into {PUBLISHED_SCHEMA}.{RELEASE_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            release_id,
            built_at.replace(tzinfo=None),
            strategy_version,
            _version("nqs-warehouse"),
            _version("dbt-core"),
            duckdb.__version__,
            contract_versions,
            len(counts),
            json.dumps(dict(sorted(counts.items()))),
        ],
    )


def _version(package: str) -> str | None:
    try:
        return package_metadata.version(package)
    except package_metadata.PackageNotFoundError:
        return None


def _write_internal(settings: Settings, build: BuildTables, path: Path) -> None:
    """The build's marts, unrounded, as tables of schema `unrounded`, with their comments."""
    tables = [t for t in build.tables(MARTS_SCHEMA) if t not in ROW_LEVEL_TABLES]
    comments = build.comments(MARTS_SCHEMA)
    with settings.connect(path) as db:
        db.execute(f"create schema {UNROUNDED_SCHEMA}")
        _copy_tables(db, build, MARTS_SCHEMA, UNROUNDED_SCHEMA, tables)
        for table, column, text in comments:
            if table not in tables:
                continue
            target = f"{UNROUNDED_SCHEMA}.{_ident(table)}" + (f".{_ident(column)}" if column else "")
            db.execute(f"comment on {'column' if column else 'table'} {target} is {_quote(text)}")
        db.execute("checkpoint")


# ---------------------------------------------------------------------------------------------
# Exports: Parquet, CSV, the data dictionary and the checksums
# ---------------------------------------------------------------------------------------------


def write_exports(settings: Settings, warehouse: Path, exports: Path) -> None:
    """Export every table of the release file's schema `published` to `exports/`."""
    (exports / "parquet").mkdir(parents=True)
    (exports / "csv").mkdir()
    with settings.connect(warehouse, read_only=True) as db:
        tables = _relations(db, warehouse.stem, PUBLISHED_SCHEMA)
        for table in tables:
            _export_table(db, table, exports)
        columns = db.execute(
            """
            select c.table_name, c.column_name, c.data_type, coalesce(c.comment, ''), coalesce(t.comment, '')
            from duckdb_columns() as c
            inner join duckdb_tables() as t on c.table_oid = t.table_oid
            where c.schema_name = ?
            order by c.table_name, c.column_index
            """,
            [PUBLISHED_SCHEMA],
        ).fetchall()
    entries = dictionary_entries(columns)
    _write_dictionary(entries, exports)
    write_checksums(exports)


def _export_table(db: duckdb.DuckDBPyConnection, table: str, exports: Path) -> None:
    source = f"{PUBLISHED_SCHEMA}.{_ident(table)}"
    if table in PARTITIONED_TABLES:
        columns = [c for (c,) in db.execute(f"select column_name from (describe {source})").fetchall()]  # noqa: S608
        keys = [k for k in ("period_type",) if k in columns] + ["financial_year"]
        derived = "" if "financial_year" in columns else f", {_FINANCIAL_YEAR_SQL} as financial_year"
        # the keys stay in the files too, so each file is whole for a reader that ignores the folders
        db.execute(
            f"copy (select *{derived} from {source}) to {_quote(str(exports / 'parquet' / table))} "  # noqa: S608
            f"(format parquet, partition_by ({', '.join(keys)}), write_partition_columns true)"
        )
        return
    db.execute(f"copy {source} to {_quote(str(exports / 'parquet' / f'{table}.parquet'))} (format parquet)")
    db.execute(f"copy {source} to {_quote(str(exports / 'csv' / f'{table}.csv'))} (format csv, header true)")


@dataclass(frozen=True)
class DictionaryEntry:
    table: str
    column: str
    data_type: str
    description: str
    files: str  #: where the column is exported, relative to exports/
    table_description: str


def dictionary_entries(columns: Iterable[tuple[str, str, str, str, str]]) -> list[DictionaryEntry]:
    """Dictionary rows from (table, column, type, description, table description) of the release file,
    in table order, with the `financial_year` a partitioned export adds where its table has none."""
    by_table: dict[str, list[DictionaryEntry]] = {}
    for table, column, data_type, description, table_description in columns:
        if table in PARTITIONED_TABLES:
            files = f"parquet/{table}/**/*.parquet (Hive-partitioned)"
        else:
            files = f"parquet/{table}.parquet, csv/{table}.csv"
        entry = DictionaryEntry(table, column, data_type, description, files, table_description)
        by_table.setdefault(table, []).append(entry)
    for table, entries in by_table.items():
        if table in PARTITIONED_TABLES and "financial_year" not in {e.column for e in entries}:
            last = entries[-1]
            entries.append(
                DictionaryEntry(
                    table,
                    "financial_year",
                    "VARCHAR",
                    FINANCIAL_YEAR_DESCRIPTION,
                    last.files,
                    last.table_description,
                )
            )
    return [entry for entries in by_table.values() for entry in entries]


_DICTIONARY_FIELDS = ("table", "column", "data_type", "description", "files")


def _write_dictionary(entries: list[DictionaryEntry], exports: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_DICTIONARY_FIELDS)
    for e in entries:
        writer.writerow([e.table, e.column, e.data_type, e.description, e.files])
    (exports / f"{DICTIONARY_STEM}.csv").write_text(buffer.getvalue(), encoding="utf-8")

    lines = [
        "# Data dictionary",
        "",
        "Every column of every exported table of schema `published`, generated with the release from the "
        "dbt docs and `nqs/benchmarking/tables.yml`. Partitioned Parquet exports are Hive-partitioned "
        "by period_type and financial_year, which every file also holds as columns.",
    ]
    for table in dict.fromkeys(e.table for e in entries):
        rows = [e for e in entries if e.table == table]
        lines += ["", f"## {table}", "", rows[0].table_description or "", "", f"Files: {rows[0].files}", ""]
        lines += ["| column | type | description |", "| --- | --- | --- |"]
        lines += [f"| `{e.column}` | {e.data_type} | {e.description.replace('|', '/')} |" for e in rows]
    (exports / f"{DICTIONARY_STEM}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_checksums(folder: Path) -> None:
    """`manifest.json` (every file: path, bytes, sha256) and `SHA256SUMS` (`sha256sum -c` format) for
    every file under `folder`, both written last."""
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.name not in (MANIFEST_FILE, CHECKSUMS_FILE)
    )
    records = [
        {"path": p.relative_to(folder).as_posix(), "bytes": p.stat().st_size, "sha256": sha256(p)}
        for p in files
    ]
    (folder / MANIFEST_FILE).write_text(json.dumps({"files": records}, indent=1) + "\n", encoding="utf-8")
    (folder / CHECKSUMS_FILE).write_text(
        "".join(f"{r['sha256']}  {r['path']}\n" for r in records), encoding="utf-8"
    )
