"""What landing writes: the accepted rows as landed, the quarantine, and parquet written safely.

Accepted rows keep the contract's columns, typed, with each direct identifier replaced by its keyed
hash (`<column>_hash`), then the lineage columns of `META_SCHEMA`. The quarantine has one row per
failure (`QUARANTINE_SCHEMA`) with the failing value and the whole original row as text, identifiers
hashed there too.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from contracts.sources import SourceTable
from nqs.landing.casting import contract_dtypes
from nqs.landing.pseudonymise import Pseudonymiser
from nqs.landing.reading import ROW_NUMBER

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


def landed_frame(
    table: SourceTable, accepted: pl.DataFrame, source_file: str, pseudonymiser: Pseudonymiser
) -> pl.DataFrame:
    """Accepted rows as landed: contract columns with identifiers hashed, then lineage columns."""
    landed = pseudonymiser.columns(accepted.select(table.columns), table.identifier_columns, rename=True)
    return landed.with_columns(
        _source_file=pl.lit(source_file, dtype=pl.String),
        _row_number=accepted[ROW_NUMBER],
        _contract_version=pl.lit(table.version, dtype=pl.String),
    ).cast(META_SCHEMA)


def empty_landed_frame(table: SourceTable) -> pl.DataFrame:
    """The accepted output's schema with no rows."""
    schema = {
        (f"{c}_hash" if c in table.identifier_columns else c): (
            pl.String() if c in table.identifier_columns else t
        )
        for c, t in contract_dtypes(table).items()
    }
    return pl.DataFrame(schema={**schema, **META_SCHEMA})


def quarantine_frame(
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


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Write beside the target, then rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(partial)
    os.replace(partial, path)
