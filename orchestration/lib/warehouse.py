"""Tags of the steps and runs that read or write the build's tables."""

#: Steps opening the build database carry this tag; the executor runs one of them at a time, since
#: DuckDB lets only one process at a time hold a database file open for writing.
BUILD_DB_TAG = "nqs/build_db"
BUILD_DB_TAGS = {BUILD_DB_TAG: "open"}

#: Runs that write the warehouse (the build file and the published copy) carry this run tag; the
#: production instance's queued run coordinator (orchestration/deploy/dagster.yaml) starts one of
#: them at a time, while runs without it (the freshness checks) go ahead.
WRITES_WAREHOUSE_TAG = "nqs/writes_warehouse"
WRITES_WAREHOUSE_TAGS = {WRITES_WAREHOUSE_TAG: "true"}
