"""The board report: one self-contained HTML page per release for the National Quality Board or a trust
board, read from schema `published` only (figures under disclosure control).

`write_board_report` is the one entry point: `nqs report` calls it, and so does the Dagster asset
`published/board_report` on each staged release.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from nqs.report.content import ReportError, read_content
from nqs.report.page import render_page

__all__ = ["BoardReport", "ReportError", "write_board_report"]

#: The report's file mode: readable by everyone who can read the release, as the release's other files.
READABLE = 0o644


@dataclass(frozen=True)
class BoardReport:
    """What a written report holds, for the command's line and the asset's metadata."""

    path: Path
    release_id: str | None
    strategy_version: str
    period: dt.date
    priorities: int
    #: metrics shown in full (a metric under two priorities is shown in full once)
    metrics: int
    charts: int
    active_alerts: int
    #: cells of the page showing a figure suppressed under disclosure control
    suppressed_cells: int
    bytes: int


def write_board_report(
    warehouse: Path, output: Path, *, priority: str | None = None, period: str | None = None
) -> BoardReport:
    """Write the board report of `warehouse` (a release's warehouse.duckdb, or any file with schema
    published) to `output`, for every priority of the active strategy or only `priority`, at the
    latest complete month or `period` (YYYY-MM). The file is replaced whole (written beside it, then
    renamed), so a reader never sees half a report. ReportError, with one line, when it cannot be made."""
    if not warehouse.is_file():
        raise ReportError(
            f"warehouse not found: {warehouse} (build it with `nqs build`, or pass --warehouse)"
        )
    with duckdb.connect(str(warehouse), read_only=True) as db:
        content = read_content(db, str(warehouse), priority=priority, period=period)
    scope = next((p.title for p in content.priorities), "") if priority else None
    title = f"Quality board report: {scope}" if scope else "National quality board report"
    title += f", {content.period:%B %Y}"
    html, views = render_page(content, title=title, source_name=warehouse.name)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=output.parent, prefix=f".{output.name}.", delete=False
    ) as handle:
        handle.write(html)
    os.chmod(handle.name, READABLE)  # a temporary file is private; the report is for its readers
    os.replace(handle.name, output)
    shown = [m for view in views for m in view.metrics if m.section.shown_under is None]
    return BoardReport(
        path=output,
        release_id=content.release.release_id if content.release else None,
        strategy_version=content.strategy_version,
        period=content.period,
        priorities=len(content.priorities),
        metrics=len(shown),
        charts=sum((m.spc_svg is not None) + (m.funnel_svg is not None) for m in shown),
        active_alerts=sum(len(m.section.alerts) for m in shown),
        suppressed_cells=html.count('data-suppressed="true"'),
        bytes=len(html.encode("utf-8")),
    )
