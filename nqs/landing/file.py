"""Landing one file: it passes through its contract into typed, pseudonymised rows and a quarantine.

One file, in memory: `land_file` (`nqs.landing.land.land_source_table` lands every file of a table
and writes them to the landed zone). For one file: read it as text (`nqs.landing.reading`: format, encoding,
records); check the header (`nqs.landing.whole_file`); record reading findings (ragged rows,
oversized fields, decoded characters: `nqs.landing.failures`); normalise and cast each column to the
contract's type (`nqs.landing.casting`: a value that does not cast fails its row); validate the
typed rows with pandera, lazily, and map each failure case back to its row (`nqs.landing.failures`);
check organisation codes against the reference (`nqs.landing.membership`, loaded by
`nqs.landing.reference`); then split (`nqs.landing.outputs`). A row with any major failure is
quarantined whole, never partially accepted; the accepted rows have their direct identifiers
replaced by keyed hashes (`nqs.landing.pseudonymise`). Every row read ends up in exactly one of the
two outputs, and every failure carries a one-line `reason`. Where the outputs go:
`nqs.landing.paths`; the result of every check on every file: `nqs.landing.check_results`.

Severity tiers: critical fails the whole file (nothing accepted, every readable row quarantined
under `critical:<reason>`, and `LandingResult.critical_error` holds one line naming source, file,
column and, where there is one, row); major quarantines the row; minor is recorded in the quarantine
and the row is accepted. When row failures fail the whole file (the escalation thresholds):
`nqs.landing.whole_file`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from contracts.base import Severity, as_of
from contracts.sources import SourceTable
from nqs.landing.casting import cast_to_contract, contract_dtypes, empty_as_null, normalise_text
from nqs.landing.check_results import check_results, code_columns
from nqs.landing.failures import (
    combine,
    contract_failures,
    critical_failures,
    reading_failures,
    reference_failures,
    with_severity,
)
from nqs.landing.membership import ReferenceCodes
from nqs.landing.outputs import (
    empty_landed_frame,
    landed_frame,
    quarantine_frame,
)
from nqs.landing.paths import (
    source_file_name,
)
from nqs.landing.pseudonymise import Pseudonymiser
from nqs.landing.reading import ROW_NUMBER, UTF8, Delivered, FileFailure, read_delivered
from nqs.landing.whole_file import (
    check_header,
    escalate_duplicate_keys,
    escalate_ragged_rows,
    escalate_wrong_type,
    with_rows,
)


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
    #: rows accepted, kept when the rows themselves have been released after writing (`released`)
    accepted_count: int | None = None

    @property
    def rows_accepted(self) -> int:
        return self.accepted.height if self.accepted_count is None else self.accepted_count

    def released(self) -> LandingResult:
        """The same result without the accepted rows, once they are written: a table's results are
        kept until its last file is landed, and its accepted rows would otherwise all be in memory."""
        return replace(self, accepted=self.accepted.clear(), accepted_count=self.rows_accepted)

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
    return land_delivered(table, path, sources_dir, Pseudonymiser(pseudonym_key), today, reference, now())


def now() -> datetime:
    """The landing time recorded on every row, UTC without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def land_delivered(
    table: SourceTable,
    path: Path,
    sources_dir: Path,
    pseudonymiser: Pseudonymiser,
    today: date,
    reference: ReferenceCodes | None,
    loaded_at: datetime,
) -> LandingResult:
    """Land one delivered file with a pseudonymiser and landing time shared by the table's files."""
    source_file = source_file_name(path, sources_dir)
    delivered: Delivered | None = None
    try:
        delivered = read_delivered(path)
        table = table.contract_for_header(delivered.header)  # the version the file was written under
        check_header(table, delivered.header)
        return _land_rows(table, source_file, delivered, pseudonymiser, today, reference, loaded_at)
    except FileFailure as failure:
        return _critical(table, source_file, with_rows(failure, table, delivered), pseudonymiser, loaded_at)


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
    escalate_ragged_rows(raw, delivered)
    reading, well_formed = reading_failures(raw, delivered)
    text = raw.select(ROW_NUMBER, *table.columns)
    if not well_formed.all():
        text = text.filter(well_formed)
    text, normalised = normalise_text(text, list(table.columns), code_columns(table))
    text = text.select(ROW_NUMBER, *(empty_as_null(c) for c in table.columns))
    typed, type_failures = cast_to_contract(text, contract_dtypes(table))
    escalate_wrong_type(table, text, type_failures, raw)
    with as_of(today):
        found = contract_failures(table, typed, raw)
    escalate_duplicate_keys(table, typed, found, raw)
    failures = combine(
        with_severity(type_failures, Severity.MAJOR),
        reading,
        with_severity(normalised, Severity.MINOR),
        found,
        reference_failures(typed, table, reference) if reference is not None else None,
    )
    held = failures.filter(pl.col("severity") != Severity.MINOR)["row_number"].unique()
    accepted = typed.filter(~pl.col(ROW_NUMBER).is_in(held.implode()))
    return LandingResult(
        table=table,
        source_file=source_file,
        accepted=landed_frame(table, accepted, source_file, pseudonymiser),
        quarantine=quarantine_frame(table, source_file, raw, failures, pseudonymiser),
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


def _critical(
    table: SourceTable,
    source_file: str,
    failure: FileFailure,
    pseudonymiser: Pseudonymiser,
    loaded_at: datetime,
) -> LandingResult:
    """Nothing accepted; every readable row quarantined under `critical:<reason>`."""
    rows = failure.rows if failure.rows is not None else pl.DataFrame(schema={ROW_NUMBER: pl.Int64})
    failures, recorded = critical_failures(failure, rows)
    return LandingResult(
        table=table,
        source_file=source_file,
        accepted=empty_landed_frame(table),
        quarantine=quarantine_frame(table, source_file, rows, failures, pseudonymiser),
        rows_read=rows.height,
        checks=check_results(
            table, source_file, rows.height, recorded, with_membership=False, loaded_at=loaded_at
        ),
        critical_error=f"{table.source}/{table.table}: {source_file} {failure.detail}",
    )
