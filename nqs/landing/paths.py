"""Where landing finds a table's delivered files and where it writes what it made of them.

Under the landed zone, per source table: accepted rows in `<source>/<table>/`, quarantined rows in
`_quarantine/<source>/<table>/` and check results in `_checks/<source>/<table>/`, one parquet per
delivered file, named after it (`output_stem`).
"""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

from contracts.sources import SourceTable

QUARANTINE_DIR = "_quarantine"
CHECKS_DIR = "_checks"
#: Written when a table has no source files yet, so `<table>/*.parquet` always matches something.
PLACEHOLDER_STEM = "_no_files"

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


def output_stem(path: Path) -> str:
    """`events_2025-05` for the CSV; `events_2025-05_parquet` for the same month in another format."""
    return path.stem if path.suffix.lower() == ".csv" else f"{path.stem}_{path.suffix.lstrip('.').lower()}"


def source_file_name(path: Path, sources_dir: Path) -> str:
    """A delivered file as recorded in every output: its path under the sources folder, posix style."""
    try:
        return path.resolve().relative_to(sources_dir.resolve()).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"
