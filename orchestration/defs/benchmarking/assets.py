"""Benchmarking marts: SPC charts, funnel plots and alerts, computed in Python after the dbt marts.

One step reads metric_values and the catalogue from the build database, runs `nqs.stats` over every
series and period, and writes spc_points, spc_summary, funnel_points and alerts back into it, so
publishing copies them with the rest. It runs twice, once per schema: `marts/<table>` from the
unrounded marts (internal analysts), `published/<table>` from the published metric values under
disclosure control (BI users: suppressed points are not compared), with the same functions. Grain
and columns: nqs/benchmarking/tables.yml.
"""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from nqs.benchmarking import KINDS, benchmarking_tables, build_benchmarking
from nqs.benchmarking.schema import UNIT_LEVELS
from nqs.benchmarking.warehouse import INTERNAL_SCHEMA, PUBLISHED_SCHEMA, read_inputs, write_tables
from nqs.engines import open_build
from nqs.settings import get_settings
from orchestration.lib.warehouse import BUILD_DB_TAGS

#: the tables this step writes into each schema (publishing waits for them)
BENCHMARKING_MARTS = list(benchmarking_tables())
#: what each table is computed from, besides the inputs every one reads
_UPSTREAM_TABLES = {"spc_summary": ["spc_points"], "alerts": ["spc_points", "funnel_points"]}
_INPUTS = ("metric_values", "metric_catalogue", "dim_organisations")
#: the marts' catalogue has no latest complete month: the step reads dbt's (published's has it)
_FOLLOW_UPS = dg.AssetKey(["intermediate", "int_metric_follow_ups_completed"])


def table_key(name: str, schema: str = INTERNAL_SCHEMA) -> dg.AssetKey:
    return dg.AssetKey([schema, name])


def _specs(schema: str) -> list[dg.AssetSpec]:
    upstream = [table_key(name, schema) for name in _INPUTS]
    if schema == INTERNAL_SCHEMA:
        upstream.append(_FOLLOW_UPS)
    return [
        dg.AssetSpec(
            key=table_key(table.name, schema),
            deps=upstream + [table_key(t, schema) for t in _UPSTREAM_TABLES.get(table.name, [])],
            group_name="benchmarking" if schema == INTERNAL_SCHEMA else schema,
            description=f"Grain: {table.grain}. {table.description}",
            metadata={
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(c.name, c.type, description=c.description) for c in table.columns]
                )
            },
            kinds={"duckdb", "python"},
        )
        for table in benchmarking_tables().values()
    ]


def _checks(schema: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "one_row_per_trust_month",
            asset=table_key("spc_points", schema),
            description="One row per trust (or local authority) month of each metric in metric_values, no "
            "more, no fewer.",
        ),
        dg.AssetCheckSpec(
            "limits_enclose_the_national_value",
            asset=table_key("funnel_points", schema),
            description="Every compared trust's limits are in order around the national value: "
            "lcl998 <= lcl95 <= target <= ucl95 <= ucl998.",
        ),
        dg.AssetCheckSpec(
            "episodes_are_consistent",
            asset=table_key("alerts", schema),
            description="Each alert episode starts before it ends, is cleared after it ends (or is "
            "active), and episodes of one metric, organisation and kind do not overlap. Metadata counts "
            "the alerts.",
        ),
    ]


def benchmarking_asset(schema: str) -> dg.AssetsDefinition:
    """The benchmarking step of one schema (specs are built here: a module-level AssetSpec would be
    loaded as an asset of its own)."""

    @dg.multi_asset(
        name="benchmarking" if schema == INTERNAL_SCHEMA else f"{schema}_benchmarking",
        specs=_specs(schema),
        check_specs=_checks(schema),
        op_tags=BUILD_DB_TAGS,
    )
    def _benchmarking(context: dg.AssetExecutionContext) -> Iterator:
        """SPC, funnel plots and alerts for every metric and trust (nqs/benchmarking)."""
        yield from _materialise(context, schema)

    return _benchmarking


benchmarking = benchmarking_asset(INTERNAL_SCHEMA)
published_benchmarking = benchmarking_asset(PUBLISHED_SCHEMA)


def _materialise(context: dg.AssetExecutionContext, schema: str) -> Iterator:
    settings = get_settings()
    with open_build(settings, write=True) as db:
        values, catalogue, organisations = read_inputs(db, schema)
        result = build_benchmarking(values, catalogue, organisations)
        write_tables(db, result.tables, schema)
    for note in result.notes:
        context.log.warning(note)
    tables = result.tables
    trust_months = values.filter(
        (pl.col("period_type") == "month") & pl.col("org_level").is_in(UNIT_LEVELS)
    ).height
    for name in ("spc_points", "funnel_points", "spc_summary", "alerts"):
        frame = tables[name]
        metadata: dict = {"dagster/row_count": frame.height}
        if name == "alerts":
            metadata |= alert_counts(frame)
        elif name == "spc_summary":
            metadata |= {
                f"latest_{icon}": n
                for icon, n in frame.group_by("variation_icon").len().drop_nulls().iter_rows()
            }
        elif name == "funnel_points":
            metadata["notes"] = "\n".join(result.notes) or "none"
        yield dg.MaterializeResult(asset_key=table_key(name, schema), metadata=metadata)

    points = tables["spc_points"]
    duplicates = points.height - points.select("metric_id", "org_code", "period_start").n_unique()
    yield dg.AssetCheckResult(
        asset_key=table_key("spc_points", schema),
        check_name="one_row_per_trust_month",
        passed=points.height == trust_months and duplicates == 0,
        metadata={
            "rows": points.height,
            "trust_months_in_metric_values": trust_months,
            "duplicates": duplicates,
        },
    )
    funnels = tables["funnel_points"].filter("is_compared")
    disordered = funnels.filter(
        ~(
            (pl.col("lcl998") <= pl.col("lcl95"))
            & (pl.col("lcl95") <= pl.col("target"))
            & (pl.col("target") <= pl.col("ucl95"))
            & (pl.col("ucl95") <= pl.col("ucl998"))
        )
    )
    yield dg.AssetCheckResult(
        asset_key=table_key("funnel_points", schema),
        check_name="limits_enclose_the_national_value",
        passed=disordered.height == 0,
        metadata={
            "compared_rows": funnels.height,
            "rows_failed": disordered.height,
            "sample": str(disordered.head(5).select("metric_id", "org_code", "period_label").rows()),
        },
    )
    broken = inconsistent_episodes(tables["alerts"])
    yield dg.AssetCheckResult(
        asset_key=table_key("alerts", schema),
        check_name="episodes_are_consistent",
        passed=broken.height == 0,
        metadata={"rows_failed": broken.height, "sample": str(broken.head(5)["alert_id"].to_list())}
        | alert_counts(tables["alerts"]),
    )


def alert_counts(alerts: pl.DataFrame) -> dict[str, int]:
    """Active alerts by kind and severity, and episodes in all, for the Dagster UI."""
    active = alerts.filter(pl.col("status") == "active")
    counts = {"episodes": alerts.height, "active": active.height}
    for kind in KINDS:
        for severity in ("high", "medium"):
            counts[f"active_{kind}_{severity}"] = active.filter(
                (pl.col("kind") == kind) & (pl.col("severity") == severity)
            ).height
    return counts


def inconsistent_episodes(alerts: pl.DataFrame) -> pl.DataFrame:
    key = ["metric_id", "org_code", "kind", "period_type"]
    ordered = alerts.sort(*key, "first_raised").with_columns(
        previous_end=pl.coalesce(pl.col("cleared"), pl.col("last_seen")).shift(1).over(key)
    )
    return ordered.filter(
        (pl.col("first_raised") > pl.col("last_seen"))
        | (pl.col("cleared") <= pl.col("last_seen"))
        | ((pl.col("status") == "active") != pl.col("cleared").is_null())
        | (pl.col("previous_end") >= pl.col("first_raised"))
    )
