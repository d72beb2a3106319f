"""`nqs report`: the board report of a warehouse's published schema, one self-contained HTML file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nqs.cli.charts import default_warehouse

EXIT_BAD_INPUT = 2


def add_report_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    report = subparsers.add_parser(
        "report",
        help="write the board report (HTML) of the published warehouse",
        description=(
            "A self-contained HTML report for a National Quality Board or trust board meeting: per "
            "strategy priority, its metrics with England's latest complete value and 95% interval, SPC "
            "and funnel charts, active alerts and the data quality of the sources behind them, read "
            "from schema published (disclosure control applied: suppressed figures show *)."
        ),
    )
    report.add_argument(
        "--priority",
        metavar="P",
        help="only this priority and those under it (priority_id of the active strategy)",
    )
    report.add_argument(
        "--period",
        metavar="YYYY-MM",
        help="the reporting month (default: the latest complete month of any metric)",
    )
    report.add_argument(
        "--warehouse",
        metavar="PATH",
        help="warehouse to read (default the current release, data/releases/current/warehouse.duckdb)",
    )
    report.add_argument(
        "--output", metavar="F.html", default="board_report.html", help="file to write (default %(default)s)"
    )
    report.set_defaults(run=run_report)
    return report


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} " + (noun[:-1] + "ies" if noun.endswith("y") else noun + "s")


def run_report(args: argparse.Namespace) -> int:
    from nqs.report import ReportError, write_board_report

    try:
        written = write_board_report(
            Path(args.warehouse) if args.warehouse else default_warehouse(),
            Path(args.output),
            priority=args.priority,
            period=args.period,
        )
    except ReportError as error:
        print(f"nqs report: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    counts = (
        _plural(written.priorities, "priority"),
        _plural(written.metrics, "metric"),
        _plural(written.charts, "chart"),
        _plural(written.active_alerts, "active alert"),
        _plural(written.suppressed_cells, "suppressed cell"),
    )
    release = f"release {written.release_id}" if written.release_id else "no release"
    print(f"wrote {written.path}: {written.period:%B %Y}, {release}, " + ", ".join(counts))
    return 0
