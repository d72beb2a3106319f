"""`nqs chart spc` and `nqs chart funnel` on a real build: valid SVG and PNG with the expected elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

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
