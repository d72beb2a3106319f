"""Reading the benchmarking inputs from the warehouse and writing the tables back, with comments."""

from __future__ import annotations

import duckdb
import polars as pl

from nqs.benchmarking.schema import benchmarking_tables

SCHEMA = "marts"
#: periods the benchmarking reads; other period types and levels in metric_values are left alone
PERIOD_TYPES = ("month", "financial_year")


def read_inputs(db: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(trust metric values by month and financial year, merged trusts under their successors (the
    current view), the metric catalogue, organisation names). The values come in a fixed order, so
    the funnels' totals (summed in row order) do not depend on how the table was written."""
    values = db.sql(
        f"""
        select metric_id, org_code, org_level, period_type, period_start, numerator, denominator, value
        from {SCHEMA}.metric_values
        where org_level = 'trust' and org_view = 'current' and period_type in ('month', 'financial_year')
        order by metric_id, period_type, period_start, org_code
        """  # noqa: S608 - fixed names
    ).pl()
    catalogue = db.sql(f"select * from {SCHEMA}.metric_catalogue").pl()  # noqa: S608
    organisations = db.sql(
        f"select org_code, org_name from {SCHEMA}.dim_organisations"  # noqa: S608
    ).pl()
    return values, catalogue, organisations


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_tables(db: duckdb.DuckDBPyConnection, tables: dict[str, pl.DataFrame]) -> None:
    """Replace each table in schema marts in one transaction, with its table and column comments."""
    definitions = benchmarking_tables()
    db.execute("begin transaction")
    try:
        for name, frame in tables.items():
            table = definitions[name]
            db.register("_frame", frame.to_arrow())
            db.execute(f"create or replace table {SCHEMA}.{name} as select * from _frame")
            db.unregister("_frame")
            db.execute(
                f"comment on table {SCHEMA}.{name} is {_quote(f'Grain: {table.grain}. {table.description}')}"
            )
            for column in table.columns:
                db.execute(f"comment on column {SCHEMA}.{name}.{column.name} is {_quote(column.description)}")
        db.execute("commit")
    except Exception:
        db.execute("rollback")
        raise
