"""Where landing finds a table's delivered files and where it writes what it made of them.

Under the landed zone, per source table: accepted rows in `<source>/<table>/`, quarantined rows in
`_quarantine/<source>/<table>/` and check results in `_checks/<source>/<table>/`, one parquet per
delivered file, named after it (`output_stem`), in a Hive partition folder of the month the file
covers (`month=YYYY-MM/`, from its name: `file_month`). A file whose name gives no month (the
organisations reference) is written in the table's folder itself.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

from contracts.sources import SourceTable

QUARANTINE_DIR = "_quarantine"
CHECKS_DIR = "_checks"
#: Written when a table has no source files yet, so `<table>/**/*.parquet` always matches something.
PLACEHOLDER_STEM = "_no_files"
#: The Hive partition key of the month a file covers: `month=2025-05`.
PARTITION_KEY = "month"
#: A month in a delivered file's name, `events_2025-05.csv`: the month the file covers.
_FILE_MONTH = re.compile(r"_(?P<month>\d{4}-(0[1-9]|1[0-2]))(\.|$)")

#: Files in a source folder that look like a delivery of the table in another format: landed as
#: critical failures rather than ignored, so a delivery is never silently dropped.
OTHER_FORMATS = (".parquet", ".xlsx", ".xls", ".json", ".gz", ".zip", ".tsv", ".txt")


def landed_paths(table: SourceTable, landed_dir: Path) -> tuple[Path, Path]:
    """(accepted folder, quarantine folder) of one table under the landed zone."""
    return landed_dir / table.source / table.table, landed_dir / QUARANTINE_DIR / table.source / table.table


def checks_path(table: SourceTable, landed_dir: Path) -> Path:
    """Folder of one table's check results (one parquet per source file) under the landed zone."""
    return landed_dir / CHECKS_DIR / table.source / table.table


def delivered_files(table: SourceTable, sources_dir: Path) -> list[Path]:
    """The table's files in its source folder: its CSVs and any delivery of it in another format."""
    folder = Path(sources_dir) / table.source
    candidates = folder.glob(_any_format_glob(table))
    return sorted(p for p in set(folder.glob(table.file_glob)) | set(candidates) if is_file_of(table, p))


def is_file_of(table: SourceTable, path: Path) -> bool:
    """Whether a file's name says it is a delivery of `table` (as a CSV or in `OTHER_FORMATS`)."""
    path = Path(path)
    if fnmatch(path.name, table.file_glob):
        return True
    return fnmatch(path.name, _any_format_glob(table)) and path.suffix.lower() in OTHER_FORMATS


def _any_format_glob(table: SourceTable) -> str:
    return table.file_glob.rsplit(".", 1)[0] + ".*"


def is_monthly(table: SourceTable) -> bool:
    """Whether a table's files each cover a month (its file names vary: a `*` in its glob)."""
    return "*" in table.file_glob


def file_month(path: Path) -> str | None:
    """`2025-05` for `events_2025-05.csv` (or `.parquet`...): the month a file covers; None if unnamed."""
    match = _FILE_MONTH.search(Path(path).name)
    return match["month"] if match else None


def partition_folder(folder: Path, month: str | None) -> Path:
    """The Hive partition folder of `month` in one output folder of a table; the folder itself if None."""
    return folder / f"{PARTITION_KEY}={month}" if month else folder


def output_folders(table: SourceTable, landed_dir: Path) -> tuple[Path, Path, Path]:
    """(accepted, quarantine, checks) folders of one table under the landed zone."""
    return (*landed_paths(table, landed_dir), checks_path(table, landed_dir))


def output_files(
    table: SourceTable, landed_dir: Path, stem: str, month: str | None
) -> tuple[Path, Path, Path]:
    """(accepted, quarantine, checks) parquet files written for one delivered file."""
    return tuple(  # type: ignore[return-value]
        partition_folder(folder, month) / f"{stem}.parquet" for folder in output_folders(table, landed_dir)
    )


def parquet_files(folder: Path) -> list[Path]:
    """Every parquet file of one output folder of a table: its partitions' and its own."""
    return sorted(p for p in Path(folder).rglob("*.parquet") if not p.name.startswith("."))


def output_stem(path: Path) -> str:
    """`events_2025-05` for the CSV; `events_2025-05_parquet` for the same month in another format."""
    return path.stem if path.suffix.lower() == ".csv" else f"{path.stem}_{path.suffix.lstrip('.').lower()}"


def source_file_name(path: Path, sources_dir: Path) -> str:
    """A delivered file as recorded in every output: its path under the sources folder, posix style."""
    try:
        return path.resolve().relative_to(sources_dir.resolve()).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"
