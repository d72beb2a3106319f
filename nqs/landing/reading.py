"""Reading a delivered file as text, whatever state it arrives in, without losing a record.

A source file is read as bytes, recognised, decoded and split into records here, before any contract
is applied; landing then names the columns, checks the header and casts. The decisions:

- Only comma-separated text is a source file. A Parquet file (readable or truncated), a gzip or ZIP
  archive or any other binary content fails the whole file (`not_csv`); a readable Parquet file's
  rows are still kept, as text, in the quarantine.
- Encoding: UTF-8, with or without a byte-order mark, is read as is. Text that is not valid UTF-8 is
  decoded as Windows-1252 (what spreadsheet exports on Windows write: `£`, `é`) and every value
  holding a character outside ASCII gets a minor `encoding` finding; UTF-16 with a byte-order mark is
  decoded the same way. Bytes that are neither fail the whole file (`unreadable`), naming the line.
- Records: CRLF and LF line endings are both accepted; blank (or whitespace-only) lines are not
  records and are skipped, wherever they are; fields in double quotes may hold commas, quotes and
  newlines. Row numbers count records after the header, from 1, so a quoted newline does not shift
  them. Every record keeps all its fields: a record with fewer fields than the header reads the
  missing ones as null, one with more keeps the surplus in `_extra_<n>` columns, and landing
  quarantines both (`ragged_row`).
- A file with no records at all is `empty_file`; a header and no rows is a valid, empty month.

Files without a double quote (all generated and most delivered files) are split by polars without
Python per-row work; files with quotes are parsed by Python's csv module, which follows RFC 4180.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

ROW_NUMBER = "_row_number"
EXTRA_PREFIX = "_extra_"
UTF8, WINDOWS_1252, UTF16 = "utf-8", "windows-1252", "utf-16"

_FIELD = "_f"  # positional field columns while the header is not yet known: _f0, _f1, ...
_COUNT = "_field_count"
_UNIT_SEPARATOR = b"\x1f"
_BINARY_SNIFF_BYTES = 65_536

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a huge field is a finding, not a reader crash


class FileFailure(Exception):
    """A whole-file (critical) problem: check reason, the column concerned, a one-line detail.

    `rows` holds every record that could be read (with `_row_number`), so the quarantine keeps them;
    `row` is the first row concerned, when there is one.
    """

    def __init__(
        self,
        reason: str,
        column: str | None,
        detail: str,
        rows: pl.DataFrame | None = None,
        row: int | None = None,
    ):
        super().__init__(detail)
        self.reason, self.column, self.detail, self.rows, self.row = reason, column, detail, rows, row


@dataclass(frozen=True)
class Delivered:
    """Every record of a file as text: `records` has positional columns `_f0..`, the header first."""

    records: pl.DataFrame
    field_counts: pl.Series  #: fields in each record, header first
    encoding: str  #: utf-8, windows-1252 or utf-16

    @property
    def header(self) -> list[str]:
        """The header's names, surrounding spaces removed ("" for an empty name)."""
        if not self.records.height:
            return []
        first = self.records.row(0)
        return [(name or "").strip() for name in first[: self.field_counts[0]]]

    @property
    def rows(self) -> pl.DataFrame:
        """Data records named by the header (duplicates and blanks made unique), `_row_number` first.

        Fields beyond the header are kept in `_extra_1`, `_extra_2`, ...
        """
        names = column_names(self.header)
        width = self.records.width
        names += [f"{EXTRA_PREFIX}{i}" for i in range(1, width - len(names) + 1)]
        data = self.records.slice(1).select(
            pl.col(f"{_FIELD}{i}").alias(name) for i, name in enumerate(names[:width])
        )
        return data.select(_row_numbers(), *data.columns)

    @property
    def row_field_counts(self) -> pl.Series:
        """Fields in each data record (header excluded), in row order."""
        return self.field_counts.slice(1)

    def rows_without_header(self, names: tuple[str, ...]) -> pl.DataFrame:
        """Every record, the first line included, named by `names` where the widths agree."""
        data = self.records
        if data.width == len(names):
            data = data.rename(dict(zip(data.columns, names, strict=True)))
        return data.select(_row_numbers(), *data.columns)


def column_names(header: list[str]) -> list[str]:
    """The header as unique, non-empty column names: a repeat gets `__2`, a blank `_column_<n>`."""
    seen: dict[str, int] = {}
    names = []
    for position, name in enumerate(header, start=1):
        name = name or f"_column_{position}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}__{seen[name]}")
    return names


def read_delivered(path: Path) -> Delivered:
    """The file's records as text; raises FileFailure when it is not a readable CSV at all."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FileFailure("unreadable", None, f"cannot be opened ({exc.strerror or exc})") from exc
    _refuse_other_formats(Path(path), data)
    data, encoding = _as_utf8(data)
    delivered = Delivered(*_split(data), encoding)
    if not delivered.records.height:
        raise FileFailure("empty_file", None, "is empty: no header row, no data")
    return delivered


def read_header(path: Path, limit: int = _BINARY_SNIFF_BYTES) -> list[str]:
    """The names of a file's first record, read from its first `limit` bytes only.

    Enough to tell which contract version the file is written under (`contract_for_header`) without
    reading a file that may be gigabytes; [] for a file that is empty or not a text file.
    """
    with Path(path).open("rb") as handle:
        data = handle.read(limit)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="ignore")
    elif b"\x00" in data:
        return []
    else:
        text = data.removeprefix(codecs.BOM_UTF8).decode(UTF8, errors="replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    return [name.strip() for name in next(csv.reader([first]), [])]


# ---------------------------------------------------------------------------------------------
# Recognising the format and the encoding
# ---------------------------------------------------------------------------------------------

_ARCHIVES = {
    b"\x1f\x8b": "a gzip-compressed file",
    b"PK\x03\x04": "a ZIP archive (an Excel workbook?)",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook",
}


def _refuse_other_formats(path: Path, data: bytes) -> None:
    if data[:4] == b"PAR1" or path.suffix.lower() == ".parquet":
        _refuse_parquet(path, data)
    for magic, what in _ARCHIVES.items():
        if data.startswith(magic):
            raise FileFailure("not_csv", None, f"is {what}, not a CSV text file")
    head = data[:_BINARY_SNIFF_BYTES]
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileFailure("not_csv", None, "is binary (it holds NUL bytes), not a CSV text file")


def _refuse_parquet(path: Path, data: bytes) -> None:
    """A Parquet file fails the whole load; its rows, if it can be read, go to the quarantine as text."""
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any reader error means the same: damaged beyond reading
        cause = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else exc.__class__.__name__
        detail = f"is a Parquet file that cannot be read (truncated or damaged: {cause}), not a CSV"
        raise FileFailure("not_csv", None, detail) from exc
    rows = frame.select(pl.all().cast(pl.String))
    rows = rows.select(_row_numbers(), *rows.columns)
    raise FileFailure(
        "not_csv",
        None,
        f"is a Parquet file ({frame.height} rows), not a CSV: the collection delivers comma-separated text",
        rows=rows,
    )


def _as_utf8(data: bytes) -> tuple[bytes, str]:
    """UTF-8 bytes without a byte-order mark, and the encoding they were decoded from."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").encode(UTF8), UTF16
        except UnicodeDecodeError as exc:
            raise _undecodable(data, exc, "UTF-16") from exc
    if data.isascii():
        return data, UTF8
    try:
        data.decode(UTF8)
        return data, UTF8
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252").encode(UTF8), WINDOWS_1252
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc, "UTF-8 or Windows-1252") from exc


def _undecodable(data: bytes, exc: UnicodeDecodeError, expected: str) -> FileFailure:
    line = data.count(b"\n", 0, exc.start) + 1
    records, counts = _split(data.decode(UTF8, errors="replace").encode(UTF8))
    rows = Delivered(records, counts, UTF8).rows if records.height else None
    return FileFailure(
        "unreadable",
        None,
        f"cannot be read as {expected} text: byte 0x{data[exc.start]:02x} on line {line} is not a character",
        rows=rows,
        row=line - 1 if line > 1 else None,
    )


# ---------------------------------------------------------------------------------------------
# Splitting into records
# ---------------------------------------------------------------------------------------------


def _split(data: bytes) -> tuple[pl.DataFrame, pl.Series]:
    """(records as positional text columns, field count per record); blank lines dropped."""
    lone_carriage_returns = data.count(b"\r") != data.count(b"\r\n")
    if b'"' in data or _UNIT_SEPARATOR in data or lone_carriage_returns:
        return _split_quoted(data)
    return _split_plain(data)


def _split_plain(data: bytes) -> tuple[pl.DataFrame, pl.Series]:
    """No quotes: every line is a record and every comma a separator, so polars splits it alone."""
    if not data.strip():
        return pl.DataFrame(), pl.Series(_COUNT, [], dtype=pl.Int32)
    lines = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        separator=_UNIT_SEPARATOR.decode(),
        quote_char=None,
        schema={"line": pl.String},
    ).filter(pl.col("line").str.strip_chars().str.len_bytes() > 0)
    fields = lines.select(pl.col("line").str.split(",")).to_series()
    counts = fields.list.len().cast(pl.Int32).alias(_COUNT)
    width = counts.max() or 0
    records = fields.to_frame("f").select(
        pl.col("f").list.get(i, null_on_oob=True).alias(f"{_FIELD}{i}") for i in range(width)
    )
    return records, counts


def _split_quoted(data: bytes) -> tuple[pl.DataFrame, pl.Series]:
    """Quoted fields (RFC 4180): Python's csv module, which knows quoted commas, quotes and newlines."""
    text = data.decode(UTF8)
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[list[str]] = []
    start_line = 1
    try:
        for record in reader:
            if any(field.strip() for field in record):
                records.append(record)
                last_start = start_line
            start_line = reader.line_num + 1
    except csv.Error as exc:
        raise _unparsable(records, f"{exc} on line {reader.line_num}") from exc
    if text.count('"') % 2:
        # csv reads an unclosed quote to the end of the file as one field: rows would vanish into it
        where = f"row {len(records) - 1}" if len(records) > 1 else "the header"
        raise _unparsable(
            records, f"an unclosed double quote in {where} (line {last_start}) runs to the end of the file"
        )
    return _frame(records)


def _unparsable(records: list[list[str]], detail: str) -> FileFailure:
    rows = Delivered(*_frame(records), UTF8).rows if records else None
    return FileFailure(
        "unreadable", None, f"cannot be read as CSV: {detail}", rows=rows, row=len(records) - 1 or None
    )


def _frame(records: list[list[str]]) -> tuple[pl.DataFrame, pl.Series]:
    counts = pl.Series(_COUNT, [len(r) for r in records], dtype=pl.Int32)
    width = max((len(r) for r in records), default=0)
    padded = [r + [None] * (width - len(r)) for r in records]  # type: ignore[list-item]
    schema = {f"{_FIELD}{i}": pl.String for i in range(width)}
    return pl.DataFrame(padded, schema=schema, orient="row"), counts


def _row_numbers() -> pl.Expr:
    return pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW_NUMBER)


# ---------------------------------------------------------------------------------------------
# Hints for whole-file messages
# ---------------------------------------------------------------------------------------------

_DELIMITERS = {";": "';' (semicolon)", "\t": "a tab", "|": "'|' (pipe)"}


def other_delimiter(header: list[str]) -> str | None:
    """How a header read as comma-separated seems really to be delimited, e.g. "';' (semicolon)".

    None unless another delimiter occurs in the header more often than there are comma-split fields.
    """
    joined = ",".join(header)
    counts = {d: joined.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return _DELIMITERS[best] if counts[best] >= len(header) else None


def printable(value: str | None, limit: int = 40) -> str:
    """A value for a one-line message: quoted, control characters escaped, long values cut."""
    if value is None:
        return "empty"
    text = value if len(value) <= limit else value[:limit] + "..."
    return "'" + re.sub(r"[\x00-\x1f]", lambda m: repr(m.group())[1:-1], text) + "'"
