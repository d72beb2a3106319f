"""`nqs chart spc` and `nqs chart funnel`: charts from the published warehouse, SVG or PNG.

They read schema `published` (disclosure-controlled) unless `--schema` names another: `marts` in the
build file, `unrounded` in a release's internal file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nqs.charts.data import DEFAULT_SCHEMA, ChartError

EXIT_BAD_INPUT = 2


def default_warehouse() -> Path:
    """The warehouse BI users read, which `nqs chart` and `nqs report` read unless told otherwise."""
    from nqs.settings import get_settings

    return get_settings().published_db


def add_chart_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    chart = subparsers.add_parser(
        "chart",
        help="draw an SPC or funnel chart from the published warehouse (SVG or PNG)",
        description="Charts in the Making Data Count style, read from the benchmarking tables.",
    )
    kinds = chart.add_subparsers(dest="chart", required=True)

    spc = kinds.add_parser("spc", help="XmR chart of one trust's monthly series of a metric")
    spc.add_argument("--metric", required=True, metavar="M", help="metric_id from the metric catalogue")
    spc.add_argument("--org", required=True, metavar="O", help="ODS code of the trust")
    spc.set_defaults(run=run_spc_chart)

    funnel = kinds.add_parser("funnel", help="funnel plot of every trust for a metric in one period")
    funnel.add_argument("--metric", required=True, metavar="M", help="metric_id from the metric catalogue")
    funnel.add_argument(
        "--period", required=True, metavar="P", help="a month (2026-03) or a financial year (2025-26)"
    )
    funnel.add_argument(
        "--period-type",
        choices=("month", "financial_year"),
        help="read --period as this (default: from its form)",
    )
    funnel.add_argument(
        "--group",
        metavar="G",
        help="the trusts compared, each type a funnel of its own: acute, mental_health, community, "
        "ambulance, specialist (default: the type with the most trusts compared)",
    )
    funnel.set_defaults(run=run_funnel_chart)

    for parser in (spc, funnel):
        parser.add_argument(
            "--output",
            metavar="F.svg|F.png",
            help="file to write (default <chart>_<metric>_<org or period>.svg)",
        )
        parser.add_argument(
            "--warehouse",
            metavar="PATH",
            help="warehouse to read (default the current release, data/releases/current/warehouse.duckdb)",
        )
        parser.add_argument(
            "--schema",
            default=DEFAULT_SCHEMA,
            help=f"schema holding the benchmarking tables (default {DEFAULT_SCHEMA}, disclosure-controlled)",
        )
    return chart


def _fail(message: str) -> int:
    print(f"nqs chart: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run_spc_chart(args: argparse.Namespace) -> int:
    from nqs.charts.data import connect, spc_series
    from nqs.charts.render import spc_chart

    output = Path(args.output or f"spc_{args.metric}_{args.org}.svg")
    try:
        with connect(Path(args.warehouse) if args.warehouse else default_warehouse(), args.schema) as db:
            series = spc_series(db, args.metric, args.org, args.schema)
        written = spc_chart(series, output)
    except ChartError as error:
        return _fail(str(error))
    print(f"wrote {written}: {series.summary['variation_label']}")
    return 0


def run_funnel_chart(args: argparse.Namespace) -> int:
    from nqs.charts.data import connect, funnel_period
    from nqs.charts.render import funnel_chart

    output = Path(args.output or f"funnel_{args.metric}_{args.period}.svg")
    try:
        with connect(Path(args.warehouse) if args.warehouse else default_warehouse(), args.schema) as db:
            period = funnel_period(db, args.metric, args.period, args.period_type, args.schema, args.group)
        written = funnel_chart(period, output)
    except ChartError as error:
        return _fail(str(error))
    worse = sum(j.endswith("worse") for j in period.units["outlier_judgement"].drop_nulls())
    compared = period.units["is_compared"].sum()
    print(f"wrote {written}: {compared} {period.unit_noun}, {worse} worse than expected")
    return 0
