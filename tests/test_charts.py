"""`nqs chart spc` and `nqs chart funnel` on a real build: valid SVG and PNG with the expected elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from conftest import Build, run_nqs, run_nqs_many
from PIL import Image

SVG = "{http://www.w3.org/2000/svg}"


def chart(build: Build, tmp_path: Path, *args: str):
    return run_nqs("chart", *args, "--warehouse", str(build.warehouse), data_dir=tmp_path)


def svg_ids(path: Path) -> tuple[set[str], str]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    text = " ".join("".join(element.itertext()) for element in root.iter(f"{SVG}text"))
    return ids, text


def test_spc_chart_of_a_deteriorating_series(sample_build: Build, tmp_path: Path) -> None:
    planted = next(
        d for d in sample_build.manifest["deteriorating"] if d["metric_id"] == "sickness_absence_rate"
    )
    output = tmp_path / "spc.svg"
    done = chart(
        sample_build,
        tmp_path,
        "spc",
        "--metric",
        planted["metric_id"],
        "--org",
        planted["trust_code"],
        "--output",
        str(output),
    )
    assert done.returncode == 0, done.stderr
    ids, text = svg_ids(output)
    # mean, process limits, target and red line, concern points, the two icons
    assert {"mean", "upl", "lpl", "target", "red-line", "value-line", "points-special_cause_concern"} <= ids
    assert {"variation-icon", "assurance-icon"} <= ids
    icon = sample_build.query_published(
        "select variation_icon, assurance_type from published.spc_summary "
        "where metric_id = ? and org_code = ?",
        [planted["metric_id"], planted["trust_code"]],
    )[0]
    assert icon[0] in text and icon[1] in text
    assert "Staff sickness absence rate" in text and planted["trust_code"] in text

    png = tmp_path / "spc.png"
    done = chart(
        sample_build,
        tmp_path,
        "spc",
        "--metric",
        planted["metric_id"],
        "--org",
        planted["trust_code"],
        "--output",
        str(png),
    )
    assert done.returncode == 0, done.stderr
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] > 1000 and image.size[1] > 600


def test_funnel_chart_labels_the_planted_outliers(sample_build: Build, tmp_path: Path) -> None:
    trusts = sample_build.manifest["worse_trusts"]["vacancy_rate"]
    output = tmp_path / "funnel.svg"
    done = chart(
        sample_build,
        tmp_path,
        "funnel",
        "--metric",
        "vacancy_rate",
        "--period",
        "2025-26",
        "--output",
        str(output),
    )
    assert done.returncode == 0, done.stderr
    ids, text = svg_ids(output)
    assert {
        "national",
        "limit-95-upper",
        "limit-95-lower",
        "limit-998-upper",
        "limit-998-lower",
        "units",
    } <= ids
    assert trusts, "no worse trust planted for vacancy_rate"
    for org in trusts:
        assert f"outlier-{org}" in ids and org in text
    # every labelled unit is an outlier in the mart, and every worse one is labelled
    labelled = {i.removeprefix("outlier-") for i in ids if i.startswith("outlier-")}
    worse = {
        org
        for (org,) in sample_build.query_published(
            "select org_code from published.funnel_points where metric_id = 'vacancy_rate' and "
            "period_type = 'financial_year' and period_label = '2025-26' and outlier_judgement like '%worse'"
        )
    }
    assert worse <= labelled
    monthly = chart(
        sample_build,
        tmp_path,
        "funnel",
        "--metric",
        "vacancy_rate",
        "--period",
        "2026-03",
        "--output",
        str(tmp_path / "month.png"),
    )
    assert monthly.returncode == 0, monthly.stderr
    with Image.open(tmp_path / "month.png") as image:
        assert image.format == "PNG"


BAD_REQUESTS = [
    (("spc", "--metric", "no_such_metric", "--org", "RX1"), "unknown metric 'no_such_metric'"),
    (("spc", "--metric", "vacancy_rate", "--org", "ZZZ"), "unknown organisation 'ZZZ'"),
    (("funnel", "--metric", "vacancy_rate", "--period", "2031-04"), "no month April 2031"),
    (("funnel", "--metric", "vacancy_rate", "--period", "March"), "is not a month"),
    (("funnel", "--metric", "never_events", "--period", "2026-03"), "has no funnel plot"),
    (("spc", "--metric", "vacancy_rate", "--org", "RXV", "--output", "x.pdf"), "must end .svg or .png"),
    (("funnel", "--metric", "vacancy_rate", "--period", "2025-26", "--schema", "nope"), "has no nope."),
]


@pytest.fixture(scope="module")
def bad_requests(sample_build: Build, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Each of BAD_REQUESTS run through `nqs chart` on the sample build, together in one process."""
    commands = [("chart", *args, "--warehouse", str(sample_build.warehouse)) for args, _ in BAD_REQUESTS]
    done = run_nqs_many(commands, data_dir=tmp_path_factory.mktemp("bad_requests"))
    return {args: done[command] for (args, _), command in zip(BAD_REQUESTS, commands, strict=True)}


@pytest.mark.parametrize(("args", "message"), BAD_REQUESTS)
def test_bad_requests_are_one_line_errors(bad_requests, args, message) -> None:
    done = bad_requests[args]
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nqs chart: error:") and message in lines[0], done.stderr


def test_missing_warehouse(tmp_path: Path) -> None:
    done = run_nqs(
        "chart",
        "spc",
        "--metric",
        "m",
        "--org",
        "o",
        "--warehouse",
        str(tmp_path / "none.duckdb"),
        data_dir=tmp_path,
    )
    assert done.returncode == 2 and "warehouse not found" in done.stderr


def test_funnel_labels_never_overlap(sample_build: Build) -> None:
    """On every funnel of the sample (each metric, the latest financial year and month), no two outlier
    labels overlap, each stays inside the plot, and every outlier is labelled or named under the chart."""
    from nqs.charts.data import ChartError, connect, funnel_period
    from nqs.charts.labels import text_box
    from nqs.charts.render import funnel_figure

    db = connect(sample_build.warehouse)
    metrics = [
        m
        for (m,) in db.execute(
            "select metric_id from published.metric_catalogue where funnel_type != 'none'"
        ).fetchall()
    ]
    (year,) = db.execute(
        "select max(period_label) from published.funnel_points where period_type = 'financial_year'"
    ).fetchall()[0]
    (month,) = db.execute(
        "select max(period_label) from published.funnel_points where period_type = 'month'"
    ).fetchall()[0]
    labels_drawn = 0
    nouns = set()  # councils compared on the social care measures, trusts on the others
    for metric in metrics:
        for label, kind in ((year, "financial_year"), (month, "month")):
            try:
                period = funnel_period(db, metric, label, kind)
            except ChartError:
                continue  # too few trusts to draw a funnel
            figure = funnel_figure(period)
            figure.canvas.draw()  # annotations know where they are once drawn
            renderer = figure.canvas.get_renderer()
            (axes,) = [a for a in figure.axes if a.texts or a.collections]
            texts = [t for t in axes.texts if (t.get_gid() or "").startswith("outlier-")]
            boxes = [text_box(t, renderer) for t in texts]
            area = axes.get_window_extent(renderer)
            for box, text in zip(boxes, texts, strict=True):
                assert area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1, (
                    text
                )
            for i, first in enumerate(boxes):
                for second in boxes[i + 1 :]:
                    overlap = (
                        first.x0 < second.x1
                        and second.x0 < first.x1
                        and first.y0 < second.y1
                        and second.y0 < first.y1
                    )
                    assert not overlap, (metric, label, texts[i].get_text(), [t.get_text() for t in texts])
            units = period.units.filter("is_compared")
            outliers = set(
                units.filter(
                    pl.col("outlier_judgement").str.ends_with("worse")
                    | pl.col("outlier_judgement").str.starts_with("alarm")
                )["org_code"]
            )
            (subtitle,) = [t.get_text() for t in figure.texts if t.get_gid() == "subtitle"]
            compared_levels = set(units["org_level"])
            noun = "councils" if compared_levels == {"local_authority"} else "trusts"
            assert f"Funnel plot of {units.height} {noun}," in subtitle, (metric, label, compared_levels)
            nouns.add(noun)
            named = {t.get_text() for t in texts}
            note = [t.get_text() for t in figure.texts if t.get_gid() == "outliers-not-labelled"]
            listed = set(note[0].split(": ", 1)[1].split(", ")) if note else set()
            assert named | listed == outliers and not named & listed, (metric, label)
            labels_drawn += len(texts)
    db.close()
    assert labels_drawn > 0
    assert nouns == {"councils", "trusts"}


def test_labels_of_crowded_points_are_moved_apart_or_left_out() -> None:
    """Forty labels on points one pixel apart: none overlaps another or a point, and those with no room
    left are returned rather than drawn on top of one another."""
    from matplotlib.figure import Figure

    from nqs.charts.labels import PointLabel, place_labels, text_box

    figure = Figure(figsize=(4, 3))
    axes = figure.add_axes((0.1, 0.1, 0.8, 0.8))
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    labels = [PointLabel(f"R{i:02d}", 50 + i * 0.1, 50, gid=f"outlier-R{i:02d}") for i in range(40)]
    left_out = place_labels(axes, labels, fontsize=8, color="black", points=[(50, 55), (52, 45)])
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    drawn = [t for t in axes.texts if (t.get_gid() or "").startswith("outlier-")]
    assert drawn and left_out and len(drawn) + len(left_out) == len(labels)
    assert [t.get_text() for t in drawn] == [x.text for x in labels if x.text not in left_out]
    assert [x.text for x in labels[: len(drawn)]] == [t.get_text() for t in drawn]  # most important first
    boxes = [text_box(t, renderer) for t in drawn]
    for i, first in enumerate(boxes):
        for second in boxes[i + 1 :]:
            assert not (
                first.x0 < second.x1
                and second.x0 < first.x1
                and first.y0 < second.y1
                and second.y0 < first.y1
            )
        for x, y in [(50, 55), (52, 45)]:
            px, py = axes.transData.transform((x, y))
            assert not (first.x0 <= px <= first.x1 and first.y0 <= py <= first.y1)
