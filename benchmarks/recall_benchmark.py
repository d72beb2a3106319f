"""How many planted worse trusts the funnel plots find, and how many other trusts they flag, per metric.

Generate `--scale` `--months` `--seed` sources into a temporary data folder (or a new folder in
`--work-dir`, kept), build the warehouse (`nqs build`), then read the manifest's planted truths and the
funnel plots (`marts.funnel_points`, or `--schema published`) of each metric's latest complete financial
year (`is_latest_complete_period`: its follow-up is complete, from the catalogue's follow_up_months), and
print per metric:

- **recall**: planted worse trusts and councils (the manifest's `worse_trusts`, which include the metrics
  that show the same effect another way, and `worse_local_authorities`) flagged worse, beyond the
  `--limit` (95 or 99.8) on the worse side, out of those planted;
- **false-flag rate**: trusts compared with no planted effect on the metric (in no planted truth of the
  manifest that names the metric: worse, deteriorating, also affected, or any other) flagged worse, out
  of those compared, beside the nominal rate of the limit on one side ((1 - 0.95) / 2 = 2.5%, 0.1% for
  99.8), with its binomial uncertainty: the exact (Clopper-Pearson) one-sided 95% upper bound of the
  rate, and the one-sided p-value of a count this high or higher were each trust flagged at the nominal
  rate (P(X >= flagged), X binomial). A p-value below 0.05 (marked `*`) says the metric flags more than
  the nominal rate; across some 30 metrics one or two such marks are expected by chance alone.

"Flagged worse", as NHS funnel plots use the limits: beyond the 95% limit on the worse side, an **alert**
(`--limit 95`, the default: alert or alarm), or beyond the 99.8% limit, an **alarm** (`--limit 99.8`).

Nothing is particular to a metric or a truth: every metric with a funnel, every truth of the manifest
that names metrics and trusts. A neutral metric has no worse side: either side counts.

    .venv/bin/python benchmarks/recall_benchmark.py --scale 0.1
    .venv/bin/python benchmarks/recall_benchmark.py --scale 1.0 --work-dir /var/tmp/nqs --json

`--build-dir DIR` skips generating and building: it reads DIR's `sources/_manifest.json` and
`build/warehouse.duckdb` (a data folder already built, e.g. `data/`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
from scipy.stats import beta, binom

sys.path.insert(0, str(Path(__file__).parent))
from build_benchmark import _data_folder  # noqa: E402 - a sibling script, not a package

#: nominal share of trusts with no real difference beyond each limit on one side
LIMITS = {"95": ("alert_worse", "alarm_worse"), "99.8": ("alarm_worse",)}
NOMINAL_ONE_SIDED = {"95": 0.025, "99.8": 0.001}
#: the manifest's planted worse units: trusts, and councils (adult social care)
WORSE_UNITS = ("worse_trusts", "worse_local_authorities")


def planted_pairs(manifest: dict) -> set[tuple[str, str]]:
    """Every (metric_id, trust_code) a planted truth of the manifest names: mappings of metric to trust
    codes (worse_trusts and any like it) and lists of entries with metric_id and trust_code
    (deteriorating and any like it)."""
    pairs: set[tuple[str, str]] = set()
    for entry in manifest.values():
        if isinstance(entry, dict):
            for metric, trusts in entry.items():
                if isinstance(trusts, list) and all(isinstance(t, str) for t in trusts):
                    pairs.update((metric, t) for t in trusts)
        elif isinstance(entry, list):
            for item in entry:
                if isinstance(item, dict) and isinstance(item.get("metric_id"), str):
                    trust = item.get("trust_code")
                    if isinstance(trust, str):
                        pairs.add((item["metric_id"], trust))
    return pairs


def read_funnels(db: duckdb.DuckDBPyConnection, schema: str = "marts") -> pl.DataFrame:
    """Each metric's funnel of its latest complete financial year, with the improvement direction."""
    return db.sql(
        f"""
        select f.metric_id, f.org_code, f.period_label, f.is_compared, f.outlier_judgement,
            c.improvement_direction
        from {schema}.funnel_points as f
        inner join {schema}.metric_catalogue as c on f.metric_id = c.metric_id
        where f.period_type = 'financial_year' and f.is_latest_complete_period
        order by f.metric_id, f.org_code
        """  # noqa: S608 - the schema is one of two names
    ).pl()


def recall_table(funnels: pl.DataFrame, manifest: dict, limit: str = "95") -> pl.DataFrame:
    """One row per metric with a funnel, or with planted worse trusts: year compared, trusts compared,
    planted worse, planted flagged, recall, others compared, others flagged, false-flag rate, nominal."""
    worse_levels = LIMITS[limit]
    neutral_levels = tuple(level.replace("worse", side) for level in worse_levels for side in ("high", "low"))
    flagged = pl.col("outlier_judgement").is_in(worse_levels) | (
        (pl.col("improvement_direction") == "neutral") & pl.col("outlier_judgement").is_in(neutral_levels)
    )
    worse = {
        (metric, unit)
        for key in WORSE_UNITS
        for metric, units in manifest.get(key, {}).items()
        for unit in units
    }
    planted = planted_pairs(manifest)
    pairs = pl.DataFrame(
        {"metric_id": [m for m, _ in planted], "org_code": [t for _, t in planted]},
        schema={"metric_id": pl.String, "org_code": pl.String},
    ).with_columns(is_planted=pl.lit(True))
    worse_frame = pl.DataFrame(
        {"metric_id": [m for m, _ in worse], "org_code": [t for _, t in worse]},
        schema={"metric_id": pl.String, "org_code": pl.String},
    ).with_columns(is_worse=pl.lit(True))
    rows = (
        funnels.join(pairs, on=["metric_id", "org_code"], how="left")
        .join(worse_frame, on=["metric_id", "org_code"], how="full", coalesce=True)
        .with_columns(
            pl.col("is_planted", "is_worse").fill_null(False),
            pl.col("is_compared").fill_null(False),
            is_flagged=flagged.fill_null(False),
        )
    )
    compared = pl.col("is_compared")
    others = compared & ~pl.col("is_planted")
    table = (
        rows.group_by("metric_id")
        .agg(
            period=pl.col("period_label").drop_nulls().first(),
            compared=compared.sum(),
            planted_worse=pl.col("is_worse").sum(),
            planted_compared=(pl.col("is_worse") & compared).sum(),
            planted_flagged=(pl.col("is_worse") & compared & pl.col("is_flagged")).sum(),
            others_compared=others.sum(),
            others_flagged=(others & pl.col("is_flagged")).sum(),
        )
        .with_columns(
            recall=pl.when(pl.col("planted_worse") > 0).then(
                pl.col("planted_flagged") / pl.col("planted_worse")
            ),
            false_flag_rate=pl.when(pl.col("others_compared") > 0).then(
                pl.col("others_flagged") / pl.col("others_compared")
            ),
            nominal=pl.lit(NOMINAL_ONE_SIDED[limit]),
        )
        .sort("metric_id")
    )
    return with_uncertainty(table)


def exceedance_p_value(flagged: int, compared: int, nominal: float) -> float | None:
    """One-sided p-value of `flagged` or more of `compared` trusts flagged, each at the nominal rate."""
    return float(binom.sf(flagged - 1, compared, nominal)) if compared else None


def upper_bound(flagged: int, compared: int, confidence: float = 0.95) -> float | None:
    """Exact (Clopper-Pearson) one-sided upper confidence bound of a rate of `flagged` out of `compared`."""
    if not compared:
        return None
    return 1.0 if flagged >= compared else float(beta.ppf(confidence, flagged + 1, compared - flagged))


def with_uncertainty(table: pl.DataFrame) -> pl.DataFrame:
    """The table with each false-flag rate's upper 95% bound and its p-value against the nominal rate."""
    rows = table.select("others_flagged", "others_compared", "nominal").rows()
    return table.with_columns(
        false_flag_upper95=pl.Series([upper_bound(k, n) for k, n, _ in rows], dtype=pl.Float64),
        p_value=pl.Series([exceedance_p_value(k, n, q) for k, n, q in rows], dtype=pl.Float64),
    )


def totals(table: pl.DataFrame) -> dict:
    planted = int(table["planted_worse"].sum())
    found = int(table["planted_flagged"].sum())
    others = int(table["others_compared"].sum())
    false = int(table["others_flagged"].sum())
    return {
        "planted_worse": planted,
        "planted_flagged": found,
        "recall": found / planted if planted else None,
        "others_compared": others,
        "others_flagged": false,
        "false_flag_rate": false / others if others else None,
        "false_flag_upper95": upper_bound(false, others),
        "nominal": float(table["nominal"][0]) if table.height else None,
        "metrics_above_nominal": int((table["p_value"] < 0.05).sum()) if table.height else 0,
    }


def _run(command: list[str], env: dict[str, str], what: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise SystemExit(f"{what} failed (exit {done.returncode}):\n{tail}")
    return time.perf_counter() - start


def measure(data_dir: Path, schema: str, limit: str) -> tuple[pl.DataFrame, dict]:
    manifest = json.loads((data_dir / "sources" / "_manifest.json").read_text())
    with duckdb.connect(str(data_dir / "build" / "warehouse.duckdb"), read_only=True) as db:
        funnels = read_funnels(db, schema)
    return recall_table(funnels, manifest, limit), manifest


def bench(args: argparse.Namespace) -> dict:
    if args.build_dir:
        table, manifest = measure(args.build_dir, args.schema, args.limit)
        return _result(table, manifest, args, {})
    with _data_folder(args.scale, args.work_dir) as data_dir:
        env = {**os.environ, "NQS_DATA_DIR": str(data_dir)}
        sources = data_dir / "sources"
        generate = [sys.executable, "-m", "nqs.cli", "generate", "--scale", str(args.scale)]
        generate += ["--seed", str(args.seed), "--months", str(args.months), "--out", str(sources)]
        timings = {"generate_s": _run(generate, env, "generate")}
        timings["build_s"] = _run([sys.executable, "-m", "nqs.cli", "build"], env, "build")
        table, manifest = measure(data_dir, args.schema, args.limit)
        return _result(table, manifest, args, timings)


def _result(table: pl.DataFrame, manifest: dict, args: argparse.Namespace, timings: dict) -> dict:
    return {
        "scale": manifest.get("scale"),
        "months": manifest.get("months"),
        "seed": manifest.get("seed"),
        "schema": args.schema,
        "limit": args.limit,
        **timings,
        "total": totals(table),
        "metrics": table.to_dicts(),
    }


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}" + ("*" if value < 0.05 else " ")


LIMIT_MEANING = {
    "95": "beyond the 95% limit on the worse side (an alert, or an alarm beyond 99.8%)",
    "99.8": "beyond the 99.8% limit on the worse side (an alarm)",
}


def print_result(result: dict) -> None:
    total = result["total"]
    print(
        f"scale {result['scale']:g}, {result['months']} months, seed {result['seed']}: funnels of each "
        f"metric's latest complete financial year (schema {result['schema']}); flagged worse = "
        f"{LIMIT_MEANING[result['limit']]}"
    )
    print(
        "false flags: trusts with no planted effect on the metric flagged worse; upper95: exact one-sided 95%"
        " upper bound of their rate; p: P(this many or more | each flagged at the nominal rate), * below 0.05"
    )
    heading = (
        ("year", 7),
        ("compared", 8),
        ("recall", 14),
        ("false flags", 12),
        ("rate", 6),
        ("upper95", 7),
        ("nominal", 7),
        ("p", 6),
    )
    print(
        f"{'metric':38} "
        + " ".join(f"{name:{'' if name == 'year' else '>'}{width}}" for name, width in heading)
    )
    for row in result["metrics"]:
        recall = f"{row['planted_flagged']}/{row['planted_worse']}" if row["planted_worse"] else ""
        recall += f" {_percent(row['recall'])}" if row["planted_worse"] else ""
        false = f"{row['others_flagged']}/{row['others_compared']}"
        print(
            f"{row['metric_id']:38} {row['period'] or '-':7} {row['compared']:>8} {recall:>14} {false:>12} "
            f"{_percent(row['false_flag_rate']):>6} {_percent(row['false_flag_upper95']):>7} "
            f"{_percent(row['nominal']):>7} {_p(row['p_value']):>6}"
        )
    recall = f"{total['planted_flagged']}/{total['planted_worse']} {_percent(total['recall'])}"
    false = f"{total['others_flagged']}/{total['others_compared']}"
    print(
        f"{'all metrics':38} {'':7} {'':>8} {recall:>14} {false:>12} {_percent(total['false_flag_rate']):>6} "
        f"{_percent(total['false_flag_upper95']):>7} {_percent(total['nominal']):>7}"
    )
    print(f"metrics flagging more than the nominal rate (p < 0.05): {total['metrics_above_nominal']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 is one national year's volume")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--schema", choices=("marts", "published"), default="marts")
    parser.add_argument("--limit", choices=tuple(LIMITS), default="95", help="flagged beyond this limit (%%)")
    parser.add_argument("--work-dir", type=Path, help="keep the data folder in this folder")
    parser.add_argument("--build-dir", type=Path, help="read this data folder, already built, instead")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = bench(args)
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print_result(result)


if __name__ == "__main__":
    main()
