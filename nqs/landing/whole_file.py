"""When a file fails as a whole: its header, and row failures that condemn the file.

Every check here raises `FileFailure`, and landing then accepts nothing from the file (critical):
every readable row is quarantined under `critical:<reason>` (`with_rows` attaches them).

The header must name exactly the contract's columns, once each, in any order (`check_header`): a
missing, extra or repeated column, another delimiter, no header at all, or the header of another
source fails the file. A first line naming no column of the contract (nor of another source) is a
file with no header: every line, the first included, is a row (numbered from 1) kept in the
quarantine, and the file is judged under the contract version with as many columns as it has fields
(`SourceTable.contract_for_header`).

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
- `field_too_long` (major, per row, never escalated): a value longer than `MAX_FIELD_BYTES` (4 KiB);
  no field of any collection comes near it, so it is a broken quote or a pasted document, not data.

Below `ESCALATION_MIN_ROWS` failures a file is never escalated: a three-row file with two bad dates
is two quarantined rows, not a failed month.
"""

from __future__ import annotations

import polars as pl

from contracts.sources import SOURCE_TABLES, SourceTable
from nqs.landing.casting import contract_dtypes, empty_as_null, non_empty_counts
from nqs.landing.reading import ROW_NUMBER, Delivered, FileFailure, other_delimiter, printable

#: Escalation thresholds (see the module docstring).
ESCALATION_MIN_ROWS = 5
WRONG_TYPE_SHARE = 0.5
DUPLICATE_KEY_SHARE = 0.05
RAGGED_ROW_SHARE = 0.5
#: The longest field accepted (a row-level limit, listed here with the thresholds).
MAX_FIELD_BYTES = 4096


def check_header(table: SourceTable, header: list[str]) -> None:
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
    if not set(header) & set(expected) and _matching_table(header, table) is None:
        # judged before the header's own faults: a first line of data is a row, never a header
        # with repeated or unexpected names (a row often repeats a value: harm 'none' twice)
        raise FileFailure(
            "no_header",
            expected[0],
            f"has no header row: its first line names neither column '{expected[0]}' nor any other "
            "(it is read as row 1)",
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


def with_rows(failure: FileFailure, table: SourceTable, delivered: Delivered | None) -> FileFailure:
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


def escalate_ragged_rows(raw: pl.DataFrame, delivered: Delivered) -> None:
    """Most rows with another number of fields than the header: the file's structure is wrong."""
    width = len(delivered.header)
    ragged = raw.select(ROW_NUMBER, delivered.row_field_counts.alias("fields")).filter(
        ~(delivered.row_field_counts == width)
    )
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


def escalate_wrong_type(
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


def escalate_duplicate_keys(
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
