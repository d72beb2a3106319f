"""The board report (`nqs report`) written from the sample build's published warehouse and opened in a real
browser: Debian's Chromium, headless, driven by Playwright.

What a board member sees is checked against the published tables it was made from: every priority of the
active strategy has its section; every chart is drawn, with one point per compared month (SPC) or trust
(funnel); figures suppressed under disclosure control show `*`; the active alerts are listed with their
sentences; and the page logs no error and requests nothing beyond itself.
"""

from __future__ import annotations

import datetime as dt
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import Build, run_nqs_many
from matplotlib.figure import Figure

from contracts.sources import latest_period_ended_by
from nqs.report import BoardReport, write_board_report

CHROMIUM = Path("/usr/bin/chromium")
#: The flags the browser runs headless with: no sandbox (root in CI), no GPU, nothing fetched in the
#: background, and its own profile folder.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: Read in the page by the browser, after layout: what a person sees.
PAGE_FACTS = """
() => {
  const text = (e) => (e ? e.textContent.trim() : null);
  const drawn = (e) => { const b = e.getBoundingClientRect(); return b.width > 0 && b.height > 0; };
  const metrics = [...document.querySelectorAll('article.metric')].map((a) => {
    const spc = a.querySelector('figure[data-chart=spc] svg');
    const funnel = a.querySelector('figure[data-chart=funnel] svg');
    return {
      id: a.id,
      metric: a.dataset.metric,
      priority: a.closest('section').dataset.priority,
      full: a.querySelector('table.regions') !== null,
      link: a.querySelector('p.note a') && a.querySelector('p.note a').getAttribute('href'),
      spc: spc && {
        drawn: drawn(spc), title: text(spc.querySelector('title')), role: spc.getAttribute('role'),
        points: spc.querySelectorAll('g[id*="-spc-points-"] use').length,
      },
      funnel: funnel && {
        drawn: drawn(funnel), title: text(funnel.querySelector('title')), role: funnel.getAttribute('role'),
        points: funnel.querySelectorAll('g[id$="-funnel-units"] use').length,
      },
      regions: [...a.querySelectorAll('table.regions tbody tr')].map((r) => ({
        org: r.dataset.org,
        numerator: text(r.querySelector('[data-cell=numerator]')),
        denominator: text(r.querySelector('[data-cell=denominator]')),
        value: text(r.querySelector('[data-cell=value]')),
        interval: text(r.querySelector('[data-cell=interval]')),
      })),
      alerts: [...a.querySelectorAll('tr[data-alert]')].map((r) => ({
        id: r.dataset.alert, sentence: text(r.querySelector('.sentence')),
      })),
    };
  });
  return {
    title: document.title,
    release: text(document.querySelector('#release')),
    priorities: [...document.querySelectorAll('section.priority')].map((s) => ({
      id: s.dataset.priority, heading: text(s.querySelector('h2, h3, h4')),
      sources: [...s.querySelectorAll('tr[data-source]')].map((r) => ({
        table: r.dataset.source, files: Number(r.querySelector('[data-cell=files]').textContent),
        refused: Number(r.querySelector('[data-cell=refused]').textContent),
      })),
    })),
    contents: [...document.querySelectorAll('nav.contents a')].map((a) => a.getAttribute('href')),
    anchors: [...document.querySelectorAll('[id]')].map((e) => e.id),
    headings: [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map((h) => Number(h.tagName[1])),
    svgs_without_title: [...document.querySelectorAll('svg')]
      .filter((s) => !text(s.querySelector('title'))).length,
    headers_without_scope: [...document.querySelectorAll('th')]
      .filter((t) => !t.getAttribute('scope')).length,
    metrics,
  };
}
"""


@dataclass
class OpenedReport:
    summary: BoardReport
    facts: dict
    console: list[tuple[str, str]]
    page_errors: list[str]
    requests: list[str]
    screenshot: Path


def _browser() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    message = f"{CHROMIUM} absent: `make test` installs Debian's `chromium` when run as root"
    if os.environ.get("CI") == "true" or os.geteuid() == 0:
        pytest.fail(message)
    pytest.skip(message)


def open_report(warehouse: Path, folder: Path) -> OpenedReport:
    """Write the report of `warehouse` into `folder` and open it in headless Chromium."""
    from playwright.sync_api import sync_playwright

    summary = write_board_report(warehouse, folder / "board_report.html")
    console: list[tuple[str, str]] = []
    page_errors: list[str] = []
    requests: list[str] = []
    screenshot = folder / "board_report.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(folder / "chromium_profile"),
            executable_path=str(_browser()),
            args=list(CHROMIUM_FLAGS),
            viewport={"width": 1280, "height": 1600},
        )
        try:
            page = browser.new_page()
            page.on("console", lambda message: console.append((message.type, message.text)))
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(summary.path.resolve().as_uri(), wait_until="load")
            facts = page.evaluate(PAGE_FACTS)
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    return OpenedReport(summary, facts, console, page_errors, requests, screenshot)


@pytest.fixture(scope="module")
def opened(sample_build: Build, tmp_path_factory: pytest.TempPathFactory) -> OpenedReport:
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    return open_report(sample_build.warehouse, tmp_path_factory.mktemp("board_report"))


@pytest.fixture(scope="module")
def published(sample_build: Build):
    with duckdb.connect(str(sample_build.warehouse), read_only=True) as db:
        yield db


def _rows(db: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = db.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _metric_months(db: duckdb.DuckDBPyConnection, period: dt.date) -> dict[str, dict]:
    """Each metric's catalogue row with the month the report shows it at (`month`: a quarterly or
    annual metric's row sits on its period's first month) and the last month that covers (`through`)."""
    catalogue = _rows(db, "select * from published.metric_catalogue")
    for row in catalogue:
        latest = row["latest_complete_month"]
        row["through"] = None if latest is None else min(latest, period)
        row["month"] = (
            None if latest is None else latest_period_ended_by(row["through"], row["months_per_period"])
        )
    return {row["metric_id"]: row for row in catalogue}


def test_every_priority_of_the_active_strategy_has_its_section(opened: OpenedReport, published) -> None:
    priorities = _rows(
        published, "select priority_id, title from published.priorities where is_active_strategy"
    )
    assert priorities
    shown = {p["id"]: p["heading"] for p in opened.facts["priorities"]}
    assert shown == {p["priority_id"]: p["title"] for p in priorities}
    assert opened.summary.priorities == len(priorities)
    # the contents link to every section and every metric shown in full, and every link lands
    anchors = set(opened.facts["anchors"])
    assert {link.removeprefix("#") for link in opened.facts["contents"]} <= anchors
    assert len(opened.facts["contents"]) == len(priorities) + opened.summary.metrics
    # a domain before its priorities, in the strategy's order: Safe comes first
    assert opened.facts["priorities"][0]["id"] == "safe"
    # headings descend one level at a time, charts are announced with a title, table headers have a scope
    levels = opened.facts["headings"]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    assert opened.facts["svgs_without_title"] == 0 and opened.facts["headers_without_scope"] == 0


def test_a_metric_of_two_priorities_is_shown_in_full_once_under_its_primary_one(
    opened: OpenedReport, published
) -> None:
    roles = _rows(
        published,
        "select distinct metric_id, priority_id, role from published.metric_lineage where is_active_strategy",
    )
    shared = {r["metric_id"] for r in roles if sum(o["metric_id"] == r["metric_id"] for o in roles) > 1}
    assert shared
    for metric_id in shared:
        shown = [m for m in opened.facts["metrics"] if m["metric"] == metric_id]
        assert len(shown) == sum(r["metric_id"] == metric_id for r in roles)
        (full,) = [m for m in shown if m["full"]]
        primary = {r["priority_id"] for r in roles if r["metric_id"] == metric_id and r["role"] == "primary"}
        assert full["priority"] in primary or not primary
        assert all(m["link"] == f"#{full['id']}" for m in shown if m is not full)


def test_charts_are_drawn_with_a_point_per_month_and_per_trust(opened: OpenedReport, published) -> None:
    months = _metric_months(published, opened.summary.period)
    full = [m for m in opened.facts["metrics"] if m["spc"] or m["funnel"]]
    assert len(full) >= 10 and opened.summary.charts == sum(bool(m["spc"]) + bool(m["funnel"]) for m in full)
    funnels = 0
    for shown in full:
        metric = months[shown["metric"]]
        if shown["spc"]:
            spc = shown["spc"]
            assert spc["drawn"] and spc["role"] == "img" and metric["title"] in spc["title"]
            (compared,) = published.execute(
                """
                select count(*) from published.metric_values
                where metric_id = ? and org_level = 'england' and org_view = 'current'
                    and period_type = 'month' and period_start <= ? and value is not null
                    and coalesce(denominator, denominator_amount) > 0
                    and coalesce(denominator, denominator_amount) >= ?
                """,
                [metric["metric_id"], metric["month"], metric["min_denominator"] or 0],
            ).fetchone()
            assert spc["points"] == compared > 0, shown["id"]
        if shown["funnel"]:
            funnels += 1
            funnel = shown["funnel"]
            year = metric["through"].year - (1 if metric["through"].month < 3 else 0) - 1
            # the report draws the comparison group (trust type) with the most trusts compared
            (trusts,) = published.execute(
                "select max(n) from (select count(*) as n from published.funnel_points where metric_id = ? "
                "and period_type = 'financial_year' and period_start = ? and is_compared "
                "group by comparison_group)",
                [metric["metric_id"], dt.date(year, 4, 1)],
            ).fetchone()
            assert funnel["drawn"] and funnel["role"] == "img"
            assert funnel["points"] == trusts >= 5, shown["id"]
    assert funnels >= 5


def test_suppressed_figures_show_a_star_and_others_the_published_figure(
    opened: OpenedReport, published
) -> None:
    months = _metric_months(published, opened.summary.period)
    stars = checked = 0
    for shown in opened.facts["metrics"]:
        month = months[shown["metric"]]["month"]
        for row in shown["regions"]:
            (figure,) = _rows(
                published,
                "select coalesce(numerator, numerator_amount) as numerator, "
                "coalesce(denominator, denominator_amount) as denominator, value, is_suppressed "
                "from published.metric_values "
                "where metric_id = ? and org_code = ? and org_view = 'current' and period_type = 'month' "
                "and period_start = ?",
                [shown["metric"], row["org"], month],
            )
            checked += 1
            if figure["is_suppressed"]:
                stars += 1
                assert row["value"] == "*" and row["interval"] == "*", (shown["id"], row)
            for cell in ("numerator", "denominator"):
                number = figure[cell]
                if number is None:
                    assert row[cell] == ("*" if figure["is_suppressed"] else "–"), (shown["id"], row)
                elif float(number).is_integer():
                    assert row[cell] == f"{number:,.0f}", (shown["id"], row)
    assert checked > 50 and stars > 0
    assert opened.summary.suppressed_cells == stars


def test_each_priority_shows_the_data_quality_of_its_sources(opened: OpenedReport, published) -> None:
    lineage = _rows(
        published,
        "select distinct priority_id, source_name || '/' || table_name as source_table "
        "from published.metric_lineage where is_active_strategy",
    )
    files = {
        row["source_table"]: row
        for row in _rows(
            published,
            "select source || '/' || table_name as source_table, count(distinct source_file) as files, "
            "count(distinct source_file) filter (where is_critical_failure) as refused "
            "from published.data_quality_results where file_period is null or file_period <= ? group by 1",
            [opened.summary.period],
        )
    }
    shown = 0
    for priority in opened.facts["priorities"]:
        expected = {r["source_table"] for r in lineage if r["priority_id"] == priority["id"]}
        assert {t["table"] for t in priority["sources"]} == expected, priority["id"]
        for table in priority["sources"]:
            assert (table["files"], table["refused"]) == (
                files[table["table"]]["files"],
                files[table["table"]]["refused"],
            )
            shown += 1
    assert shown > 0


def test_active_alerts_are_listed_with_their_sentences(opened: OpenedReport, published) -> None:
    months = _metric_months(published, opened.summary.period)
    listed = 0
    for shown in opened.facts["metrics"]:
        if not shown["full"]:  # a metric shown in full under an earlier priority, or with no month yet
            assert shown["alerts"] == []
            continue
        month = months[shown["metric"]]["month"]
        active = {
            row["alert_id"]: row["message"]
            for row in _rows(
                published,
                "select alert_id, message from published.alerts where metric_id = ? and first_raised <= ? "
                "and (cleared is null or cleared > ?)",
                [shown["metric"], month, month],
            )
        }
        assert {a["id"]: a["sentence"] for a in shown["alerts"]} == active, shown["id"]
        listed += len(active)
    assert listed > 0 and opened.summary.active_alerts == listed


def test_the_page_logs_no_error_and_fetches_nothing(opened: OpenedReport) -> None:
    assert opened.page_errors == []
    assert [m for m in opened.console if m[0] in ("error", "warning")] == []
    assert opened.requests == [opened.summary.path.resolve().as_uri()]
    with open(opened.screenshot, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot of the report's first screen: {opened.screenshot}")


def test_the_heading_names_the_release_or_says_there_is_none(opened: OpenedReport, published) -> None:
    tables = {
        t
        for (t,) in published.execute(
            "select table_name from duckdb_tables() where schema_name = 'published'"
        ).fetchall()
    }
    if "release" in tables:
        (release_id,) = published.execute("select release_id from published.release").fetchone()
        assert release_id in opened.facts["release"] and opened.summary.release_id == release_id
    else:
        assert opened.facts["release"].startswith("Not a published release")
    assert f"{opened.summary.period:%B %Y}" in opened.facts["title"]


def test_one_priority_and_an_earlier_month(sample_build: Build, tmp_path: Path, published) -> None:
    """A priority's report holds it and the priorities under it, each metric at the month asked for or
    its latest complete month before it."""
    parent = next(
        row["parent_priority_id"]
        for row in _rows(published, "select * from published.priorities where is_active_strategy")
        if row["level"] == "sub_priority"
    )
    output = tmp_path / "one.html"
    written = write_board_report(sample_build.warehouse, output, priority=parent, period="2025-09")
    children = _rows(
        published,
        "select priority_id from published.priorities where is_active_strategy and parent_priority_id = ?",
        [parent],
    )
    html = output.read_text(encoding="utf-8")
    assert written.priorities == 1 + len(children) and written.period == dt.date(2025, 9, 1)
    assert all(f'data-priority="{c["priority_id"]}"' in html for c in children)
    assert "September 2025" in html and "March 2026" not in html


BAD_REQUESTS = [
    (("--priority", "no_such_priority"), "unknown priority 'no_such_priority'"),
    (("--period", "2031-04"), "period 2031-04 is after the latest complete month"),
    (("--period", "March"), "is not a month"),
    (("--warehouse", "/nonexistent/warehouse.duckdb"), "warehouse not found"),
]


def test_bad_requests_are_one_line_errors(sample_build: Build, tmp_path: Path) -> None:
    commands = [
        ("report", "--warehouse", str(sample_build.warehouse), "--output", str(tmp_path / "r.html"), *args)
        for args, _ in BAD_REQUESTS
    ]
    done = run_nqs_many(commands, data_dir=tmp_path)
    for command, (_, message) in zip(commands, BAD_REQUESTS, strict=True):
        result = done[command]
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, result.stderr
        assert lines[0].startswith("nqs report: error:") and message in lines[0]
    assert not (tmp_path / "r.html").exists()


def test_inline_charts_keep_their_ids_to_themselves() -> None:
    """Two charts in one page: every id, url(#...) and href of each is its own (matplotlib reuses its
    marker and clip ids from chart to chart), and each is announced as one image."""
    from nqs.charts.render import inline_svg

    ids: list[set[str]] = []
    for prefix in ("first", "second"):
        figure = Figure(figsize=(4, 3))
        axes = figure.add_subplot()
        axes.scatter([1, 2, 3], [3, 1, 2], gid="points")
        axes.plot([1, 3], [1, 3], gid="line")
        markup = inline_svg(figure, id_prefix=prefix, title=f"{prefix} chart", description="three points")
        root = ET.fromstring(markup)
        own = {e.get("id") for e in root.iter() if e.get("id")}
        assert own and all(i.startswith(f"{prefix}-") for i in own)
        links = {
            value.split("#", 1)[1].rstrip(")")
            for e in root.iter()
            for value in e.attrib.values()
            if "#" in value and ("url(#" in value or value.startswith("#"))
        }
        assert links and links <= own
        assert root.get("role") == "img" and root.get("aria-labelledby") == f"{prefix}-title {prefix}-desc"
        assert root.find("{http://www.w3.org/2000/svg}title").text == f"{prefix} chart"
        ids.append(own)
    assert not ids[0] & ids[1]
