"""Funnel plots: agreement with FunnelPlotR on public data, the deliberate differences, the method by hand.

The reference outputs in tests/fixtures/stats/reference/ were produced by FunnelPlotR itself (see the README
there). Numbers must agree to 1e-9 except where README.md in nqs/stats documents a deliberate difference;
those are asserted here in their exact form.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.stats import chi2

from nqs.cli import main
from nqs.stats import FUNNEL_COLUMNS, StatsInputError, funnel, judge, orient_outliers
from nqs.stats._common import r_sum
from nqs.stats.funnel import Z95, Z998, dersimonian_laird, r_quantile7, r_round, truncate, winsorise

FIXTURES = Path(__file__).parent / "fixtures" / "stats"
TOLERANCE = 1e-9


def _input(name: str) -> pl.DataFrame:
    path = FIXTURES / "inputs" / name
    if not path.exists():
        path = path.with_name(name + ".gz")
    text = {"provnum": pl.String, "type": pl.String, "org_code": pl.String}
    return pl.read_csv(path, infer_schema_length=None, schema_overrides=text)


def _ae_type1() -> pl.DataFrame:
    ae = _input("ae_attendances.csv").filter(pl.col("type") == "1")
    breaches = ae["breaches"].cast(pl.Float64).to_numpy()
    attendances = ae["attendances"].cast(pl.Float64).to_numpy()
    # expected breaches at the national rate, computed in the same order as the reference run
    return ae.with_columns(expected_breaches=pl.Series(attendances * r_sum(breaches) / r_sum(attendances)))


INPUTS = {
    "records": lambda: _input("funnel_medpar_records_with_prds.csv"),
    "provider": lambda: _input("funnel_medpar_by_provider.csv"),
    "six": lambda: _input("funnel_pkgtest_6units.csv"),
    "los": lambda: _input("LOS_model.csv").with_columns(n=pl.lit(1)),
    "medpar": lambda: _input("medpar.csv").with_columns(n=pl.lit(1)),
    "ae": _ae_type1,
}
SR, PR, RC = "standardised-ratio", "proportion", "ratio"
SHMI, SPIEGELHALTER = "shmi", "spiegelhalter"

# name: (input, numerator, denominator, group, data type, method, trim, overdispersion) -- the same calls as
# the reference run made of funnel_plot() (FunnelPlotR's sr_method "CQC" is the Spiegelhalter method)
CASES = {
    "medpar_records_sr_shmi": ("records", "los", "prds", "provnum", SR, SHMI, 0.1, True),
    "medpar_records_sr_cqc": ("records", "los", "prds", "provnum", SR, SPIEGELHALTER, 0.1, True),
    "medpar_records_sr_shmi_unadjusted": ("records", "los", "prds", "provnum", SR, SHMI, 0.1, False),
    "medpar_records_sr_cqc_unadjusted": ("records", "los", "prds", "provnum", SR, SPIEGELHALTER, 0.1, False),
    "medpar_provider_sr_shmi_trim20": ("provider", "los", "prds", "provnum", SR, SHMI, 0.2, True),
    "medpar_provider_pr_died": ("provider", "died", "n", "provnum", PR, SPIEGELHALTER, 0.1, True),
    "medpar_provider_pr_died_unadjusted": ("provider", "died", "n", "provnum", PR, SPIEGELHALTER, 0.1, False),
    "medpar_provider_rc_died": ("provider", "died", "n", "provnum", RC, SPIEGELHALTER, 0.1, True),
    "six_sr_shmi": ("six", "num", "denom", "group", SR, SHMI, 0.1, True),
    "six_sr_cqc": ("six", "num", "denom", "group", SR, SPIEGELHALTER, 0.1, True),
    "six_rc": ("six", "num", "denom", "group", RC, SPIEGELHALTER, 0.1, True),
    "los_pr_death": ("los", "Death", "n", "Organisation", PR, SPIEGELHALTER, 0.1, True),
    "los_rc_los": ("los", "LOS", "n", "Organisation", RC, SPIEGELHALTER, 0.1, True),
    "medpar_pr_died": ("medpar", "died", "n", "provnum", PR, SPIEGELHALTER, 0.1, True),
    "ae_pr_breaches": ("ae", "breaches", "attendances", "org_code", PR, SPIEGELHALTER, 0.1, True),
    "ae_pr_admissions_trim5": ("ae", "admissions", "attendances", "org_code", PR, SPIEGELHALTER, 0.05, True),
    "ae_rc_breaches": ("ae", "breaches", "attendances", "org_code", RC, SPIEGELHALTER, 0.1, True),
    "ae_sr_shmi": ("ae", "breaches", "expected_breaches", "org_code", SR, SHMI, 0.1, True),
    "ae_sr_cqc": ("ae", "breaches", "expected_breaches", "org_code", SR, SPIEGELHALTER, 0.1, True),
    "ae_sr_shmi_unadjusted": ("ae", "breaches", "expected_breaches", "org_code", SR, SHMI, 0.1, False),
}


def _run(name: str, overdispersion: bool | None = None) -> pl.DataFrame:
    source, numerator, denominator, group, data_type, method, trim, adjust = CASES[name]
    return funnel(
        INPUTS[source](),
        numerator=numerator,
        denominator=denominator,
        group=group,
        data_type=data_type,
        method=method,
        trim=trim,
        overdispersion=adjust if overdispersion is None else overdispersion,
    )


def _reference(name: str) -> pl.DataFrame:
    ref = pl.read_csv(FIXTURES / "reference" / f"funnel_{name}.csv", infer_schema=False)
    numbers = [c for c in ref.columns if c not in ("group", "adjusted")]
    return ref.with_columns(
        [pl.col(c).replace({"NA": None, "NaN": None}).cast(pl.Float64) for c in numbers]
    ).with_columns(adjusted=pl.col("adjusted") == "TRUE")


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b))) if len(a) else 0.0


def compare_with_reference(name: str) -> dict[str, float]:
    """Assert agreement with the reference (and the documented differences); return the largest absolute
    difference per column where agreement is expected."""
    _, _, _, _, data_type, method, _, overdispersion = CASES[name]
    ours = _run(name)
    ref = _reference(name)
    assert ours.height == ref.height
    j = ref.join(ours, on="group", how="left", suffix="_ours")
    assert j["value"].null_count() == 0, "a reference unit is missing from the result"
    gaps = {}
    for theirs, mine in (
        ("numerator", "numerator_ours"),
        ("denominator", "denominator_ours"),
        ("rr", "value"),
        ("Uzscore", "z"),
        ("target", "target_ours"),
    ):
        gaps[mine.removesuffix("_ours")] = _gap(j[theirs].to_numpy(), j[mine].to_numpy())

    adjusted = bool(j["adjusted"][0])
    assert bool(j["adjusted_ours"][0]) == adjusted
    # Deliberate: phi is reported even when the adjustment is off (FunnelPlotR reports 0) ...
    if overdispersion:
        gaps["phi"] = abs(j["phi"][0] - j["phi_ours"][0])
    else:
        assert j["phi"][0] == 0 and j["phi_ours"][0] == _run(name, overdispersion=True)["phi"][0]
    # ... and tau2 is the variance applied: 0 when the limits are unadjusted (FunnelPlotR can report a
    # positive tau2 it does not apply, when 1 - 1/n <= phi <= 1)
    if adjusted:
        gaps["tau2"] = abs(j["tau2"][0] - j["tau2_ours"][0])
    else:
        assert (j["tau2_ours"] == 0).all()

    names = ("OD95LCL", "OD95UCL", "OD99LCL", "OD99UCL") if adjusted else ("LCL95", "UCL95", "LCL99", "UCL99")
    for theirs, mine, z, lower in zip(
        names,
        ("lcl95", "ucl95", "lcl998", "ucl998"),
        (Z95, Z95, Z998, Z998),
        (True, False, True, False),
        strict=True,
    ):
        reference = j[theirs].to_numpy()
        result = j[mine].to_numpy()
        if data_type == SR and method == SPIEGELHALTER and adjusted:
            # Deliberate: FunnelPlotR leaves the square-root-scale limits unsquared (its issue #33)
            expected = np.where(reference > 0, reference, 0.0) ** 2 if lower else reference**2
        elif data_type == PR:
            # Deliberate: beyond the ends of the arcsine scale the limit is 0 or 1; FunnelPlotR decides this
            # by comparing with the next point of its plotting grid, and can keep a wrapped value
            tau2 = j["tau2_ours"][0]
            centre = math.asin(math.sqrt(j["target_ours"][0]))
            spread = z * np.sqrt((1 / (2 * np.sqrt(j["denominator_ours"].to_numpy()))) ** 2 + tau2)
            beyond = (centre - spread <= 0) if lower else (centre + spread >= math.pi / 2)
            assert (result[beyond] == (0.0 if lower else 1.0)).all()
            wrapped = np.sin(centre - spread if lower else centre + spread) ** 2
            assert np.all(
                (reference[beyond] == result[beyond]) | (np.abs(reference - wrapped)[beyond] < 1e-12)
            )
            expected = np.where(beyond, result, reference)
        else:
            expected = reference
        gaps[mine] = _gap(expected, result)

    # our flags follow our limits; FunnelPlotR's agree with them wherever the limits agree
    value = j["value"].to_numpy()
    for flag, mine, (low, high), (ref_low, ref_high) in (
        ("outlier95", "outlier_95", ("lcl95", "ucl95"), names[:2]),
        ("outlier99", "outlier_998", ("lcl998", "ucl998"), names[2:]),
    ):
        ours_flag = (j[mine] != "none").to_numpy()
        assert (ours_flag == ((value > j[high].to_numpy()) | (value < j[low].to_numpy()))).all()
        same_limits = (np.abs(j[low].to_numpy() - j[ref_low].to_numpy()) <= TOLERANCE) & (
            np.abs(j[high].to_numpy() - j[ref_high].to_numpy()) <= TOLERANCE
        )
        theirs = j[flag].to_numpy() == 1
        assert (ours_flag == theirs)[same_limits].all(), f"{name}: {flag} differs"
    for column, gap in gaps.items():
        assert gap <= TOLERANCE, f"{name}: {column} differs by {gap}"
    return gaps


@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_funnelplotr(name: str) -> None:
    compare_with_reference(name)


def test_reference_cases_cover_both_outcomes() -> None:
    adjusted = {bool(_reference(name)["adjusted"][0]) for name in CASES}
    assert adjusted == {True, False}
    flagged = sum(int(_reference(name)["outlier95"].sum()) for name in CASES)
    assert flagged > 50


# ---- the method by hand ---------------------------------------------------------------------------------


def test_r_quantile_and_rounding() -> None:
    x = np.array([5.0, 1.0, 3.0, 2.0, 4.0])
    assert r_quantile7(x, 0.1) == pytest.approx(1.4)
    assert r_quantile7(x, 0.9) == pytest.approx(4.6)
    assert list(winsorise(x, 0.1)) == pytest.approx([4.6, 1.4, 3.0, 2.0, 4.0])
    # R's round(): the nearer candidate, the even one on an exact tie
    assert list(r_round(np.array([0.125, 0.375, 2.675, 1.005, 12.3456, -0.125]), 2)) == [
        0.12,
        0.38,
        2.67,
        1.0,
        12.35,
        -0.12,
    ]


def test_truncation_drops_the_outer_ranks() -> None:
    z = np.arange(20, dtype=float)[::-1]
    kept = truncate(z, 0.1)
    # 20 units, trim 10%: rank r is kept when 0 < floor(10 r / 21) < 9, i.e. ranks 3 to 18
    assert np.isnan(kept).sum() == 4
    assert set(np.flatnonzero(np.isnan(kept))) == {0, 1, 18, 19}


def test_dispersion_and_tau2_by_hand() -> None:
    frame = pl.DataFrame(
        {
            "g": list("abcdefghij"),
            "o": [10, 30, 25, 60, 80, 45, 12, 90, 40, 66],
            "n": [100, 120, 150, 200, 260, 300, 90, 310, 180, 240],
        }
    )
    result = funnel(frame, numerator="o", denominator="n", group="g", data_type="proportion", trim=0.1)
    o, n = frame["o"].to_numpy().astype(float), frame["n"].to_numpy().astype(float)
    p = o.sum() / n.sum()
    s = 1 / (2 * np.sqrt(n))
    z = (np.arcsin(np.sqrt(o / n)) - np.arcsin(np.sqrt(p))) / s
    lo, hi = np.quantile(z, [0.1, 0.9])
    w = np.clip(z, lo, hi)
    phi = np.mean(w**2)
    weights = 1 / s**2
    tau2 = max(0.0, (len(z) * phi - (len(z) - 1)) / (weights.sum() - (weights**2).sum() / weights.sum()))
    assert result["phi"][0] == pytest.approx(phi, rel=1e-12)
    assert result["tau2"][0] == pytest.approx(tau2, rel=1e-12)
    assert result["z"].to_list() == pytest.approx(list(z), rel=1e-12)
    assert result["adjusted"][0] and phi > 1
    spread = Z95 * np.sqrt(s**2 + tau2)
    assert result["ucl95"].to_list() == pytest.approx(
        list(np.sin(np.arcsin(np.sqrt(p)) + spread) ** 2), rel=1e-12
    )
    assert result["z_adjusted"].to_list() == pytest.approx(list(z * s / np.sqrt(s**2 + tau2)), rel=1e-12)
    # no overdispersion wanted: phi still reported, tau2 0, plain limits
    plain = funnel(
        frame, numerator="o", denominator="n", group="g", data_type="proportion", overdispersion=False
    )
    assert plain["phi"][0] == pytest.approx(phi) and plain["tau2"][0] == 0 and not plain["adjusted"][0]
    assert plain["ucl95"].to_list() == pytest.approx(list(np.sin(np.arcsin(np.sqrt(p)) + Z95 * s) ** 2))
    assert dersimonian_laird(10, 0.5, s) == 0.0


def test_exact_poisson_limits_when_unadjusted() -> None:
    frame = pl.DataFrame({"g": ["a", "b", "c"], "o": [9.0, 11.0, 10.0], "e": [10.0, 10.0, 10.0]})
    result = funnel(
        frame, numerator="o", denominator="e", group="g", data_type="standardised-ratio", overdispersion=False
    )
    # the exact 95% interval for a Poisson count of 10 is (4.795, 18.39): over an expected 10
    assert result["lcl95"][0] == pytest.approx(chi2.ppf(0.025, 20) / 2 / 10, rel=1e-12)
    assert result["ucl95"][0] == pytest.approx(chi2.ppf(0.975, 22) / 2 / 10, rel=1e-12)
    assert result["lcl95"][0] == pytest.approx(0.4795, abs=1e-4)
    assert result["ucl95"][0] == pytest.approx(1.8390, abs=1e-4)
    assert result["lcl998"][0] == pytest.approx(chi2.ppf(0.001, 20) / 2 / 10, rel=1e-12)
    assert result["target"][0] == 1.0


def test_shmi_rounds_expected_and_uses_the_log_scale() -> None:
    frame = pl.DataFrame(
        {
            "g": list("abcdefghijkl"),
            "o": [12, 60, 10, 61, 120, 30, 12, 150, 20, 66, 40, 33],
            "e": [10.004, 33.3, 22.1, 55.555, 81.0, 52.0, 15.0, 80.2, 41.0, 60.0, 25.0, 30.0],
        }
    )
    result = funnel(
        frame, numerator="o", denominator="e", group="g", data_type="standardised-ratio", method="shmi"
    )
    assert result["denominator"][0] == 10.0 and result["denominator"][3] == 55.56
    assert result["value"][0] == pytest.approx(12 / 10.004)
    assert result["z"][0] == pytest.approx(math.sqrt(10.0) * math.log(12 / 10.0))
    tau2 = result["tau2"][0]
    assert result["adjusted"][0] and tau2 > 0
    assert result["ucl95"][0] == pytest.approx(math.exp(Z95 * math.sqrt(1 / 10.0 + tau2)), rel=1e-12)


def test_outlier_status_and_orientation() -> None:
    frame = pl.DataFrame(
        {
            "g": ["low", "mid", "high", "alert"],
            "o": [20.0, 100.0, 200.0, 125.0],
            "e": [100.0, 100.0, 100.0, 100.0],
        }
    )
    result = funnel(
        frame, numerator="o", denominator="e", group="g", data_type="standardised-ratio", overdispersion=False
    ).sort("group")
    status = dict(zip(result["group"], result["outlier_status"], strict=True))
    assert status == {"alert": "alert_high", "high": "alarm_high", "low": "alarm_low", "mid": "none"}
    assert dict(zip(result["group"], result["outlier_95"], strict=True))["high"] == "high"
    worse_high = orient_outliers(result, "decrease")
    assert dict(zip(worse_high["group"], worse_high["outlier_status"], strict=True)) == {
        "alert": "alert_worse",
        "high": "alarm_worse",
        "low": "alarm_better",
        "mid": "none",
    }
    assert (
        orient_outliers(result, "neutral")["outlier_status"].to_list() == result["outlier_status"].to_list()
    )
    assert judge("high", "increase") == "better" and judge("low", "increase") == "worse"
    assert judge("none", "decrease") == "none"
    with pytest.raises(StatsInputError):
        orient_outliers(result, "up")


def test_no_overdispersion_detected_gives_unadjusted_limits() -> None:
    frame = pl.DataFrame({"g": list("abcdef"), "o": [50.0, 51.0, 49.0, 50.0, 52.0, 48.0], "e": [50.0] * 6})
    result = funnel(frame, numerator="o", denominator="e", group="g", data_type="standardised-ratio")
    assert result["phi"][0] < 1 and not result["adjusted"][0] and result["tau2"][0] == 0
    assert result["lcl95"][0] == pytest.approx(chi2.ppf(0.025, 100) / 2 / 50)


def test_bad_input() -> None:
    frame = pl.DataFrame({"g": ["a", "b", "c"], "o": ["1", "2", "x"], "n": [10, 10, 10]})
    with pytest.raises(StatsInputError, match=r"column 'num' not found"):
        funnel(frame, numerator="num", denominator="n", group="g")
    with pytest.raises(StatsInputError, match=r"column 'o' is not a number in row 3: 'x'"):
        funnel(frame, numerator="o", denominator="n", group="g")
    good = frame.with_columns(o=pl.Series([1, 2, 3]))
    with pytest.raises(StatsInputError, match="not a proportion"):
        funnel(good.with_columns(o=pl.Series([1, 20, 3])), numerator="o", denominator="n", group="g")
    with pytest.raises(StatsInputError, match="negative in row 2"):
        funnel(good.with_columns(o=pl.Series([1, -2, 3])), numerator="o", denominator="n", group="g")
    with pytest.raises(StatsInputError, match="total 'n' of 0"):
        funnel(good.with_columns(n=pl.Series([10, 0, 10])), numerator="o", denominator="n", group="g")
    with pytest.raises(StatsInputError, match="trim"):
        funnel(good, numerator="o", denominator="n", group="g", method="shmi", trim=0)
    with pytest.raises(StatsInputError, match="data type"):
        funnel(good, numerator="o", denominator="n", group="g", data_type="count")
    zero = pl.DataFrame({"g": ["a", "b", "c"], "o": [0, 5, 9], "e": [4.0, 5.0, 6.0]})
    with pytest.raises(StatsInputError, match="group 'a' has an infinite z-score"):
        funnel(zero, numerator="o", denominator="e", group="g", data_type="standardised-ratio", method="shmi")
    assert (
        funnel(
            zero,
            numerator="o",
            denominator="e",
            group="g",
            data_type="standardised-ratio",
            method="shmi",
            overdispersion=False,
        )["z"][0]
        == -math.inf
    )
    with pytest.raises(StatsInputError, match="no value in row 2"):
        funnel(good.with_columns(g=pl.Series(["a", None, "c"])), numerator="o", denominator="n", group="g")


def test_rows_are_summed_per_group() -> None:
    frame = pl.DataFrame({"g": ["b", "a", "b", "a"], "o": [1, 2, 3, 4], "n": [10, 20, 30, 40]})
    result = funnel(frame, numerator="o", denominator="n", group="g", overdispersion=False)
    assert result["group"].to_list() == ["a", "b"]
    assert result["numerator"].to_list() == [6.0, 4.0] and result["denominator"].to_list() == [60.0, 40.0]
    assert result.columns == list(FUNNEL_COLUMNS)


# ---- the command line -----------------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    """The `nqs` front door itself, as an analyst runs it."""
    return main(argv)


def test_cli_writes_the_same_as_the_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "funnel.csv"
    code = run_cli(
        [
            "funnel",
            "--input",
            str(FIXTURES / "inputs" / "funnel_medpar_by_provider.csv"),
            "--numerator",
            "los",
            "--denominator",
            "prds",
            "--group",
            "provnum",
            "--type",
            "standardised-ratio",
            "--method",
            "shmi",
            "--trim",
            "0.2",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    written = pl.read_csv(out, schema_overrides={"group": pl.String})
    expected = _run("medpar_provider_sr_shmi_trim20")
    assert written.columns == list(FUNNEL_COLUMNS)
    assert written["outlier_status"].to_list() == expected["outlier_status"].to_list()
    assert np.allclose(written["ucl998"].to_numpy(), expected["ucl998"].to_numpy(), rtol=0, atol=1e-12)
    assert "overdispersion-adjusted" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        ("unit,o,n\na,1,10\n", ["--group", "trust"], "column 'trust' not found"),
        ("unit,o,n\na,1,10\nb,two,10\n", [], "column 'o' is not a number in row 2: 'two'"),
        ("unit,o,n\na,1,10\n", ["--method", "shmi", "--trim", "0"], "trim must be above 0"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, arguments: list[str], message: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content)
    argv = [
        "funnel",
        "--input",
        str(source),
        "--numerator",
        "o",
        "--denominator",
        "n",
        "--group",
        "unit",
        "--type",
        "proportion",
        "--output",
        str(tmp_path / "out.csv"),
        *arguments,
    ]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("nqs funnel: error: ")
    assert not (tmp_path / "out.csv").exists()


def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "funnel",
        "--input",
        str(tmp_path / "nope.csv"),
        "--numerator",
        "o",
        "--denominator",
        "n",
        "--group",
        "g",
        "--type",
        "ratio",
        "--output",
        str(tmp_path / "out.csv"),
    ]
    assert run_cli(argv) == 2
    assert "input file not found" in capsys.readouterr().err
