"""Landing a source table: its delivered files through `nqs.landing.file`, written as parquet by month.

Accepted rows, the quarantine and every check's result each go to one parquet file per source file,
in the Hive partition folder of the month the file covers (`nqs.landing.paths`); the organisations
reference the codes are checked against is loaded once per table (`nqs.landing.reference`). The
ledger (`nqs.landing.ledger`) records each file's content hash as landed, so a later landing can
land only the files that are new or changed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path

import polars as pl

from contracts.sources import SourceTable
from nqs.landing.check_results import CHECK_RESULT_SCHEMA
from nqs.landing.file import LandingResult, land_delivered, now
from nqs.landing.ledger import read_ledger, sha256_file
from nqs.landing.membership import ReferenceCodes
from nqs.landing.outputs import QUARANTINE_SCHEMA, empty_landed_frame, write_parquet
from nqs.landing.paths import (
    PARTITION_KEY,
    PLACEHOLDER_STEM,
    delivered_files,
    file_month,
    output_files,
    output_folders,
    output_stem,
    source_file_name,
)
from nqs.landing.pseudonymise import Pseudonymiser
from nqs.landing.reference import load_reference, needs_reference
from nqs.landing.workers import run_in_worker


def land_source_table(
    table: SourceTable,
    sources_dir: Path,
    landed_dir: Path,
    *,
    pseudonym_key: bytes,
    today: date,
    reference: ReferenceCodes | None = None,
    months: Collection[str] | None = None,
    only_changed: bool = False,
    landing_fingerprint: str = "",
    files_per_worker: int = 0,
) -> list[LandingResult]:
    """Land the files of `table` covering `months` (None: every file), one parquet of each output per file.

    Writes `landed_dir/<source>/<table>/month=YYYY-MM/<file_stem>.parquet`, and the same under
    `_quarantine/` and `_checks/` (a file naming no month: in the table's folder itself). Each month
    landed is left holding exactly the outputs of the files delivered for it: outputs of files no
    longer delivered are removed, and landing a file again replaces its outputs (so a re-run adds
    nothing twice). With `only_changed`, a file is landed only if the ledger has no record of it with
    the same sha256 and `landing_fingerprint` (or its outputs are missing); otherwise every file in
    `months` is. Empty outputs are written with their full schema. Organisation codes are checked
    against `reference`, loaded from the sources' organisations file when not given and needed. A file
    of the table delivered in another format (`nqs.landing.paths.OTHER_FORMATS`, e.g.
    `events_2025-05.parquet`) is landed too, as the critical failure it is. Returns the results of the
    files landed, in file order.

    With `files_per_worker` above 0 and more files than that to land (a backfill), the files are
    landed in groups of `files_per_worker`, each in a new process that exits after it (`_batches`,
    `nqs.landing.workers`), so the native memory landing leaves behind is bounded by one group rather
    than growing with the years landed; otherwise (0, or no more files than that) they are landed in
    this process. Either way the outputs, the results and the ledger are the same: the ledger is
    written here, once every file has landed, and a worker's pseudonymiser starts empty (the same
    hashes, a little more hashing).
    """
    sources_dir, landed_dir = Path(sources_dir), Path(landed_dir)
    ledger = read_ledger(table, landed_dir)
    delivered = {source_file_name(p, sources_dir): p for p in delivered_files(table, sources_dir)}
    in_scope = {name: path for name, path in delivered.items() if _in_scope(file_month(path), months)}
    hashes = {name: sha256_file(path) for name, path in in_scope.items()}
    to_land = [
        name
        for name in sorted(in_scope)
        if not only_changed
        or ledger.needs_landing(name, hashes[name], landing_fingerprint)
        or not all(p.exists() for p in _outputs_of(table, landed_dir, in_scope[name]))
    ]
    if to_land and reference is None and needs_reference(table):
        reference = load_reference(sources_dir, today=today)
    loaded_at = now()
    results = []
    for batch in _batches(to_land, files_per_worker):
        paths = [in_scope[name] for name in batch]
        args = (table, paths, sources_dir, landed_dir, pseudonym_key, today, reference, loaded_at)
        if len(batch) == len(to_land):
            landed = _land_files(*args)
        else:  # in a process of its own, whose memory goes back to the system when it ends
            doing = f"landing {table.source}/{table.table} files {batch[0]} to {batch[-1]}"
            landed = run_in_worker(_land_files, *args, doing=doing)
        for name, result in zip(batch, landed, strict=True):
            ledger.record(name, _entry(result, in_scope[name], hashes[name], landing_fingerprint))
            results.append(result)
    # files no longer delivered, in the months landed or naming none (the table's own folder is swept
    # whatever the months): their outputs go below
    removed = [
        n
        for n, e in ledger.landed.items()
        if n not in delivered and (e["month"] is None or _in_scope(e["month"], months))
    ]
    for name in removed:
        del ledger.landed[name]
    _remove_stale(table, landed_dir, delivered.values(), months)
    _write_placeholder(table, landed_dir, empty=not delivered)
    ledger.save()
    return results


def _batches(names: list[str], files_per_worker: int) -> list[list[str]]:
    """The files to land in one go each: all of them, if `files_per_worker` is 0 or they are no more
    than it; otherwise groups of `files_per_worker`, each landed in a worker process of its own."""
    if files_per_worker <= 0 or len(names) <= files_per_worker:
        return [names]
    return [names[i : i + files_per_worker] for i in range(0, len(names), files_per_worker)]


def _land_files(
    table: SourceTable,
    paths: list[Path],
    sources_dir: Path,
    landed_dir: Path,
    pseudonym_key: bytes,
    today: date,
    reference: ReferenceCodes | None,
    loaded_at: datetime,
) -> list[LandingResult]:
    """Land `paths` in order, writing each file's three outputs; their results, rows released.

    Run in the caller's process or in a worker (`nqs.landing.workers`), so everything it takes and
    returns pickles. An exception names the file it was raised on (a note)."""
    pseudonymiser = Pseudonymiser(pseudonym_key)  # shared, so each person is hashed once per call
    results = []
    for path in paths:
        try:
            result = land_delivered(table, path, sources_dir, pseudonymiser, today, reference, loaded_at)
            accepted, quarantine, checks = _outputs_of(table, landed_dir, path)
            write_parquet(result.accepted, accepted)
            write_parquet(result.quarantine, quarantine)
            write_parquet(result.checks, checks)
        except Exception as exc:
            exc.add_note(f"landing {table.source}/{table.table} file {source_file_name(path, sources_dir)}")
            raise
        results.append(result.released())
    return results


def _in_scope(month: str | None, months: Collection[str] | None) -> bool:
    """A file is landed with every month (`months` None), or with its own month."""
    return months is None or month in months


def _outputs_of(table: SourceTable, landed_dir: Path, path: Path) -> tuple[Path, Path, Path]:
    return output_files(table, landed_dir, output_stem(path), file_month(path))


def _entry(result: LandingResult, path: Path, sha256: str, landing_fingerprint: str) -> dict:
    return {
        "sha256": sha256,
        "month": file_month(path),
        "stem": output_stem(path),
        "fingerprint": landing_fingerprint,
        "contract_version": result.table.version,  # the version chosen from the file's header
        "rows_read": result.rows_read,
        "rows_accepted": result.rows_accepted,
        "rows_quarantined": result.rows_quarantined,
        "critical_error": result.critical_error,
    }


def _remove_stale(
    table: SourceTable, landed_dir: Path, delivered: Collection[Path], months: Collection[str] | None
) -> None:
    """Remove outputs in the months landed (every month if None) that no delivered file accounts for.

    The table's own folder (files naming no month, the placeholder) is swept whatever the months, so
    outputs of the flat layout landing wrote before partitions go too; emptied partitions go.
    """
    kept = {(file_month(p), output_stem(p)) for p in delivered} | {(None, PLACEHOLDER_STEM)}
    for folder in output_folders(table, landed_dir):
        if not folder.is_dir():
            continue
        for stale in folder.glob("*.parquet"):
            if (None, stale.stem) not in kept:
                stale.unlink()
        for partition in folder.glob(f"{PARTITION_KEY}=*"):
            month = partition.name.split("=", 1)[1]
            if not partition.is_dir() or not _in_scope(month, months):
                continue
            for stale in partition.glob("*.parquet"):
                if (month, stale.stem) not in kept:
                    stale.unlink()
            if not any(partition.iterdir()):
                partition.rmdir()


def _write_placeholder(table: SourceTable, landed_dir: Path, *, empty: bool) -> None:
    """An empty output of each kind while the table has no delivered file, so its globs match a file."""
    frames = (
        empty_landed_frame(table),
        pl.DataFrame(schema=QUARANTINE_SCHEMA),
        pl.DataFrame(schema=CHECK_RESULT_SCHEMA),
    )
    for folder, frame in zip(output_folders(table, landed_dir), frames, strict=True):
        placeholder = folder / f"{PLACEHOLDER_STEM}.parquet"
        if empty:
            write_parquet(frame, placeholder)
        else:
            placeholder.unlink(missing_ok=True)
