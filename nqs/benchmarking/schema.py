"""The benchmarking tables' definitions, read from tables.yml (the one place they are described)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

TABLES_FILE = Path(__file__).with_name("tables.yml")
#: The organisation levels whose values are benchmarked: the reporting units, trusts and (for adult
#: social care) local authorities. A metric's rows are all of one level, so each funnel and SPC chart
#: compares like with like: trusts with trusts, councils with councils.
UNIT_LEVELS: tuple[str, ...] = ("trust", "local_authority")

#: funnel_points.comparison_group of a funnel of every unit (a mean's or median's, or local authorities')
ALL_UNITS = "all"

POLARS_TYPES: dict[str, pl.DataType] = {
    "varchar": pl.String(),
    "double": pl.Float64(),
    "bigint": pl.Int64(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    grain: str
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: POLARS_TYPES[c.type] for c in self.columns}

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with exactly this table's columns, in order and of the declared types."""
        missing = [c for c in self.column_names if c not in frame.columns]
        if missing:
            raise ValueError(f"table {self.name} is missing columns: {', '.join(missing)}")
        if frame.height == 0:
            return pl.DataFrame(schema=self.polars_schema)
        return frame.select([pl.col(name).cast(dtype) for name, dtype in self.polars_schema.items()])

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.polars_schema)


@cache
def benchmarking_tables() -> dict[str, Table]:
    """Table name (in schemas marts and published) -> its definition, in build order."""
    raw = yaml.safe_load(TABLES_FILE.read_text(encoding="utf-8"))
    return {
        name: Table(
            name=name,
            grain=spec["grain"],
            description=" ".join(spec["description"].split()),
            columns=tuple(Column(c["name"], c["type"], c["description"]) for c in spec["columns"]),
        )
        for name, spec in raw.items()
    }
