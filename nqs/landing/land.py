"""Landing a source table: every delivered file of it through `nqs.landing.file`, written as parquet.

Accepted rows, the quarantine and every check's result each go to one parquet file per source file
(`nqs.landing.paths`); the organisations reference the codes are checked against is loaded once per
table (`nqs.landing.reference`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from contracts.sources import SourceTable
from nqs.landing.check_results import CHECK_RESULT_SCHEMA
from nqs.landing.file import LandingResult, land_delivered, now
from nqs.landing.membership import ReferenceCodes
from nqs.landing.outputs import QUARANTINE_SCHEMA, empty_landed_frame, write_parquet
from nqs.landing.paths import PLACEHOLDER_STEM, checks_path, delivered_files, landed_paths, output_stem
from nqs.landing.pseudonymise import Pseudonymiser
from nqs.landing.reference import load_reference, needs_reference


def land_source_table(
    table: SourceTable,
    sources_dir: Path,
    landed_dir: Path,
    *,
    pseudonym_key: bytes,
    today: date,
    reference: ReferenceCodes | None = None,
) -> list[LandingResult]:
    """Land every file of `table`: one accepted and one quarantine parquet per source file.

    Writes `landed_dir/<source>/<table>/<file_stem>.parquet`,
    `landed_dir/_quarantine/<source>/<table>/<file_stem>.parquet` and the file's check results in
    `landed_dir/_checks/<source>/<table>/<file_stem>.parquet`, replacing any earlier landing of
    the same file (so a re-run adds nothing twice) and removing outputs of files no longer delivered.
    Empty outputs are written with their full schema. Organisation codes are checked against
    `reference`, loaded from the sources' organisations file when not given. A file of the table
    delivered in another format (`nqs.landing.paths.OTHER_FORMATS`, e.g. `events_2025-05.parquet`)
    is landed too, as the critical failure it is.
    """
    sources_dir, landed_dir = Path(sources_dir), Path(landed_dir)
    files = delivered_files(table, sources_dir)
    if reference is None and needs_reference(table):
        reference = load_reference(sources_dir, today=today)
    accepted_dir, quarantine_dir = landed_paths(table, landed_dir)
    checks_dir = checks_path(table, landed_dir)
    pseudonymiser = Pseudonymiser(pseudonym_key)  # shared, so each person is hashed once per table
    loaded_at = now()
    results = []
    stems = {path: output_stem(path) for path in files}
    for path in files:
        result = land_delivered(table, path, sources_dir, pseudonymiser, today, reference, loaded_at)
        write_parquet(result.accepted, accepted_dir / f"{stems[path]}.parquet")
        write_parquet(result.quarantine, quarantine_dir / f"{stems[path]}.parquet")
        write_parquet(result.checks, checks_dir / f"{stems[path]}.parquet")
        results.append(result.released())
    kept = set(stems.values()) or {PLACEHOLDER_STEM}
    if not files:
        write_parquet(empty_landed_frame(table), accepted_dir / f"{PLACEHOLDER_STEM}.parquet")
        write_parquet(pl.DataFrame(schema=QUARANTINE_SCHEMA), quarantine_dir / f"{PLACEHOLDER_STEM}.parquet")
        write_parquet(pl.DataFrame(schema=CHECK_RESULT_SCHEMA), checks_dir / f"{PLACEHOLDER_STEM}.parquet")
    for folder in (accepted_dir, quarantine_dir, checks_dir):
        for stale in folder.glob("*.parquet"):
            if stale.stem not in kept:
                stale.unlink()
    return results
