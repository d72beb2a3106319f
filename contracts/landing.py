"""Landing: every source file passes through its contract into typed, pseudonymised parquet.

For one file: read every column as text; check the header (a missing, extra or unreadable header
fails the whole file, critically); cast each column to the contract's type (a value that does not
cast fails its row); validate the typed rows with pandera, lazily, and map each failure case back to
its row; check organisation codes against the reference; then split. A row with any major failure is
quarantined whole, never partially accepted; the accepted rows have their direct identifiers replaced
by keyed hashes. Every row read ends up in exactly one of the two outputs.

Row numbers are 1-based data rows within the file (the header is not counted), as everywhere else.
pandera reports a failing row by its 0-based position in the frame it validated; landing validates
the whole file's typed frame in file order, so row_number = index + 1. A failure case without an
index (a column that could not be checked at all) condemns the whole file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from contracts.base import Severity, as_of, failure_attribution
from contracts.casting import cast_to_contract, empty_as_null
from contracts.membership import ReferenceCodes, membership_failures
from contracts.pseudonymise import Pseudonymiser
from contracts.quality import CHECK_RESULT_SCHEMA, check_results
from contracts.sources import SourceTable, get_table

#: Key for the synthetic sample only; real loads take the key from NQS_PSEUDONYM_KEY.
SAMPLE_PSEUDONYM_KEY = b"sample-key-not-for-real-data"

ROW_NUMBER = "_row_number"
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
}
FAILURE_SCHEMA: dict[str, pl.DataType] = {
    "row_number": pl.Int64(),
    "column_name": pl.String(),
    "check_name": pl.String(),
    "severity": pl.String(),
}
QUARANTINE_DIR = "_quarantine"
CHECKS_DIR = "_checks"
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
    #: one row per check applied, with rows checked and failed (`contracts.quality.CHECK_RESULT_SCHEMA`)
    checks: pl.DataFrame
    critical_error: str | None = None

    @property
    def rows_accepted(self) -> int:
        return self.accepted.height

    @property
    def rows_quarantined(self) -> int:
        """Distinct rows held back (minor findings are recorded but their rows are accepted)."""
        held = self.quarantine.filter(pl.col("severity") != Severity.MINOR)
        return held["row_number"].n_unique()


class _FileFailure(Exception):
    """A whole-file problem: reason (check name suffix), the column concerned, and rows if readable."""

    def __init__(self, reason: str, column: str | None, detail: str, rows: pl.DataFrame | None = None):
        super().__init__(detail)
        self.reason, self.column, self.detail, self.rows = reason, column, detail, rows


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
    codes must be known and open on the activity date.
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
    try:
        raw = _read_text(path)
        table = table.contract_for_header(raw.columns)  # the version the file was written under
        _check_header(table, raw.columns)
    except _FileFailure as failure:
        if failure.reason == "empty_file":
            failure.column = table.columns[0]
            failure.detail += f" (expected column '{failure.column}' first)"
        elif failure.rows is None:
            failure.rows = _read_without_header(path, table) if failure.reason == "no_header" else raw
        return _critical(table, source_file, failure, pseudonymiser, loaded_at)
    raw = raw.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW_NUMBER),
        *(empty_as_null(c) for c in raw.columns),
    )
    typed, type_failures = cast_to_contract(raw.select(ROW_NUMBER, *table.columns), contract_dtypes(table))
    try:
        with as_of(today):
            contract_failures = _contract_failures(table, typed.drop(ROW_NUMBER))
    except _FileFailure as failure:
        failure.rows = raw
        return _critical(table, source_file, failure, pseudonymiser, loaded_at)
    failures = _combine(
        type_failures.with_columns(severity=pl.lit(str(Severity.MAJOR))),
        contract_failures,
        _with_major(membership_failures(typed, table, reference)) if reference is not None else None,
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
    `reference`, loaded from the sources' organisations file when not given.
    """
    sources_dir, landed_dir = Path(sources_dir), Path(landed_dir)
    files = sorted((sources_dir / table.source).glob(table.file_glob))
    if reference is None and _needs_reference(table):
        reference = load_reference(sources_dir, today=today)
    accepted_dir, quarantine_dir = landed_paths(table, landed_dir)
    checks_dir = checks_path(table, landed_dir)
    pseudonymiser = Pseudonymiser(pseudonym_key)  # shared, so each person is hashed once per table
    loaded_at = _now()
    results = []
    for path in files:
        result = _land(table, path, sources_dir, pseudonymiser, today, reference, loaded_at)
        _write_parquet(result.accepted, accepted_dir / f"{path.stem}.parquet")
        _write_parquet(result.quarantine, quarantine_dir / f"{path.stem}.parquet")
        _write_parquet(result.checks, checks_dir / f"{path.stem}.parquet")
        results.append(result)
    stems = {path.stem for path in files} or {PLACEHOLDER_STEM}
    if not files:
        _write_parquet(empty_landed_frame(table), accepted_dir / f"{PLACEHOLDER_STEM}.parquet")
        _write_parquet(pl.DataFrame(schema=QUARANTINE_SCHEMA), quarantine_dir / f"{PLACEHOLDER_STEM}.parquet")
        _write_parquet(pl.DataFrame(schema=CHECK_RESULT_SCHEMA), checks_dir / f"{PLACEHOLDER_STEM}.parquet")
    for folder in (accepted_dir, quarantine_dir, checks_dir):
        for stale in folder.glob("*.parquet"):
            if stale.stem not in stems:
                stale.unlink()
    return results


def load_reference(sources_dir: Path, *, today: date | None = None) -> ReferenceCodes:
    """Trust and site codes from the organisations file, as accepted by its own contract.

    Raises FileNotFoundError if the file is absent and ValueError if it fails as a whole: codes
    cannot be checked against a reference that is not there.
    """
    table = get_table("organisations", "organisations")
    path = Path(sources_dir) / table.source / table.file_glob
    if not path.exists():
        raise FileNotFoundError(
            f"organisations reference {path} not found: trust and site codes cannot be checked"
        )
    result = land_file(table, path, sources_dir=sources_dir, pseudonym_key=b"", today=today or date.today())
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


def _relative(path: Path, sources_dir: Path) -> str:
    try:
        return path.resolve().relative_to(sources_dir.resolve()).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"


def _read_text(path: Path) -> pl.DataFrame:
    """Every column as text; a file that cannot be parsed is a whole-file failure."""
    try:
        return pl.read_csv(path, infer_schema=False, raise_if_empty=True)
    except pl.exceptions.NoDataError as exc:
        raise _FileFailure("empty_file", None, "is empty: no header row, no data") from exc
    except (pl.exceptions.ComputeError, OSError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        rows = _read_leniently(path)
        raise _FileFailure("unreadable", None, f"cannot be read as a UTF-8 CSV ({detail})", rows) from exc


def _read_leniently(path: Path) -> pl.DataFrame | None:
    """The rows of a damaged file as best they can be read, so the quarantine loses none."""
    try:
        return pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True, encoding="utf8-lossy")
    except Exception:  # noqa: BLE001 - a file past reading yields no rows, the failure is already reported
        return None


def _read_without_header(path: Path, table: SourceTable) -> pl.DataFrame | None:
    """A headerless file's rows, the first line included, named by the contract where widths agree."""
    try:
        rows = pl.read_csv(path, infer_schema=False, has_header=False, truncate_ragged_lines=True)
    except Exception:  # noqa: BLE001 - as in _read_leniently
        return None
    if rows.width == len(table.columns):
        rows.columns = list(table.columns)
    return rows


def _check_header(table: SourceTable, header: list[str]) -> None:
    expected = list(table.columns)
    if not set(header) & set(expected):
        raise _FileFailure(
            "no_header",
            expected[0],
            f"has no header row: its first line names neither column '{expected[0]}' nor any other",
        )
    missing = [c for c in expected if c not in header]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        raise _FileFailure(
            "missing_column", missing[0], f"is missing column{'s' if len(missing) > 1 else ''} {names}"
        )
    extra = [c for c in header if c not in expected]
    if extra:
        names = ", ".join(f"'{c}'" for c in extra)
        raise _FileFailure(
            "unexpected_column",
            extra[0],
            f"has unexpected column{'s' if len(extra) > 1 else ''} {names} "
            f"(contract {table.model.__name__} is strict)",
        )


def _critical(
    table: SourceTable,
    source_file: str,
    failure: _FileFailure,
    pseudonymiser: Pseudonymiser,
    loaded_at: datetime,
) -> LandingResult:
    """Nothing accepted; every readable row quarantined under `critical:<reason>`."""
    rows = failure.rows
    if rows is not None and ROW_NUMBER not in rows.columns:
        rows = rows.select(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW_NUMBER),
            *(empty_as_null(c) for c in rows.columns),
        )
    rows = rows if rows is not None else pl.DataFrame(schema={ROW_NUMBER: pl.Int64})
    failures = rows.select(
        pl.col(ROW_NUMBER).alias("row_number"),
        column_name=pl.lit(failure.column, dtype=pl.String),
        check_name=pl.lit(f"critical:{failure.reason}"),
        severity=pl.lit(str(Severity.CRITICAL)),
    )
    message = f"{table.source}/{table.table}: {source_file} {failure.detail}"
    recorded = (
        failures
        if failures.height
        else pl.DataFrame(
            {
                "row_number": [None],
                "column_name": [failure.column],
                "check_name": [f"critical:{failure.reason}"],
                "severity": [str(Severity.CRITICAL)],
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


def _contract_failures(table: SourceTable, typed: pl.DataFrame) -> pl.DataFrame:
    """pandera's failure cases as (row_number, column_name, check_name, severity) rows."""
    try:
        with config_context(
            validation_enabled=True,  # whatever PANDERA_* says: landing without checks would accept anything
            validation_depth=ValidationDepth.SCHEMA_AND_DATA,
            use_narwhals_backend=False,  # failure cases are read in the polars backend's layout
        ):
            table.model.validate(typed, lazy=True)
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
        raise _FileFailure(
            "contract",
            column,
            f"failed contract {table.model.__name__} as a whole: {where}check {first['check']} ({reason})",
        )
    by_row = cases.join(_attributions(table), on="check_number", how="left")
    is_frame_check = pl.col("schema_context") == "DataFrameSchema"
    return by_row.select(
        (pl.col("index").cast(pl.Int64) + 1).alias("row_number"),
        column_name=pl.when(is_frame_check).then(pl.col("attributed_column")).otherwise(pl.col("column")),
        check_name=pl.col("check").str.replace(r"\(.*$", ""),
        severity=pl.when(is_frame_check)
        .then(pl.col("attributed_severity"))
        .otherwise(pl.lit(str(Severity.MAJOR))),
    )


def _with_major(failures: pl.DataFrame) -> pl.DataFrame:
    return failures.with_columns(severity=pl.lit(str(Severity.MAJOR)))


def _combine(type_failures: pl.DataFrame, *others: pl.DataFrame | None) -> pl.DataFrame:
    """All failures of a file; a cell that failed its type is not also reported as missing."""
    rest = pl.concat(
        [f.select(FAILURE_SCHEMA.keys()) for f in others if f is not None and f.height]
        or [pl.DataFrame(schema=FAILURE_SCHEMA)]
    )
    rest = rest.join(
        type_failures.select("row_number", "column_name", lost=pl.lit(True)),
        on=["row_number", "column_name"],
        how="left",
    ).filter(~(pl.col("lost").fill_null(False) & (pl.col("check_name") == "not_nullable")))
    return pl.concat([type_failures.select(FAILURE_SCHEMA.keys()), rest.select(FAILURE_SCHEMA.keys())]).cast(
        FAILURE_SCHEMA
    )


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


def _needs_reference(table: SourceTable) -> bool:
    return bool({"trust_code", "site_code"} & set(table.columns))


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write beside the target, then rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(partial)
    os.replace(partial, path)
