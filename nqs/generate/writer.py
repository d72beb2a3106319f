"""Turning generated frames into the source files: text formatting, bad rows, CSV, manifest.

Formatting happens once, here, so every source follows the same conventions: dates `YYYY-MM-DD`,
timestamps `YYYY-MM-DDTHH:MM:SS`, booleans `Y`/`N`, decimals to two places, empty field = null.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl

from contracts.sources import SOURCES_MANIFEST
from nqs.generate.bad_rows import DEFECTS, DefectEnv, KindRota, plant, table_kinds
from nqs.generate.periods import Month
from nqs.generate.streams import stream
from nqs.generate.tables import ALL_TABLES, SOURCE_FOLDERS, TableSpec


def to_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as the text the file will hold (bad-row defects are applied to this text)."""
    expressions = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.Date:
            expression = column.dt.strftime("%Y-%m-%d")
        elif isinstance(dtype, pl.Datetime):
            expression = column.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif dtype == pl.Boolean:
            expression = pl.when(column).then(pl.lit("Y")).when(~column).then(pl.lit("N"))
        elif dtype.is_float():
            expression = column.round(2).cast(pl.String)
        else:
            expression = column.cast(pl.String)
        expressions.append(expression.alias(name))
    return frame.select(expressions)


def clear_output(out_dir: Path) -> None:
    """Remove earlier output of the folders this generator owns (and only those)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in SOURCE_FOLDERS:
        shutil.rmtree(out_dir / folder, ignore_errors=True)
        (out_dir / folder).mkdir()
    (out_dir / SOURCES_MANIFEST).unlink(missing_ok=True)


class SourceWriter:
    """Writes each file, plants its bad rows and keeps the manifest's file and bad-row lists."""

    def __init__(self, out_dir: Path, seed: int, bad_row_share: float, env: DefectEnv) -> None:
        self.out_dir = out_dir
        self.seed = seed
        self.bad_row_share = bad_row_share
        self.env = env
        self.files: dict[str, int] = {}
        self.bad_rows: list[dict] = []
        self.rotas: dict[TableSpec, KindRota] = {}
        for number, spec in enumerate(ALL_TABLES):
            kinds = table_kinds(spec)
            if kinds:
                order = stream(seed, "bad_rows", number).permutation(len(kinds))
                self.rotas[spec] = KindRota([kinds[i] for i in order])

    def write(
        self, spec: TableSpec, frame: pl.DataFrame, month: Month | None = None, files_left: int = 1
    ) -> None:
        """Format, plant bad rows (tables that have defects), drop helper columns, write the CSV."""
        relative = spec.file_name(month.label if month else None)
        text = to_text(frame)
        if spec in DEFECTS and self.bad_row_share > 0:
            rng = stream(self.seed, "bad_rows", ALL_TABLES.index(spec), 1 + (month.index if month else 0))
            rota = self.rotas[spec]
            text, planted = plant(text, spec, rota, rng, self.bad_row_share, self.env, files_left)
            self.bad_rows.extend(
                {
                    "source": spec.source,
                    "table": spec.table,
                    "file": relative,
                    "row": p.row,
                    "kind": p.kind,
                    "column": p.column,
                }
                for p in planted
            )
        text = text.select(spec.columns)
        text.write_csv(self.out_dir / relative, null_value="")
        self.files[relative] = text.height


def write_manifest(out_dir: Path, manifest: dict) -> None:
    """The planted truths beside the sources, as the warehouse's tests read them."""
    (out_dir / SOURCES_MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def manifest_ready(manifest: dict) -> dict:
    """The manifest with numpy scalars made plain, so it serialises and compares as plain JSON."""

    def plain(value: object) -> object:
        return value.item() if isinstance(value, np.generic) else str(value)

    return json.loads(json.dumps(manifest, default=plain))
