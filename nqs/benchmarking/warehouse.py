"""Reading the benchmarking inputs from the warehouse and writing the tables back, with comments.

The same tables are built twice: in schema marts from the unrounded metric values, for internal
analysts, and in schema published from the published ones (under disclosure control), for BI users.
A suppressed published row has no value and no figures, so it is never compared.
"""

from __future__ import annotations

import polars as pl

from nqs.benchmarking.schema import UNIT_LEVELS, benchmarking_tables
from nqs.engines import BuildTables, Comments

INTERNAL_SCHEMA = "marts"
PUBLISHED_SCHEMA = "published"
SCHEMAS = (INTERNAL_SCHEMA, PUBLISHED_SCHEMA)
#: numerator and denominator of each schema's metric_values as the benchmarking reads them: published
#: counts are BIGINT columns and the figures that count no one (full-time equivalents, expected deaths,
#: bed days) are in *_amount columns beside them (published.metric_catalogue.is_numerator_count)
FIGURES = {
    INTERNAL_SCHEMA: ("numerator", "denominator"),
    PUBLISHED_SCHEMA: ("coalesce(numerator, numerator_amount)", "coalesce(denominator, denominator_amount)"),
}
#: each metric's latest complete month (its latest month less the catalogue's follow_up_months), as dbt
#: computes it for published.metric_catalogue
FOLLOW_UPS = "intermediate.int_metric_follow_ups_completed"
#: periods the benchmarking reads; other period types and levels in metric_values are left alone
PERIOD_TYPES = ("month", "financial_year")


def read_inputs(
    db: BuildTables, schema: str = INTERNAL_SCHEMA
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(trust (and local authority) and England metric values by month and financial year, merged
    trusts under their successors (the current view), the metric catalogue with each metric's
    latest_complete_month, organisation names and trust types), from `schema`. The values come in a
    fixed order, so the funnels' totals (summed in row order) do not depend on how the table was
    written."""
    numerator, denominator = FIGURES[schema]
    values = _frame(
        db,
        f"""
        select metric_id, org_code, org_level, period_type, period_start,
            cast({numerator} as double) as numerator, cast({denominator} as double) as denominator, value,
            standard_error, median_interpolated
        from {schema}.metric_values
        where org_level in {(*UNIT_LEVELS, "england")} and org_view = 'current'
            and period_type in ('month', 'financial_year')
        order by metric_id, period_type, period_start, org_level, org_code
        """,  # noqa: S608 - fixed names
    )
    catalogue = _frame(db, f"select * from {schema}.metric_catalogue")  # noqa: S608
    if "latest_complete_month" not in catalogue.columns:
        # the marts' catalogue is the seed's; each metric's latest complete month is dbt's, as published
        follow_ups = _frame(db, f"select metric_id, latest_complete_month from {FOLLOW_UPS}")  # noqa: S608
        catalogue = catalogue.join(follow_ups, on="metric_id", how="left")
    organisations = _frame(db, f"select org_code, org_name, trust_type from {schema}.dim_organisations")  # noqa: S608
    return values, catalogue, organisations


def _frame(db: BuildTables, sql: str) -> pl.DataFrame:
    frame = pl.from_arrow(db.arrow(sql))
    assert isinstance(frame, pl.DataFrame)  # noqa: S101 - a query's result is a table, never a column
    return frame


def write_tables(db: BuildTables, tables: dict[str, pl.DataFrame], schema: str = INTERNAL_SCHEMA) -> None:
    """Replace each table in `schema` (on DuckDB in one transaction), with its table and column comments."""
    definitions = benchmarking_tables()
    comments = {
        name: Comments(
            table=f"Grain: {table.grain}. {table.description}",
            columns={column.name: column.description for column in table.columns},
        )
        for name, table in definitions.items()
    }
    db.replace(schema, {name: frame.to_arrow() for name, frame in tables.items()}, comments)
