"""SPC (XmR, Making Data Count): agreement with NHSRplotthedots on public data, and every rule by hand.

The reference outputs in tests/fixtures/stats/reference/ were produced by NHSRplotthedots itself (see the
README there). Numbers must agree to 1e-9; labels, point types and icons exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from nqs.cli import main
from nqs.stats import SPC_COLUMNS, StatsInputError, spc
from nqs.stats.spc import LIMIT, LIMIT_CLOSE, SIGNAL_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "stats"
TOLERANCE = 1e-9


def _input(name: str) -> pl.DataFrame:
    path = FIXTURES / "inputs" / name
    if not path.exists():
        path = path.with_name(name + ".gz")
    return pl.read_csv(
        path, infer_schema_length=None, schema_overrides={"type": pl.String, "org_code": pl.String}
    )


def _ae() -> pl.DataFrame:
    return _input("ae_attendances.csv").with_columns(
        series=pl.col("org_code") + " " + pl.col("type"),
        performance=1 - pl.col("breaches") / pl.col("attendances"),
    )


RJZ = "spc_ae_RJZ_type1.csv"
FIVE = "spc_ae_type1_5trusts.csv"
RNORM = "spc_pkgtest_rnorm_seed123.csv"

# name: (input, spc() arguments) -- the same calls the reference outputs were made with (ptd_spc())
CASES = {
    "rjz_breaches": (RJZ, dict(date="period", value="breaches", improvement="decrease")),
    "rjz_breaches_target_rebase": (
        RJZ,
        dict(
            date="period",
            value="breaches",
            improvement="decrease",
            target=3000,
            rebase=["2017-04-01", "2018-04-01"],
        ),
    ),
    "rjz_attendances_fix12": (
        RJZ,
        dict(date="period", value="attendances", improvement="increase", target=15000, fix_after=12),
    ),
    "rjz_admissions_neutral_unscreened": (
        RJZ,
        dict(date="period", value="admissions", improvement="neutral", target=4600, screen_outliers=False),
    ),
    "five_breaches": (
        FIVE,
        dict(
            date="period",
            value="breaches",
            facet="org_code",
            improvement="decrease",
            target={"RAS": 1500, "RJZ": 3000, "RR1": 2500},
        ),
    ),
    "five_attendances_rebase": (
        FIVE,
        dict(
            date="period",
            value="attendances",
            facet="org_code",
            improvement="increase",
            target=9000,
            rebase={"RJZ": ["2017-10-01"], "RJC": ["2017-01-01", "2018-06-01"]},
        ),
    ),
    "five_admissions_fix12": (
        FIVE,
        dict(date="period", value="admissions", facet="org_code", improvement="neutral", fix_after=12),
    ),
    "rnorm_increase": (RNORM, dict(date="date", value="value")),
    "rnorm_neutral": (RNORM, dict(date="date", value="value", improvement="neutral", target=0)),
    "rnorm_y15_decrease_target": (
        RNORM,
        dict(date="date", value="value_y15_10", improvement="decrease", target=0.5),
    ),
    "rnorm_y15_unscreened": (RNORM, dict(date="date", value="value_y15_10", screen_outliers=False)),
    "two_in_three_opposite": ("spc_pkgtest_two_in_three_opposite.csv", dict(date="date", value="value")),
    "ae_performance": (
        None,
        dict(date="period", value="performance", facet="series", improvement="increase", target=0.95),
    ),
}


def _reference(name: str) -> pl.DataFrame:
    path = FIXTURES / "reference" / f"spc_{name}.csv"
    if not path.exists():
        path = path.with_name(path.name + ".gz")
    ref = pl.read_csv(path, infer_schema=False)

    def num(column: str) -> pl.Expr:
        # R writes NA and NaN; both are "no value" here
        return pl.col(column).replace({"NA": None, "NaN": None}).cast(pl.Float64)

    return ref.select(
        facet=pl.when(pl.col("f") == "no facet").then(None).otherwise(pl.col("f")),
        date=pl.col("x").str.to_date(),
        value=num("y"),
        rebase_group=pl.col("rebase_group").cast(pl.Int64),
        mean=num("mean_col"),
        lpl=num("lpl"),
        upl=num("upl"),
        relative_to_mean=num("relative_to_mean").cast(pl.Int64),
        outside_limits=pl.col("outside_limits")
        .replace({"NA": None})
        .replace_strict({"TRUE": True, "FALSE": False}, return_dtype=pl.Boolean, default=None),
        close_to_limits=pl.col("close_to_limits")
        .replace({"NA": None})
        .replace_strict({"TRUE": True, "FALSE": False}, return_dtype=pl.Boolean, default=None),
        special_cause_label=pl.col("special_cause_type"),
        point_type=pl.col("point_type"),
        variation_icon=pl.col("variation_icon"),
        assurance_type=pl.col("assurance_type").replace({"NA": None}),
        short_group_warning=pl.col("short_group_warning") == "TRUE",
        target=num("target"),
    )


def _run(name: str) -> pl.DataFrame:
    source, arguments = CASES[name]
    frame = _ae() if source is None else _input(source)
    return spc(frame, **arguments)


def compare_with_reference(name: str) -> dict[str, float]:
    """Assert agreement with the reference output; return the largest absolute difference per column."""
    ours = _run(name)
    ref = _reference(name)
    assert ours.height == ref.height
    joined = ref.join(ours, on=["facet", "date"], how="left", nulls_equal=True, suffix="_ours")
    assert joined["value_ours"].null_count() == 0, "a reference point is missing from the result"

    # Deliberate difference: no assurance icon for a series without a target, or whose last segment has no
    # limits (NHSRplotthedots says "inconsistent" there).
    last = joined.sort("date").group_by("facet", maintain_order=True).last()
    no_assurance = last.filter(pl.col("target").is_null() | pl.col("upl").is_null())["facet"].to_list()
    expected_assurance = pl.when(pl.col("facet").is_in(no_assurance, nulls_equal=True)).then(None)
    joined = joined.with_columns(assurance_type=expected_assurance.otherwise(pl.col("assurance_type")))

    differences = {}
    for column in ("value", "mean", "lpl", "upl", "target"):
        a, b = joined[column], joined[f"{column}_ours"]
        assert (a.is_null() == b.is_null()).all(), f"{name}: {column} missing in one result only"
        gap = (a - b).abs().max()
        differences[column] = 0.0 if gap is None else float(gap)
        assert differences[column] <= TOLERANCE, f"{name}: {column} differs by {differences[column]}"
    # the 2-sigma band is not in ptd_spc's output; it is mean ± 2/3 of the distance to the limit
    for column, limit in (("lower_2sigma", "lpl"), ("upper_2sigma", "upl")):
        expected = joined["mean"] + (joined[limit] - joined["mean"]) / LIMIT * LIMIT_CLOSE
        gap = (expected - joined[column]).abs().max()
        differences[column] = 0.0 if gap is None else float(gap)
        assert differences[column] <= TOLERANCE
    for column in ("rebase_group", *SIGNAL_COLUMNS, "short_group_warning"):
        mismatched = joined.filter(~pl.col(column).eq_missing(pl.col(f"{column}_ours")))
        assert mismatched.height == 0, (
            f"{name}: {column} differs:\n{mismatched.select('facet', 'date', column, f'{column}_ours')}"
        )
    return differences


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_nhsrplotthedots(name: str) -> None:
    compare_with_reference(name)


def test_reference_cases_cover_every_signal_and_icon() -> None:
    labels, types, icons, assurance = set(), set(), set(), set()
    for name in CASES:
        ref = _reference(name)
        labels |= set(ref["special_cause_label"])
        types |= set(ref["point_type"])
        icons |= set(ref["variation_icon"])
        assurance |= set(ref["assurance_type"].drop_nulls())
    assert {
        "Above UCL",
        "Below LCL",
        "7 Point Trend (Increasing)",
        "7 Point Trend (Decreasing)",
        "2 in 3 Above CL",
        "2 in 3 Below CL",
        "7 Points Above CL",
        "7 Points Below CL",
    } <= labels
    assert {
        "special_cause_improvement",
        "special_cause_concern",
        "special_cause_neutral_high",
        "special_cause_neutral_low",
        "common_cause",
    } == types
    assert {"common_cause", "improvement_high", "concern_low", "concern_high"} <= icons
    assert {"consistent_pass", "consistent_fail", "inconsistent"} == assurance


# ---- the rules by hand ----------------------------------------------------------------------------------
#
# A base of 12 points alternating 11, 10 (mean 10.5, every moving range 1) with limits fixed after it:
# process limits 10.5 ± 2.66 = [7.84, 13.16], 2-sigma band 10.5 ± 1.7733 = [8.7267, 12.2733]. The points
# after the base are the ones under test.

BASE = [11.0, 10.0] * 6
LOWER_BAND, UPPER_BAND = 10.5 - LIMIT_CLOSE, 10.5 + LIMIT_CLOSE


def chart(tail: list[float], improvement: str = "increase", **kwargs) -> pl.DataFrame:
    values = BASE + tail
    dates = pl.date_range(
        pl.date(2020, 1, 1), pl.date(2020, 1, 1) + pl.duration(days=len(values) - 1), eager=True
    )
    frame = pl.DataFrame({"d": dates, "v": values})
    kwargs.setdefault("fix_after", 12)
    return spc(frame, date="d", value="v", improvement=improvement, **kwargs)


def tail_labels(result: pl.DataFrame) -> list[str]:
    return result["special_cause_label"].to_list()[len(BASE) :]


def test_fixed_limits_of_the_base() -> None:
    result = chart([10.5])
    row = result.row(0, named=True)
    assert row["mean"] == pytest.approx(10.5, abs=1e-12)
    assert row["lpl"] == pytest.approx(10.5 - 2.66, abs=1e-12)
    assert row["upl"] == pytest.approx(10.5 + 2.66, abs=1e-12)
    assert row["lower_2sigma"] == pytest.approx(10.5 - 2 * 2.66 / 3, abs=1e-12)
    assert row["upper_2sigma"] == pytest.approx(10.5 + 2 * 2.66 / 3, abs=1e-12)
    assert set(result["special_cause_label"]) == {"Common Cause"}
    assert result["relative_to_mean"].to_list()[-1] == 0


def test_shift_of_seven_and_negative_controls() -> None:
    assert tail_labels(chart([11.0] * 7)) == ["7 Points Above CL"] * 7
    assert tail_labels(chart([10.2] * 7)) == ["7 Points Below CL"] * 7
    # a run of 6 is not a shift
    assert set(tail_labels(chart([11.0] * 6 + [10.0]))) == {"Common Cause"}
    # a point exactly on the mean breaks the run
    assert set(tail_labels(chart([11.0] * 3 + [10.5] + [11.0] * 3))) == {"Common Cause"}
    # a longer run flags every point of it
    assert tail_labels(chart([11.0] * 9)) == ["7 Points Above CL"] * 9


def test_trend_of_seven_and_negative_controls() -> None:
    # the last base point (10.0) and 6 strictly increasing points make 7 points
    rising = [10.1, 10.2, 10.3, 10.4, 10.6, 10.7]
    result = chart(rising)
    labels = result["special_cause_label"].to_list()
    assert labels[len(BASE) - 1 :] == ["7 Point Trend (Increasing)"] * 7
    assert labels[len(BASE) - 2] == "Common Cause"
    # 6 points rising is not a trend
    assert set(tail_labels(chart([11.5, 10.2, 10.3, 10.4, 10.6, 10.7, 10.8]))) == {"Common Cause"}
    # a tie breaks the trend
    assert set(tail_labels(chart([10.1, 10.2, 10.2, 10.3, 10.4, 10.6, 10.7]))) == {"Common Cause"}
    falling = chart([11.5, 11.4, 11.3, 11.2, 11.1, 10.9, 10.8])
    assert tail_labels(falling) == ["7 Point Trend (Decreasing)"] * 7
    assert tail_labels(chart([11.5, 11.4, 11.3, 11.2, 11.1, 10.9, 10.8], "decrease"))[0] == (
        "7 Point Trend (Decreasing)"
    )
    assert falling["point_type"].to_list()[-1] == "special_cause_concern"


def test_two_in_three_and_negative_controls() -> None:
    close = 12.5
    assert UPPER_BAND < close < 10.5 + LIMIT
    # two close points with the middle one on the same side: the close points are flagged
    assert tail_labels(chart([close, 11.0, close])) == ["2 in 3 Above CL", "Common Cause", "2 in 3 Above CL"]
    assert tail_labels(chart([close, close, 11.0])) == ["2 in 3 Above CL", "2 in 3 Above CL", "Common Cause"]
    # ... but not when the third point of every window is on the other side
    assert set(tail_labels(chart([close, close, 10.0]))) == {"Common Cause"}
    # the middle point on the other side of the mean: no signal
    assert set(tail_labels(chart([close, 10.0, close]))) == {"Common Cause"}
    # a point beyond the limit does not count towards it
    assert tail_labels(chart([close, 13.5, 11.0])) == ["Common Cause", "Above UCL", "Common Cause"]
    # a point exactly on the 2-sigma line is not close to the limit
    assert set(tail_labels(chart([UPPER_BAND, 11.0, close]))) == {"Common Cause"}
    low = 8.5
    assert 10.5 - LIMIT < low < LOWER_BAND
    assert tail_labels(chart([low, 10.0, low]))[0] == "2 in 3 Below CL"


def test_outside_limits_and_priority() -> None:
    result = chart([13.2, 7.8, 10.5 + LIMIT])
    assert tail_labels(result) == ["Above UCL", "Below LCL", "Common Cause"]
    assert result["outside_limits"].to_list()[len(BASE) :] == [True, True, False]
    # a point on the limit is not beyond it, but is close to it
    assert result["close_to_limits"].to_list()[-1] is True
    # a trend whose last point is beyond the limit: that point is labelled beyond the limit
    trend = chart([10.6, 10.8, 11.0, 11.2, 11.4, 13.5])
    assert tail_labels(trend)[-1] == "Above UCL"
    assert tail_labels(trend)[-2] == "7 Point Trend (Increasing)"
    # 2 in 3 outranks a shift: 7 points above the mean, two of them close to the limit
    mixed = tail_labels(chart([11.0, 11.0, 11.0, 11.0, 11.0, 12.5, 12.5]))
    assert mixed == ["7 Points Above CL"] * 5 + ["2 in 3 Above CL"] * 2


def test_point_types_and_variation_icons_by_direction() -> None:
    high = [11.0] * 7
    expected = {
        "increase": ("special_cause_improvement", "improvement_high"),
        "decrease": ("special_cause_concern", "concern_high"),
        "neutral": ("special_cause_neutral_high", "neutral_high"),
    }
    for improvement, (kind, icon) in expected.items():
        result = chart(high, improvement)
        assert result["point_type"].to_list()[-1] == kind
        assert set(result["variation_icon"]) == {icon}
    low = [10.2] * 7
    assert set(chart(low, "increase")["variation_icon"]) == {"concern_low"}
    assert set(chart(low, "decrease")["variation_icon"]) == {"improvement_low"}
    assert set(chart(low, "neutral")["variation_icon"]) == {"neutral_low"}
    # the icon comes from the last point only
    assert set(chart(high + [10.0])["variation_icon"]) == {"common_cause"}


def test_assurance() -> None:
    assert set(chart([], target=14.0)["assurance_type"]) == {"consistent_fail"}
    assert set(chart([], target=7.0)["assurance_type"]) == {"consistent_pass"}
    assert set(chart([], target=10.0)["assurance_type"]) == {"inconsistent"}
    assert set(chart([], "decrease", target=14.0)["assurance_type"]) == {"consistent_pass"}
    assert set(chart([], "decrease", target=7.0)["assurance_type"]) == {"consistent_fail"}
    # a target exactly on a limit is hit and miss
    assert set(chart([], target=10.5 + 2.66)["assurance_type"]) == {"inconsistent"}
    assert chart([], "neutral", target=14.0)["assurance_type"].null_count() == len(BASE)
    assert chart([])["assurance_type"].null_count() == len(BASE)


def test_moving_range_screening() -> None:
    values = [1.0, 2.0] * 6 + [20.0]
    frame = pl.DataFrame(
        {"d": pl.date_range(pl.date(2021, 1, 1), pl.date(2021, 1, 13), eager=True), "v": values}
    )
    mean = sum(values) / len(values)
    screened = spc(frame, date="d", value="v")
    # ranges: eleven of 1 and one of 18; 18 >= 3.267 × 29/12, so it is left out
    assert screened["upl"][0] == pytest.approx(mean + 2.66 * 1.0, abs=1e-12)
    unscreened = spc(frame, date="d", value="v", screen_outliers=False)
    assert unscreened["upl"][0] == pytest.approx(mean + 2.66 * 29 / 12, abs=1e-12)
    assert screened["special_cause_label"][-1] == "Above UCL"


def test_rebase_fix_after_and_short_groups() -> None:
    values = list(np.tile([5.0, 6.0], 10)) + list(np.tile([20.0, 22.0], 5))
    dates = pl.date_range(pl.date(2022, 1, 1), pl.date(2022, 1, 30), eager=True)
    frame = pl.DataFrame({"d": dates, "v": values})
    result = spc(frame, date="d", value="v", rebase=["2022-01-21"])
    assert result["rebase_group"].to_list() == [0] * 20 + [1] * 10
    assert result["mean"][0] == pytest.approx(5.5) and result["mean"][-1] == pytest.approx(21.0)
    assert result["upl"][-1] == pytest.approx(21.0 + 2.66 * 2.0)
    assert result["short_group_warning"].to_list() == [False] * 20 + [True] * 10
    with pytest.warns(UserWarning, match="match no point"):
        spc(frame, date="d", value="v", rebase=["2023-01-01"])
    fixed = spc(frame, date="d", value="v", fix_after=12)
    assert fixed["mean"][0] == pytest.approx(5.5)
    assert fixed["special_cause_label"][-1] == "Above UCL"
    with pytest.raises(StatsInputError, match="at least 12"):
        spc(frame, date="d", value="v", fix_after=11)


def test_degenerate_series() -> None:
    frame = pl.DataFrame(
        {"d": pl.date_range(pl.date(2022, 1, 1), pl.date(2022, 1, 14), eager=True), "v": [3.0] * 14}
    )
    flat = spc(frame, date="d", value="v", target=2.0)
    # every moving range is 0, so screening leaves none: no limits (as the reference)
    assert flat["lpl"].null_count() == 14 and flat["outside_limits"].null_count() == 14
    assert set(flat["special_cause_label"]) == {"Common Cause"}
    assert flat["assurance_type"].null_count() == 14
    assert spc(frame, date="d", value="v", screen_outliers=False)["upl"][0] == 3.0
    single = spc(frame.head(1), date="d", value="v")
    assert single["mean"][0] == 3.0 and single["upl"][0] is None and single["short_group_warning"][0]
    assert spc(frame.head(0), date="d", value="v").columns == list(SPC_COLUMNS)


def test_facets_are_independent_and_sorted() -> None:
    frame = pl.DataFrame(
        {
            "d": ["2020-01-0" + str(i) for i in range(1, 4)] * 2,
            "f": ["b"] * 3 + ["a"] * 3,
            "v": [1, 2, 3, 10, 20, 30],
        }
    )
    result = spc(frame, date="d", value="v", facet="f", target={"a": 100})
    assert result["facet"].to_list() == ["a"] * 3 + ["b"] * 3
    assert result["mean"].to_list() == [20.0] * 3 + [2.0] * 3
    assert result["target"].to_list()[:3] == [100.0] * 3 and result["target"][3] is None


def test_bad_input() -> None:
    frame = pl.DataFrame({"d": ["2020-01-01", "2020-01-02", "2020-01-03"], "v": ["1", "x", "3"]})
    with pytest.raises(StatsInputError, match=r"column 'w' not found"):
        spc(frame, date="d", value="w")
    with pytest.raises(StatsInputError, match=r"column 'v' is not a number in row 2: 'x'"):
        spc(frame, date="d", value="v")
    with pytest.raises(StatsInputError, match=r"not a date .* in row 1"):
        spc(frame.with_columns(d=pl.lit("soon"), v=pl.lit(1)), date="d", value="v")
    with pytest.raises(StatsInputError, match=r"duplicate date 2020-01-01 in row 2"):
        spc(frame.with_columns(d=pl.lit("2020-01-01"), v=pl.lit(1)), date="d", value="v")
    with pytest.raises(StatsInputError, match="improvement"):
        spc(frame.with_columns(v=pl.lit(1)), date="d", value="v", improvement="up")
    with pytest.raises(StatsInputError, match="no value in row 3"):
        spc(
            pl.DataFrame({"d": ["2020-01-01", "2020-01-02", "2020-01-03"], "v": [1.0, 2.0, None]}),
            date="d",
            value="v",
        )


# ---- bounds: no limit where no value can be -------------------------------------------------------------


def test_a_proportions_limits_are_clamped_to_0_and_1_and_no_signal_changes() -> None:
    """A&E 4-hour performance of every trust (a proportion): R's limits, cut at 0 and 1, and R's signals."""
    reference = compare_with_reference("ae_performance")  # unbounded: NHSRplotthedots' limits exactly
    assert reference["upl"] <= TOLERANCE
    unbounded = _run("ae_performance")
    source, arguments = CASES["ae_performance"]
    bounded = spc(_ae(), **arguments, bounds=(0, 1))
    assert (unbounded["upl"] > 1).sum() > 0  # the real series has limits above 100%
    for column, bound in (("upl", 1.0), ("upper_2sigma", 1.0)):
        assert bounded[column].to_list() == unbounded[column].clip(upper_bound=bound).to_list()
    for column, bound in (("lpl", 0.0), ("lower_2sigma", 0.0)):
        assert bounded[column].to_list() == unbounded[column].clip(lower_bound=bound).to_list()
    assert bounded.select(SIGNAL_COLUMNS).equals(unbounded.select(SIGNAL_COLUMNS))
    assert bounded.select("mean", "value").equals(unbounded.select("mean", "value"))


def test_a_counts_lower_limit_is_clamped_at_0_and_no_signal_changes() -> None:
    """A&E breaches of every trust and type (counts): many small series have a lower limit below 0."""
    unbounded = spc(_ae(), date="period", value="breaches", facet="series", improvement="decrease")
    bounded = spc(
        _ae(), date="period", value="breaches", facet="series", improvement="decrease", bounds=(0, None)
    )
    below = unbounded["lpl"] < 0
    assert below.sum() > 0
    assert bounded.filter(below)["lpl"].unique().to_list() == [0.0]
    assert bounded.filter(~below)["lpl"].to_list() == unbounded.filter(~below)["lpl"].to_list()
    assert bounded["upl"].to_list() == unbounded["upl"].to_list()  # no upper bound
    assert bounded.select(SIGNAL_COLUMNS).equals(unbounded.select(SIGNAL_COLUMNS))


def test_bounds_refuse_a_value_out_of_range() -> None:
    frame = pl.DataFrame({"d": ["2020-01-01", "2020-02-01", "2020-03-01"], "v": [0.2, 1.5, 0.4]})
    with pytest.raises(
        StatsInputError, match=r"value 1.5 in row 2 is out of the measure's range \(0.0 to 1.0\)"
    ):
        spc(frame, date="d", value="v", bounds=(0, 1))
    with pytest.raises(StatsInputError, match="must be below the upper bound"):
        spc(frame, date="d", value="v", bounds=(1, 0))
    assert spc(frame, date="d", value="v", bounds=(0, None)).height == 3


# ---- the command line -----------------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    """The `nqs` front door itself, as an analyst runs it."""
    return main(argv)


def test_cli_writes_the_same_as_the_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spc.csv"
    code = run_cli(
        [
            "spc",
            "--input",
            str(FIXTURES / "inputs" / RJZ),
            "--date",
            "period",
            "--value",
            "breaches",
            "--improvement",
            "decrease",
            "--target",
            "3000",
            "--rebase",
            "2017-04-01",
            "2018-04-01",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    written = pl.read_csv(out, try_parse_dates=True)
    expected = _run("rjz_breaches_target_rebase")
    assert written.columns == list(SPC_COLUMNS)
    assert written["special_cause_label"].to_list() == expected["special_cause_label"].to_list()
    assert np.allclose(written["upl"].to_numpy(), expected["upl"].to_numpy(), rtol=0, atol=1e-9)
    assert "trial limits" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        ("period,breaches\n2020-01-01,1\n", ["--value", "breachez"], "column 'breachez' not found"),
        ("period,breaches\n2020-01-01,1\n2020-02-01,n/a\n", [], "not a number in row 2: 'n/a'"),
        ("period,breaches\n2020-01-01,1\n", ["--fix-after", "5"], "at least 12"),
        ("period,breaches\n2020-01-01,-1\n", ["--lower-bound", "0"], "row 1 is out of the measure's range"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, arguments: list[str], message: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content)
    argv = [
        "spc",
        "--input",
        str(source),
        "--date",
        "period",
        "--value",
        "breaches",
        "--output",
        str(tmp_path / "out.csv"),
        *arguments,
    ]
    # the last --value wins, so a bad column name can be given after the good one
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("nqs spc: error: ")
    assert not (tmp_path / "out.csv").exists()


def test_a_point_ending_one_trend_and_starting_the_next_takes_the_later_direction() -> None:
    # the last base point (10.0) and 6 rises make a 7-point increasing trend ending at 10.8; 10.8 and 6
    # falls make a decreasing one starting there; no shift (6 points above the mean) and nothing close
    tail = [10.2, 10.3, 10.4, 10.6, 10.7, 10.8, 10.75, 10.65, 10.55, 10.45, 10.35, 10.25]
    labels = chart(tail)["special_cause_label"].to_list()
    assert labels[len(BASE) - 1 : len(BASE) + 5] == ["7 Point Trend (Increasing)"] * 6
    assert labels[len(BASE) + 5 :] == ["7 Point Trend (Decreasing)"] * 7


def test_rules_do_not_look_across_a_rebase() -> None:
    # 7 points of 11 above a mean of 10.6 make a shift, unless a rebase splits them 4 and 3
    values = [10.0, 11.0] * 6 + [11.0] * 3 + [11.0] * 3 + [10.0, 11.0] * 6
    dates = pl.date_range(
        pl.date(2021, 1, 1), pl.date(2021, 1, 1) + pl.duration(days=len(values) - 1), eager=True
    )
    frame = pl.DataFrame({"d": dates, "v": values})
    whole = spc(frame, date="d", value="v")
    assert whole["mean"][0] == pytest.approx(sum(values) / len(values))
    assert whole["special_cause_label"].to_list()[11:18] == ["7 Points Above CL"] * 7
    split = spc(frame, date="d", value="v", rebase=[dates[15]])
    assert split["mean"][0] == pytest.approx(sum(values[:15]) / 15)
    assert set(split["special_cause_label"]) == {"Common Cause"}
