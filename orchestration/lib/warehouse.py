"""Read access to the build database for assets that summarise what dbt built."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from nqs.settings import get_settings


@contextmanager
def read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection with the build's DuckDB settings (memory limit, threads, spill folder)."""
    connection = get_settings().connect(path, read_only=True)
    try:
        yield connection
    finally:
        connection.close()


#: Steps opening the build database carry this tag; the executor runs one of them at a time, since
#: DuckDB lets only one process at a time hold a database file open for writing.
BUILD_DB_TAG = "nqs/build_db"
BUILD_DB_TAGS = {BUILD_DB_TAG: "open"}

#: Runs that write the warehouse (the build file and the published copy) carry this run tag; the
#: production instance's queued run coordinator (orchestration/deploy/dagster.yaml) starts one of
#: them at a time, while runs without it (the freshness checks) go ahead.
WRITES_WAREHOUSE_TAG = "nqs/writes_warehouse"
WRITES_WAREHOUSE_TAGS = {WRITES_WAREHOUSE_TAG: "true"}
