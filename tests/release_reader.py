"""A BI reader of the current release, run as its own process by tests/test_releases.py.

`python release_reader.py loop|hold WAREHOUSE STOP_FILE OUT_JSON` queries WAREHOUSE (a path through
`releases/current`) until STOP_FILE exists, then writes what it saw to OUT_JSON:

- `loop`: a new read-only connection for every query, closed after it (how a dashboard should read);
- `hold`: one connection opened at the start and kept (a pooled connection), then, after STOP_FILE, one
  reconnection, whose release is reported as `after_reconnect`.

Each query reads, in one statement, the release's id and its recorded row counts together with the
actual counts of three tables, so a query that saw two releases at once would show a mismatch.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

CHECKED_TABLES = ("metric_values", "data_quality_results", "release_sources")
QUERY = "select release_id, row_counts, {counts} from published.release".format(
    counts=", ".join(f"(select count(*) from published.{t})" for t in CHECKED_TABLES)
)


def read_once(db: duckdb.DuckDBPyConnection) -> dict:
    """The release one query saw, and whether its recorded counts match what the query counted."""
    release_id, row_counts, *counts = db.execute(QUERY).fetchall()[0]
    recorded = json.loads(row_counts)
    return {
        "release_id": release_id,
        "consistent": all(recorded[t] == n for t, n in zip(CHECKED_TABLES, counts, strict=True)),
    }


def main(mode: str, warehouse: str, stop_file: str, out: str) -> None:
    seen: list[dict] = []
    errors: list[str] = []
    held = duckdb.connect(warehouse, read_only=True) if mode == "hold" else None
    Path(out).with_suffix(".ready").touch()
    while not Path(stop_file).exists():
        try:
            if held is not None:
                seen.append(read_once(held))
            else:
                with duckdb.connect(warehouse, read_only=True) as db:
                    seen.append(read_once(db))
        except Exception as error:  # every failure is counted and reported, none stops the loop
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.05)
    after = None
    if held is not None:
        held.close()
        with duckdb.connect(warehouse, read_only=True) as db:
            after = read_once(db)["release_id"]
    Path(out).write_text(json.dumps({"seen": seen, "errors": errors, "after_reconnect": after}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
