"""Landing: every source file passes through its contract into typed, pseudonymised parquet.

For one file: read it as text (`nqs.landing.reading`: format, encoding, records); check the header (a
missing, extra, repeated or unreadable header, another delimiter, or the header of another source
fails the whole file, critically); record reading findings (ragged rows, oversized fields, decoded
characters); normalise and cast each column to the contract's type (`nqs.landing.casting`: a value that
does not cast fails its row); validate the typed rows with pandera, lazily, and map each failure case
back to its row; check organisation codes against the reference; then split. A row with any major
failure is quarantined whole, never partially accepted; the accepted rows have their direct
identifiers replaced by keyed hashes. Every row read ends up in exactly one of the two outputs, and
every failure carries a one-line `reason`.

Severity tiers: critical fails the whole file (nothing accepted, every readable row quarantined
under `critical:<reason>`, and `LandingResult.critical_error` holds one line naming source, file,
column and, where there is one, row); major quarantines the row; minor is recorded in the quarantine
and the row is accepted.

Row failures become a whole-file failure when a column or the file is wrong as a whole. The
thresholds, all here:

- `wrong_type`: more than `WRONG_TYPE_SHARE` (half) of a column's non-empty values do not cast to
  its type, and at least `ESCALATION_MIN_ROWS` (5) do: the column holds something else (dates in
  another format, text in a count, columns shifted);
- `duplicate_keys`: more than `DUPLICATE_KEY_SHARE` (5%) of the rows repeat a natural key seen
  earlier in the file, and at least `ESCALATION_MIN_ROWS` do (a file of one repeated row, a file
  delivered twice over); a handful of repeats stays row-level (`unique_key`, major);
- `ragged_rows`: more than `RAGGED_ROW_SHARE` (half) of the rows have another number of fields than
  the header, and at least `ESCALATION_MIN_ROWS` do: the file's structure, not its rows, is wrong;
- `field_too_long` (major, per row): a value longer than `MAX_FIELD_BYTES` (4 KiB); no field of any
  collection comes near it, so it is a broken quote or a pasted document, not data.

Below `ESCALATION_MIN_ROWS` failures a file is never escalated: a three-row file with two bad dates
is two quarantined rows, not a failed month.

Row numbers are 1-based data records within the file (the header and blank lines are not counted),
as everywhere else. pandera reports a failing row by its 0-based position in the frame it validated;
landing maps that position back to the record's row number. A failure case without an index (a
column that could not be checked at all) condemns the whole file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from contracts.base import Severity, as_of, failure_attribution
from contracts.sources import SOURCE_TABLES, SourceTable, get_table
from nqs.landing.casting import (
    cast_to_contract,
    empty_as_null,
    flagged_cells,
    non_empty_counts,
    normalise_text,
)
from nqs.landing.check_results import (
    CHECK_RESULT_SCHEMA,
    ENCODING_CHECK,
    FIELD_TOO_LONG_CHECK,
    RAGGED_ROW_CHECK,
    REASONS,
    check_results,
    code_columns,
)
from nqs.landing.membership import ReferenceCodes, membership_failures
from nqs.landing.pseudonymise import Pseudonymiser
from nqs.landing.reading import (
    EXTRA_PREFIX,
    ROW_NUMBER,
    UTF8,
    Delivered,
    FileFailure,
    other_delimiter,
    printable,
    read_delivered,
)

#: Key for the synthetic sample only; real loads take the key from NQS_PSEUDONYM_KEY.
SAMPLE_PSEUDONYM_KEY = b"sample-key-not-for-real-data"

#: Escalation thresholds (see the module docstring).
ESCALATION_MIN_ROWS = 5
WRONG_TYPE_SHARE = 0.5
DUPLICATE_KEY_SHARE = 0.05
RAGGED_ROW_SHARE = 0.5
MAX_FIELD_BYTES = 4096

#: Files in a source folder that look like a delivery of the table in another format: landed as
#: critical failures rather than ignored, so a delivery is never silently dropped.
OTHER_FORMATS = (".parquet", ".xlsx", ".xls", ".json", ".gz", ".zip", ".tsv", ".txt")

META_SCHEMA: dict[str, pl.DataType] = {
    "_source_file": pl.String(),
    ROW_NUMBER: pl.Int64(),
    "_contract_version": pl.String(),
}
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "table_name": pl.String(),
    "source_file": pl.String(),
    "row_number": pl.Int64(),
    "column_name": pl.String(),
    "check_name": pl.String(),
    "severity": pl.String(),
    "failure_value": pl.String(),
    "contract_version": pl.String(),
    "original_row": pl.String(),
    "reason": pl.String(),
}
FAILURE_SCHEMA: dict[str, pl.DataType] = {
    "row_number": pl.Int64(),
    "column_name": pl.String(),
    "check_name": pl.String(),
    "severity": pl.String(),
    "reason": pl.String(),
}
QUARANTINE_DIR = "_quarantine"
CHECKS_DIR = "_checks"
#: Folder of the registry of source tables under the landed zone.
REGISTRY_DIR = "_registry"
#: Written when a table has no source files yet, so `<table>/*.parquet` always matches something.
PLACEHOLDER_STEM = "_no_files"


@dataclass(frozen=True)
class LandingResult:
    """What one file's landing accepted and quarantined, and whether the file failed as a whole."""

    table: SourceTable
    source_file: str  #: path relative to the sources directory, posix style
    accepted: pl.DataFrame
    quarantine: pl.DataFrame
    rows_read: int
    #: one row per check applied, with rows checked and failed
    #: (`nqs.landing.check_results.CHECK_RESULT_SCHEMA`)
    checks: pl.DataFrame
    critical_error: str | None = None
    encoding: str = field(default=UTF8)  #: the encoding the file was decoded from

    @property
    def rows_accepted(self) -> int:
        return self.accepted.height

    @property
    def rows_quarantined(self) -> int:
        """Distinct rows held back (minor findings are recorded but their rows are accepted)."""
        held = self.quarantine.filter(pl.col("severity") != Severity.MINOR)
        return held["row_number"].drop_nulls().n_unique()

    @property
    def rows_with_minor_findings(self) -> int:
        """Accepted rows that carry at least one minor finding."""
        minor = self.quarantine.filter(pl.col("severity") == Severity.MINOR)
        return minor["row_number"].drop_nulls().n_unique()


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def land_file(
    table: SourceTable,
    path: Path,
    *,
    sources_dir: Path | None = None,
    pseudonym_key: bytes,
    today: date,
    reference: ReferenceCodes | None = None,
) -> LandingResult:
    """Validate one source file against its contract; nothing is written (see `land_source_table`).

    `sources_dir` (default: the folder above the source folder) makes `source_file` relative;
    `today` is the date after which dates count as "in the future"; with `reference`, trust and site
    codes must be known and open on the activity date. Never raises for anything in the file: a
    file that cannot be loaded comes back with `critical_error` set.
    """
    path = Path(path)
    sources_dir = Path(sources_dir) if sources_dir is not None else path.parent.parent
    return _land(table, path, sources_dir, Pseudonymiser(pseudonym_key), today, reference, _now())


def _land(
    table: SourceTable,
    path: Path,
    sources_dir: Path,
    pseudonymiser: Pseudonymiser,
    today: date,
    reference: ReferenceCodes | None,
    loaded_at: datetime,
) -> LandingResult:
    source_file = _relative(path, sources_dir)
    delivered: Delivered | None = None
    try:
        delivered = read_delivered(path)
        table = table.contract_for_header(delivered.header)  # the version the file was written under
        _check_header(table, delivered.header)
        return _land_rows(table, source_file, delivered, pseudonymiser, today, reference, loaded_at)
    except FileFailure as failure:
        return _critical(table, source_file, _with_rows(failure, table, delivered), pseudonymiser, loaded_at)


def _land_rows(
    table: SourceTable,
    source_file: str,
    delivered: Delivered,
    pseudonymiser: Pseudonymiser,
    today: date,
    reference: ReferenceCodes | None,
    loaded_at: datetime,
) -> LandingResult:
    """Row-level landing of a file whose header is the contract's; raises FileFailure to escalate."""
    raw = delivered.rows
    raw = raw.select(ROW_NUMBER, *(empty_as_null(c) for c in raw.columns if c != ROW_NUMBER))
    reading, well_formed = _reading_failures(table, raw, delivered)
    text = raw.select(ROW_NUMBER, *table.columns)
    if not well_formed.all():
        text = text.filter(well_formed)
    text, normalised = normalise_text(text, list(table.columns), code_columns(table))
    text = text.select(ROW_NUMBER, *(empty_as_null(c) for c in table.columns))
    typed, type_failures = cast_to_contract(text, contract_dtypes(table))
    _escalate_wrong_type(table, text, type_failures, raw)
    with as_of(today):
        contract_failures = _contract_failures(table, typed, raw)
    _escalate_duplicate_keys(table, typed, contract_failures, raw)
    failures = _combine(
        _with_severity(type_failures, Severity.MAJOR),
        reading,
        _with_severity(normalised, Severity.MINOR),
        contract_failures,
        _membership(typed, table, reference) if reference is not None else None,
    )
    held = failures.filter(pl.col("severity") != Severity.MINOR)["row_number"].unique()
    accepted = typed.filter(~pl.col(ROW_NUMBER).is_in(held.implode()))
    return LandingResult(
        table=table,
        source_file=source_file,
        accepted=_landed_frame(table, accepted, source_file, pseudonymiser),
        quarantine=_quarantine_frame(table, source_file, raw, failures, pseudonymiser),
        rows_read=raw.height,
        checks=check_results(
            table,
            source_file,
            raw.height,
            failures,
            with_membership=reference is not None,
            loaded_at=loaded_at,
        ),
        encoding=delivered.encoding,
    )


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
    delivered in another format (`OTHER_FORMATS`, e.g. `events_2025-05.parquet`) is landed too, as
    the critical failure it is.
    """
    sources_dir, landed_dir = Path(sources_dir), Path(landed_dir)
    files = delivered_files(table, sources_dir)
    if reference is None and needs_reference(table):
        reference = load_reference(sources_dir, today=today)
    accepted_dir, quarantine_dir = landed_paths(table, landed_dir)
    checks_dir = checks_path(table, landed_dir)
    pseudonymiser = Pseudonymiser(pseudonym_key)  # shared, so each person is hashed once per table
    loaded_at = _now()
    results = []
    stems = {path: _output_stem(path) for path in files}
    for path in files:
        result = _land(table, path, sources_dir, pseudonymiser, today, reference, loaded_at)
        _write_parquet(result.accepted, accepted_dir / f"{stems[path]}.parquet")
        _write_parquet(result.quarantine, quarantine_dir / f"{stems[path]}.parquet")
        _write_parquet(result.checks, checks_dir / f"{stems[path]}.parquet")
        results.append(result)
    kept = set(stems.values()) or {PLACEHOLDER_STEM}
    if not files:
        _write_parquet(empty_landed_frame(table), accepted_dir / f"{PLACEHOLDER_STEM}.parquet")
        _write_parquet(pl.DataFrame(schema=QUARANTINE_SCHEMA), quarantine_dir / f"{PLACEHOLDER_STEM}.parquet")
        _write_parquet(pl.DataFrame(schema=CHECK_RESULT_SCHEMA), checks_dir / f"{PLACEHOLDER_STEM}.parquet")
    for folder in (accepted_dir, quarantine_dir, checks_dir):
        for stale in folder.glob("*.parquet"):
            if stale.stem not in kept:
                stale.unlink()
    return results


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


def _output_stem(path: Path) -> str:
    """`events_2025-05` for the CSV; `events_2025-05_parquet` for the same month in another format."""
    return path.stem if path.suffix.lower() == ".csv" else f"{path.stem}_{path.suffix.lstrip('.').lower()}"


def load_reference(sources_dir: Path, *, today: date | None = None) -> ReferenceCodes:
    """Trust and site codes from the sources' organisations file, as accepted by its own contract.

    Raises FileNotFoundError if the file is absent and ValueError if it fails as a whole: codes
    cannot be checked against a reference that is not there.
    """
    return load_reference_file(reference_path(sources_dir), today=today)


def reference_path(sources_dir: Path) -> Path:
    """Where the organisations reference lives in a sources folder."""
    table = get_table("organisations", "organisations")
    return Path(sources_dir) / table.source / table.file_glob


def load_reference_file(path: Path, *, today: date | None = None) -> ReferenceCodes:
    """Trust and site codes from one organisations file (see `load_reference`)."""
    table = get_table("organisations", "organisations")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"organisations reference {path} not found: trust and site codes cannot be checked"
        )
    result = land_file(table, path, pseudonym_key=b"", today=today or date.today())
    if result.critical_error:
        raise ValueError(f"organisations reference unusable: {result.critical_error}")
    return ReferenceCodes.from_organisations(result.accepted)


def checks_path(table: SourceTable, landed_dir: Path) -> Path:
    """Folder of one table's check results (one parquet per source file) under the landed zone."""
    return landed_dir / CHECKS_DIR / table.source / table.table


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def landed_paths(table: SourceTable, landed_dir: Path) -> tuple[Path, Path]:
    """(accepted folder, quarantine folder) of one table under the landed zone."""
    return landed_dir / table.source / table.table, landed_dir / QUARANTINE_DIR / table.source / table.table


@cache
def contract_dtypes(table: SourceTable) -> dict[str, pl.DataType]:
    """Contract column -> polars dtype (an instance, e.g. `pl.Int64()`), in contract order."""
    dtypes = {name: column.dtype.type for name, column in table.model.to_schema().columns.items()}
    return {name: dtype() if isinstance(dtype, type) else dtype for name, dtype in dtypes.items()}


def empty_landed_frame(table: SourceTable) -> pl.DataFrame:
    """The accepted output's schema with no rows."""
    schema = {
        (f"{c}_hash" if c in table.identifier_columns else c): (
            pl.String() if c in table.identifier_columns else t
        )
        for c, t in contract_dtypes(table).items()
    }
    return pl.DataFrame(schema={**schema, **META_SCHEMA})


# ---------------------------------------------------------------------------------------------
# Reading and whole-file checks
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Whole-file checks
# ---------------------------------------------------------------------------------------------


def _relative(path: Path, sources_dir: Path) -> str:
    try:
        return path.resolve().relative_to(sources_dir.resolve()).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"


def _with_rows(failure: FileFailure, table: SourceTable, delivered: Delivered | None) -> FileFailure:
    """Attach every readable row to a whole-file failure, so the quarantine loses none."""
    if failure.reason == "empty_file":
        failure.column = table.columns[0]
        failure.detail += f" (expected column '{failure.column}' first)"
    elif failure.rows is None and delivered is not None:
        headerless = failure.reason == "no_header"
        failure.rows = delivered.rows_without_header(table.columns) if headerless else delivered.rows
    if failure.rows is not None:
        failure.rows = failure.rows.select(
            ROW_NUMBER, *(empty_as_null(c) for c in failure.rows.columns if c != ROW_NUMBER)
        )
    return failure


def _check_header(table: SourceTable, header: list[str]) -> None:
    """The header must name exactly the contract's columns, once each, in any order."""
    expected = list(table.columns)
    if len(header) < len(expected) and (delimiter := other_delimiter(header)):
        raise FileFailure(
            "wrong_delimiter",
            expected[0],
            f"seems to use {delimiter} as its delimiter, not a comma: its header reads as "
            f"{len(header)} column{'s' if len(header) > 1 else ''} ({printable(','.join(header))}), "
            f"expected column '{expected[0]}' first",
        )
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        names = ", ".join(f"'{c}'" for c in repeated)
        detail = f"names column {names} more than once in its header"
        raise FileFailure("duplicate_column", repeated[0], detail)
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    if missing and (other := _matching_table(header, table)):
        raise FileFailure(
            "wrong_source",
            missing[0],
            f"is a file of another source: its header is that of {other.source}/{other.table} "
            f"(contract {other.model.__name__}), not {table.source}/{table.table} "
            f"(no column '{missing[0]}'); move it to the '{other.source}' folder",
        )
    if not set(header) & set(expected):
        raise FileFailure(
            "no_header",
            expected[0],
            f"has no header row: its first line names neither column '{expected[0]}' nor any other",
        )
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        raise FileFailure(
            "missing_column", missing[0], f"is missing column{'s' if len(missing) > 1 else ''} {names}"
        )
    if extra:
        names = ", ".join(f"'{c}'" if c else f"'' (unnamed, position {header.index(c) + 1})" for c in extra)
        raise FileFailure(
            "unexpected_column",
            extra[0] or None,
            f"has unexpected column{'s' if len(extra) > 1 else ''} {names} "
            f"(contract {table.model.__name__} is strict)",
        )


def _matching_table(header: list[str], table: SourceTable) -> SourceTable | None:
    """The registered table whose columns the header names best, if it names most of them."""
    names = set(header)

    def overlap(other: SourceTable) -> float:
        columns = set(other.columns)
        return len(names & columns) / len(names | columns)

    own = max(overlap(table.at_version(v.version)) for v in table.versions)
    others = [t.at_version(v.version) for t in SOURCE_TABLES if t.name != table.name for v in t.versions]
    best = max(others, key=overlap, default=None)
    return best if best is not None and overlap(best) >= 0.8 and overlap(best) > own else None


def _reading_failures(
    table: SourceTable, raw: pl.DataFrame, delivered: Delivered
) -> tuple[pl.DataFrame, pl.Series]:
    """Ragged rows, oversized fields and decoded characters; and which rows are well formed."""
    width = len(delivered.header)
    counts = delivered.row_field_counts
    well_formed = (counts == width).alias("well_formed")
    found: list[pl.DataFrame] = []
    ragged = raw.select(ROW_NUMBER, counts.alias("fields")).filter(~well_formed)
    if ragged.height:
        if ragged.height >= ESCALATION_MIN_ROWS and ragged.height > RAGGED_ROW_SHARE * raw.height:
            first = ragged.row(0, named=True)
            raise FileFailure(
                "ragged_rows",
                None,
                f"has rows of the wrong shape: {ragged.height} of {raw.height} rows have another number "
                f"of fields than the header's {width} (first at row {first[ROW_NUMBER]}: "
                f"{first['fields']} fields)",
                rows=raw,
                row=first[ROW_NUMBER],
            )
        found.append(
            ragged.select(
                pl.col(ROW_NUMBER).alias("row_number"),
                column_name=pl.lit(None, dtype=pl.String),
                check_name=pl.lit(RAGGED_ROW_CHECK),
                severity=pl.lit(str(Severity.MAJOR)),
                reason=pl.format("{} fields where the header has {}", pl.col("fields"), pl.lit(width)),
            )
        )
    text_columns = [c for c in raw.columns if c != ROW_NUMBER]
    long_flags = {c: pl.col(c).str.len_bytes() > MAX_FIELD_BYTES for c in text_columns}
    too_long = flagged_cells(raw, long_flags, FIELD_TOO_LONG_CHECK, f"longer than {MAX_FIELD_BYTES} bytes")
    found.append(_with_severity(too_long, Severity.MAJOR))
    if delivered.encoding != UTF8:
        non_ascii = {c: pl.col(c).str.contains(r"[^\x00-\x7F]") for c in text_columns}
        reason = f"decoded from {delivered.encoding}; the collection's files are UTF-8"
        found.append(_with_severity(flagged_cells(raw, non_ascii, ENCODING_CHECK, reason), Severity.MINOR))
    failures = pl.concat([f.select(FAILURE_SCHEMA.keys()).cast(FAILURE_SCHEMA) for f in found])
    # a surplus field belongs to no contract column; it is reported against the row (ragged_row)
    failures = failures.filter(~pl.col("column_name").fill_null("").str.starts_with(EXTRA_PREFIX))
    return failures, well_formed


def _escalate_wrong_type(
    table: SourceTable, text: pl.DataFrame, type_failures: pl.DataFrame, raw: pl.DataFrame
) -> None:
    """A column most of whose values are not of its type is the wrong column, not bad rows."""
    if type_failures.height < ESCALATION_MIN_ROWS:
        return
    by_column = type_failures.group_by("column_name", maintain_order=True).agg(
        pl.len().alias("n"), pl.col("row_number").first(), pl.col("reason").first()
    )
    present = non_empty_counts(text, by_column["column_name"].to_list())
    for column, failed, row, reason in by_column.iter_rows():
        if failed >= ESCALATION_MIN_ROWS and failed > WRONG_TYPE_SHARE * present[column]:
            value = raw.filter(pl.col(ROW_NUMBER) == row)[column].item()
            raise FileFailure(
                "wrong_type",
                column,
                f"has column '{column}' of the wrong type: {failed} of its {present[column]} values fail "
                f"to read as {contract_dtypes(table)[column]} (first at row {row}: {printable(value)}, "
                f"{reason})",
                rows=raw,
                row=row,
            )


def _escalate_duplicate_keys(
    table: SourceTable, typed: pl.DataFrame, contract_failures: pl.DataFrame, raw: pl.DataFrame
) -> None:
    """A natural key repeated across much of the file: the file is duplicated, not a few rows."""
    repeats = contract_failures.filter(pl.col("check_name") == "unique_key")["row_number"].unique().sort()
    if repeats.len() < ESCALATION_MIN_ROWS or repeats.len() <= DUPLICATE_KEY_SHARE * typed.height:
        return
    row = repeats[0]
    key = raw.filter(pl.col(ROW_NUMBER) == row).select(table.key_columns).row(0)
    columns = ", ".join(f"'{c}'" for c in table.key_columns)
    raise FileFailure(
        "duplicate_keys",
        table.key_columns[0],
        f"repeats its natural key ({columns}) across the file: {repeats.len()} of {typed.height} rows "
        f"repeat a key seen earlier (first at row {row}: {printable(','.join(str(k) for k in key))})",
        rows=raw,
        row=row,
    )


def _critical(
    table: SourceTable,
    source_file: str,
    failure: FileFailure,
    pseudonymiser: Pseudonymiser,
    loaded_at: datetime,
) -> LandingResult:
    """Nothing accepted; every readable row quarantined under `critical:<reason>`."""
    rows = failure.rows if failure.rows is not None else pl.DataFrame(schema={ROW_NUMBER: pl.Int64})
    message = f"{table.source}/{table.table}: {source_file} {failure.detail}"
    failures = rows.select(
        pl.col(ROW_NUMBER).alias("row_number"),
        column_name=pl.lit(failure.column, dtype=pl.String),
        check_name=pl.lit(f"critical:{failure.reason}"),
        severity=pl.lit(str(Severity.CRITICAL)),
        reason=pl.lit(failure.detail),
    )
    recorded = (
        failures
        if failures.height
        else pl.DataFrame(
            {
                "row_number": [None],
                "column_name": [failure.column],
                "check_name": [f"critical:{failure.reason}"],
                "severity": [str(Severity.CRITICAL)],
                "reason": [failure.detail],
            },
            schema=FAILURE_SCHEMA,
        )
    )
    return LandingResult(
        table=table,
        source_file=source_file,
        accepted=empty_landed_frame(table),
        quarantine=_quarantine_frame(table, source_file, rows, failures, pseudonymiser),
        rows_read=rows.height,
        checks=check_results(
            table, source_file, rows.height, recorded, with_membership=False, loaded_at=loaded_at
        ),
        critical_error=message,
    )


# ---------------------------------------------------------------------------------------------
# Contract validation and failure mapping
# ---------------------------------------------------------------------------------------------


@cache
def _attributions(table: SourceTable) -> pl.DataFrame:
    """check_number -> (column, severity) for the contract's dataframe-level checks."""
    rows = [(i, *failure_attribution(check)) for i, check in enumerate(table.model.to_schema().checks)]
    return pl.DataFrame(
        {
            "check_number": pl.Series([r[0] for r in rows], dtype=pl.Int32),
            "attributed_column": pl.Series([r[1] for r in rows], dtype=pl.String),
            "attributed_severity": pl.Series([str(r[2]) for r in rows], dtype=pl.String),
        }
    )


@cache
def check_reasons(table: SourceTable) -> dict[str, str]:
    """A one-line reason per contract check, keyed `<column>/<check>` (column empty for frame checks).

    `<check>` is pandera's name of the check as in its failure cases (`in_range(60, 120)`, `nhs_number`).
    """
    schema = table.model.to_schema()

    def described(check: pa.Check, owner: object | None = None) -> str:
        if check.name in REASONS:
            return REASONS[check.name]
        if check.error:  # pandera's built-in checks name themselves with their arguments
            return f"fails {check.error}"
        stats = check.statistics or {}
        if "domain" in stats:
            return f"not in the code list '{stats['domain']}'"
        function = getattr(owner, check.name, None) or getattr(check._check_fn, "func", None)
        doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
        if not doc:
            return f"fails {check.name}"
        line = doc[0]
        for key, value in stats.items():  # a reusable check's docstring names its arguments in backticks
            line = line.replace(f"`{key}`", f"`{value}`")
        return f"expected: {line}"

    reasons = {
        f"{name}/{check.error or check.name}": described(check)
        for name, column in schema.columns.items()
        for check in column.checks
    }
    reasons |= {f"/{check.error or check.name}": described(check, table.model) for check in schema.checks}
    return reasons


def _contract_failures(table: SourceTable, typed: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """pandera's failure cases as (row_number, column_name, check_name, severity, reason) rows."""
    try:
        with config_context(
            validation_enabled=True,  # whatever PANDERA_* says: landing without checks would accept anything
            validation_depth=ValidationDepth.SCHEMA_AND_DATA,
            use_narwhals_backend=False,  # failure cases are read in the polars backend's layout
        ):
            table.model.validate(typed.drop(ROW_NUMBER), lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    whole = cases.filter(pl.col("index").is_null())
    if whole.height:
        first = whole.row(0, named=True)
        column = first["column"] if first["schema_context"] == "Column" else None
        where = f"column '{column}' " if column else ""
        reason = str(first["failure_case"]).strip().splitlines()[0][:200]
        raise FileFailure(
            "contract",
            column,
            f"failed contract {table.model.__name__} as a whole: {where}check {first['check']} ({reason})",
            rows=raw,
        )
    positions = typed.select(pl.col(ROW_NUMBER).alias("row_number")).with_row_index("index")
    by_row = cases.with_columns(pl.col("index").cast(pl.UInt32)).join(positions, on="index", how="left")
    by_row = by_row.join(_attributions(table), on="check_number", how="left")
    is_frame_check = pl.col("schema_context") == "DataFrameSchema"
    reasons = check_reasons(table)
    return by_row.select(
        "row_number",
        column_name=pl.when(is_frame_check).then(pl.col("attributed_column")).otherwise(pl.col("column")),
        check_name=pl.col("check").str.replace(r"\(.*$", ""),
        severity=pl.when(is_frame_check)
        .then(pl.col("attributed_severity"))
        .otherwise(pl.lit(str(Severity.MAJOR))),
        reason=pl.format(
            "{}/{}", pl.when(is_frame_check).then(pl.lit("")).otherwise("column"), "check"
        ).replace_strict(reasons, default=None, return_dtype=pl.String),
    ).with_columns(
        reason=pl.coalesce(
            "reason",
            pl.col("check_name").replace_strict(REASONS, default=None, return_dtype=pl.String),
            pl.format("fails {}", pl.col("check_name")),
        )
    )


def _membership(typed: pl.DataFrame, table: SourceTable, reference: ReferenceCodes) -> pl.DataFrame:
    found = membership_failures(typed, table, reference)
    return found.with_columns(
        severity=pl.lit(str(Severity.MAJOR)),
        reason=pl.col("check_name").replace_strict(REASONS, default=None, return_dtype=pl.String),
    )


def _with_severity(failures: pl.DataFrame, severity: Severity) -> pl.DataFrame:
    return failures.with_columns(severity=pl.lit(str(severity)))


def _combine(type_failures: pl.DataFrame, *others: pl.DataFrame | None) -> pl.DataFrame:
    """All failures of a file; a cell that failed its type is not also reported as missing."""
    rest = pl.concat(
        [f.select(FAILURE_SCHEMA.keys()).cast(FAILURE_SCHEMA) for f in others if f is not None and f.height]
        or [pl.DataFrame(schema=FAILURE_SCHEMA)]
    )
    rest = rest.join(
        type_failures.select("row_number", "column_name", lost=pl.lit(True)),
        on=["row_number", "column_name"],
        how="left",
    ).filter(~(pl.col("lost").fill_null(False) & (pl.col("check_name") == "not_nullable")))
    return pl.concat(
        [type_failures.select(FAILURE_SCHEMA.keys()).cast(FAILURE_SCHEMA), rest.select(FAILURE_SCHEMA.keys())]
    ).cast(FAILURE_SCHEMA)


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------


def _landed_frame(
    table: SourceTable, accepted: pl.DataFrame, source_file: str, pseudonymiser: Pseudonymiser
) -> pl.DataFrame:
    """Accepted rows as landed: contract columns with identifiers hashed, then lineage columns."""
    landed = pseudonymiser.columns(accepted.select(table.columns), table.identifier_columns, rename=True)
    return landed.with_columns(
        _source_file=pl.lit(source_file, dtype=pl.String),
        _row_number=accepted[ROW_NUMBER],
        _contract_version=pl.lit(table.version, dtype=pl.String),
    ).cast(META_SCHEMA)


def _quarantine_frame(
    table: SourceTable,
    source_file: str,
    raw: pl.DataFrame,
    failures: pl.DataFrame,
    pseudonymiser: Pseudonymiser,
) -> pl.DataFrame:
    """One row per failure, with the failing value and the whole original row (identifiers hashed)."""
    if not failures.height:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    rows = raw.filter(pl.col(ROW_NUMBER).is_in(failures["row_number"].unique().implode()))
    rows = pseudonymiser.columns(rows, table.identifier_columns, rename=False)
    text_columns = [c for c in rows.columns if c != ROW_NUMBER]
    original = rows.select(
        pl.col(ROW_NUMBER).alias("row_number"),
        original_row=pl.struct(pl.col(text_columns).cast(pl.String)).struct.json_encode(),
    )
    values = rows.select(ROW_NUMBER, *(pl.col(c).cast(pl.String) for c in text_columns)).unpivot(
        index=ROW_NUMBER, variable_name="column_name", value_name="failure_value"
    )
    return (
        failures.join(values.rename({ROW_NUMBER: "row_number"}), on=["row_number", "column_name"], how="left")
        .join(original, on="row_number", how="left")
        .with_columns(
            source=pl.lit(table.source),
            table_name=pl.lit(table.table),
            source_file=pl.lit(source_file),
            contract_version=pl.lit(table.version),
        )
        .select(QUARANTINE_SCHEMA.keys())
        .cast(QUARANTINE_SCHEMA)
        .sort("row_number", "column_name", "check_name", nulls_last=True)
    )


def needs_reference(table: SourceTable) -> bool:
    """Whether a table has organisation codes to check against the reference."""
    return bool({"trust_code", "site_code"} & set(table.columns))


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write beside the target, then rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(partial)
    os.replace(partial, path)
