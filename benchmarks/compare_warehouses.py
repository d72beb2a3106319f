"""Compare the marts of two warehouse files cell by cell: a refactor or a new build path must not move them.

    .venv/bin/python benchmarks/compare_warehouses.py BEFORE.duckdb AFTER.duckdb [--schema marts]

Each table of the schema is read from both files with its rows ordered by every column that is not a
double; counts, text, dates and integers must be equal, doubles equal to 1e-9 relative (DuckDB's
parallel sums vary in their last bits). Columns whose values depend on when the build ran
(`loaded_at`, `*_at` timestamps of the run) are left out. Prints one line per table and exits 1 on
any difference.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import duckdb

#: Columns recording when a build ran, not what it computed.
RUN_TIME_COLUMNS = {"loaded_at", "built_at", "published_at"}
REL = 1e-9


def _tables(db: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = db.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
    ).fetchall()
    return [name for (name,) in rows]


def _columns(db: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = db.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return {name: dtype for name, dtype in rows if name not in RUN_TIME_COLUMNS}


def _rows(db: duckdb.DuckDBPyConnection, schema: str, table: str, columns: dict[str, str]) -> list[tuple]:
    keys = [f'"{c}"' for c, t in columns.items() if t not in ("DOUBLE", "FLOAT", "REAL")]
    order = ", ".join(keys) or "1"
    select = ", ".join(f'"{c}"' for c in columns)
    return db.execute(f'select {select} from "{schema}"."{table}" order by {order}').fetchall()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)
    return a == b


def compare(before: Path, after: Path, schema: str = "marts") -> list[str]:
    """One line per difference found (empty when the two schemas hold the same tables and values)."""
    problems: list[str] = []
    with (
        duckdb.connect(str(before), read_only=True) as old,
        duckdb.connect(str(after), read_only=True) as new,
    ):
        old_tables, new_tables = set(_tables(old, schema)), set(_tables(new, schema))
        for name in sorted(old_tables ^ new_tables):
            side = "before" if name in old_tables else "after"
            problems.append(f"{schema}.{name}: only {side}")
        for table in sorted(old_tables & new_tables):
            old_cols, new_cols = _columns(old, schema, table), _columns(new, schema, table)
            if old_cols != new_cols:
                problems.append(f"{schema}.{table}: columns differ: {old_cols} vs {new_cols}")
                continue
            left, right = _rows(old, schema, table, old_cols), _rows(new, schema, table, new_cols)
            if len(left) != len(right):
                problems.append(f"{schema}.{table}: {len(left)} rows before, {len(right)} after")
                continue
            names = list(old_cols)
            for row_a, row_b in zip(left, right, strict=True):
                bad = [n for n, a, b in zip(names, row_a, row_b, strict=True) if not _same(a, b)]
                if bad:
                    problems.append(
                        f"{schema}.{table}: first differing row differs in {bad}: {row_a} vs {row_b}"
                    )
                    break
            else:
                print(f"{schema}.{table}: {len(left):,} rows, the same")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--schema", default="marts")
    args = parser.parse_args(argv)
    problems = compare(args.before, args.after, args.schema)
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
