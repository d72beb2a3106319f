"""Funnel plots of means and medians: the normal approximation, target ± z·sd/√n, by hand and under the null.

FunnelPlotR has no such data type, so the worked examples below are computed by hand (Spiegelhalter 2005,
"Funnel plots for comparing institutional performance", section 3.4 and appendix A.1.3: a mean with a
known standard deviation; "Handling over-dispersion of performance indicators": the winsorised dispersion
ratio and the additive random-effects tau²).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from nqs.cli import main
from nqs.stats import FUNNEL_COLUMNS, StatsInputError, funnel, funnel_limits
from nqs.stats.funnel import Z95, Z998

# four units: means 52, 49, 50.5 and 56 of 25, 100, 400 and 100 observations, sd 10 around 50: standard
# errors 2, 1, 0.5 and 1, so z-scores 1, -1, 1 and 6
MEANS = pl.DataFrame(
    {
        "unit": ["a", "b", "c", "d"],
        "total": [52.0 * 25, 49.0 * 100, 50.5 * 400, 56.0 * 100],
        "n": [25, 100, 400, 100],
        "median": [52.0, 49.0, 50.5, 56.0],
    }
)

#: around 50 with sd 10, no overdispersion adjustment
UNADJUSTED = {"denominator": "n", "group": "unit", "target": 50.0, "sd": 10.0, "overdispersion": False}


def test_mean_by_hand_unadjusted() -> None:
    result = funnel(MEANS, numerator="total", data_type="mean", **UNADJUSTED)
    assert result.columns == list(FUNNEL_COLUMNS)
    assert result["value"].to_list() == pytest.approx([52, 49, 50.5, 56])
    assert result["z"].to_list() == pytest.approx([1, -1, 1, 6])
    assert result["ucl95"][0] == pytest.approx(50 + Z95 * 2)
    assert result["lcl998"][2] == pytest.approx(50 - Z998 * 0.5)
    assert result["outlier_status"].to_list() == ["none", "none", "none", "alarm_high"]
    assert result["target"][0] == 50.0 and result["sd"][0] == 10.0 and result["tau2"][0] == 0.0


def test_mean_target_defaults_to_the_overall_mean() -> None:
    result = funnel(MEANS, numerator="total", denominator="n", group="unit", data_type="mean", sd=10.0)
    assert result["target"][0] == pytest.approx(32000 / 625)  # 51.2


def test_mean_overdispersion_by_hand() -> None:
    """z = 1, -1, 1, 6 winsorised at the 10% and 90% type-7 quantiles (-0.4, 4.5): phi = (1 + 0.16 + 1 +
    20.25) / 4 = 5.6025; weights 1/s² = 0.25, 1, 4, 1, so tau² = (4 x 5.6025 - 3) / (6.25 - 18.0625 /
    6.25) = 19.41 / 3.36."""
    result = funnel(
        MEANS, numerator="total", denominator="n", group="unit", data_type="mean", target=50.0, sd=10.0
    )
    assert result["phi"][0] == pytest.approx(5.6025)
    tau2 = 19.41 / 3.36
    assert result["tau2"][0] == pytest.approx(tau2) and result["adjusted"][0]
    assert result["ucl95"][3] == pytest.approx(50 + Z95 * math.sqrt(1 + tau2))
    assert result["z_adjusted"][3] == pytest.approx(6 / math.sqrt(1 + tau2))
    # overdispersion allowed for, 56 is within 50 ± 3.09 x sqrt(1 + 5.78) = 58.04, beyond 55.10: an alert
    assert result["outlier_status"][3] == "alert_high"
    lcl95, ucl95, _, ucl998 = funnel_limits(
        "mean", "spiegelhalter", np.array([100.0]), 50.0, tau2, True, 10.0
    )
    assert ucl95[0] == pytest.approx(result["ucl95"][3]) and ucl998[0] == pytest.approx(result["ucl998"][3])


def test_median_by_hand() -> None:
    result = funnel(MEANS, value="median", data_type="median", **UNADJUSTED)
    assert result["z"].to_list() == pytest.approx([1, -1, 1, 6])
    assert result["numerator"].is_null().all()
    assert result["lcl95"][1] == pytest.approx(50 - Z95)


def test_each_data_type_takes_its_own_inputs() -> None:
    mean = {"numerator": "total", "denominator": "n", "group": "unit", "data_type": "mean"}
    with pytest.raises(StatsInputError, match="positive standard deviation"):
        funnel(MEANS, **mean)
    with pytest.raises(StatsInputError, match="positive standard deviation"):
        funnel(MEANS, **mean, sd=0.0)
    median = {"value": "median", "denominator": "n", "group": "unit", "data_type": "median", "sd": 10.0}
    with pytest.raises(StatsInputError, match="needs the target"):
        funnel(MEANS, **median)
    with pytest.raises(StatsInputError, match="not a numerator"):
        funnel(MEANS, **median, target=50.0, numerator="total")
    with pytest.raises(StatsInputError, match="more than one row"):
        funnel(pl.concat([MEANS, MEANS.head(1)]), **median, target=50.0)
    with pytest.raises(StatsInputError, match="takes no sd"):
        funnel(MEANS, numerator="total", denominator="n", group="unit", data_type="proportion", sd=1.0)
    # a mean of negative observations (a score that fell) is a mean like any other
    falling = MEANS.with_columns(pl.col("total") * -1)
    assert funnel(falling, **mean, sd=10.0)["value"][0] == -52.0


@pytest.mark.parametrize("data_type", ["mean", "median"])
def test_no_more_than_the_nominal_rate_when_no_unit_differs(data_type: str) -> None:
    """200 units of 50 to 3,000 observations drawn from one skewed distribution (a gamma, like waits in
    minutes), 20 times: the share flagged beyond each limit is at most its nominal rate (5%, 0.2%), with
    a little room for chance. A median's sd is 1 / (2 f(median)), f estimated from the 45th and 55th
    percentiles of all observations, as the warehouse does."""
    rng = np.random.default_rng(7)
    flagged_95, flagged_998 = [], []
    for _ in range(20):
        n = rng.integers(50, 3000, 200)
        observations = [rng.gamma(1.5, 600.0, k) for k in n]
        everything = np.concatenate(observations)
        frame = pl.DataFrame(
            {
                "unit": [f"u{i}" for i in range(200)],
                "total": [o.sum() for o in observations],
                "median": [float(np.median(o)) for o in observations],
                "n": n,
            }
        )
        if data_type == "mean":
            options = {"numerator": "total", "sd": float(everything.std(ddof=1))}
        else:
            q45, q55 = np.quantile(everything, [0.45, 0.55])
            sd = (q55 - q45) / (4 * 0.05)
            options = {"value": "median", "sd": float(sd), "target": float(np.median(everything))}
        result = funnel(frame, denominator="n", group="unit", data_type=data_type, **options)
        flagged_95.append((result["outlier_95"] != "none").mean())
        flagged_998.append((result["outlier_998"] != "none").mean())
    assert np.mean(flagged_95) <= 0.05 + 0.01
    assert np.mean(flagged_998) <= 0.002 + 0.002


def test_cli_takes_a_mean_and_a_median(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "units.csv"
    MEANS.write_csv(source)
    out = tmp_path / "out.csv"
    code = main(
        [
            "funnel",
            "--input",
            str(source),
            *("--value", "median", "--denominator", "n", "--group", "unit", "--type", "median"),
            *("--target", "50", "--sd", "10", "--no-overdispersion", "--output", str(out)),
        ]
    )
    assert code == 0, capsys.readouterr().err
    written = pl.read_csv(out)
    assert written["outlier_status"].to_list() == ["none", "none", "none", "alarm_high"]
    code = main(
        [
            "funnel",
            "--input",
            str(source),
            *("--numerator", "total", "--denominator", "n", "--group", "unit", "--type", "mean"),
            *("--output", str(out)),
        ]
    )
    assert code == 2 and "standard deviation" in capsys.readouterr().err
