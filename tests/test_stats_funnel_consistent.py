"""Funnel statistics beyond FunnelPlotR: rates of events per exposure, and a consistent tau².

Worked examples by hand, and on units drawn with a known normal between-unit effect, the share of units
beyond the 95% limit on one side against its nominal 2.5%.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy.stats import chi2, norm

from nqs.stats import StatsInputError, funnel
from nqs.stats.funnel import (
    Z95,
    funnel_limits,
    paule_mandel,
    trimmed_normal_phi,
    truncate,
    winsorise,
)


def test_trimmed_normal_phi_is_the_mean_square_of_trimmed_standard_normal_z_scores() -> None:
    # by hand: q = 1.28155 (the 90% quantile), φ(q) = 0.17550, E[Z²; |Z| < q] = 0.8 - 2 q φ(q) = 0.35018
    q = norm.ppf(0.9)
    inner = 0.8 - 2 * q * norm.pdf(q)
    assert inner == pytest.approx(0.35018, abs=1e-5)
    assert trimmed_normal_phi(0.1, "spiegelhalter") == pytest.approx(inner + 0.2 * q**2)
    assert trimmed_normal_phi(0.1, "spiegelhalter") == pytest.approx(0.6786, abs=1e-4)
    assert trimmed_normal_phi(0.1, "shmi") == pytest.approx(inner / 0.8)
    assert trimmed_normal_phi(0.0, "spiegelhalter") == 1.0
    # and on a large standard normal sample
    z = np.random.default_rng(1).standard_normal(400_000)
    assert np.mean(winsorise(z, 0.1) ** 2) == pytest.approx(
        trimmed_normal_phi(0.1, "spiegelhalter"), rel=0.01
    )
    kept = truncate(z, 0.1)
    assert np.nanmean(kept**2) == pytest.approx(trimmed_normal_phi(0.1, "shmi"), rel=0.01)


def test_paule_mandel_without_trimming_solves_the_moment_equation_by_hand() -> None:
    # equal standard errors, no trimming: mean((y - θ)² / (s² + τ²)) = 1, so τ² = mean((y - θ)²) - s²
    y = np.array([0.9, 1.3, 0.6, 1.4, 0.8])
    s = np.full(5, 0.1)
    phi, tau2 = paule_mandel(y, s, 1.0, 0.0, "spiegelhalter")
    assert phi == pytest.approx(np.mean((y - 1.0) ** 2) / 0.01)
    assert tau2 == pytest.approx(np.mean((y - 1.0) ** 2) - 0.01, rel=1e-9)
    # within chance: phi <= 1, no between-unit variance
    phi, tau2 = paule_mandel(np.array([1.05, 0.95, 1.0]), np.full(3, 0.1), 1.0, 0.0, "spiegelhalter")
    assert phi < 1 and tau2 == 0.0


@pytest.mark.parametrize("method", ["spiegelhalter", "shmi"])
def test_paule_mandel_brings_the_trimmed_adjusted_z_scores_to_standard_normal_spread(method: str) -> None:
    rng = np.random.default_rng(3)
    s = 1 / np.sqrt(rng.uniform(50, 5000, 200))
    y = rng.normal(0, np.sqrt(s**2 + 0.01))
    phi, tau2 = paule_mandel(y, s, 0.0, 0.1, method)
    z = y / np.sqrt(s**2 + tau2)
    kept = truncate(z, 0.1) if method == "shmi" else winsorise(z, 0.1)
    assert np.nanmean(kept**2) == pytest.approx(trimmed_normal_phi(0.1, method), rel=1e-9)
    assert phi > 1 and tau2 == pytest.approx(0.01, rel=0.35)


def _draw(rng: np.random.Generator, data_type: str, tau: float, units: int = 150) -> pl.DataFrame:
    """Units with a normal between-unit effect of sd `tau` on the funnel's own scale."""
    if data_type == "proportion":
        n = np.round(np.exp(rng.normal(np.log(2000), 0.7, units)))
        angle = np.clip(math.asin(math.sqrt(0.2)) + rng.normal(0, tau, units), 0, math.pi / 2)
        return pl.DataFrame(
            {"g": np.arange(units).astype(str), "o": rng.binomial(n.astype(int), np.sin(angle) ** 2), "n": n}
        )
    exposure = np.exp(rng.normal(np.log(30_000), 0.7, units))
    root = np.clip(1 + rng.normal(0, tau, units), 0, None)  # √(rate / national rate)
    return pl.DataFrame(
        {"g": np.arange(units).astype(str), "o": rng.poisson(0.004 * exposure * root**2), "n": exposure}
    )


@pytest.mark.parametrize("data_type", ["proportion", "rate"])
def test_consistent_tau2_flags_the_nominal_share_where_funnelplotr_flags_twice_as_many(
    data_type: str,
) -> None:
    rng = np.random.default_rng(11)
    share = {"dersimonian-laird": [], "paule-mandel": []}
    for _ in range(60):
        units = _draw(rng, data_type, 0.05 if data_type == "proportion" else 0.12)
        for tau2_method, shares in share.items():
            result = funnel(
                units, numerator="o", denominator="n", group="g", data_type=data_type, tau2_method=tau2_method
            )
            shares.append(float((result["outlier_95"] == "high").mean()))
    dl, pm = np.mean(share["dersimonian-laird"]), np.mean(share["paule-mandel"])
    assert dl > 0.045  # a third of tau² missing: limits at about 1.6 standard deviations
    assert 0.015 < pm < 0.035


def test_rate_is_a_standardised_ratio_against_the_overall_rate_by_hand() -> None:
    frame = pl.DataFrame(
        {"g": ["a", "b", "c", "d", "e"], "o": [12, 30, 4, 45, 9], "n": [3000.0, 6000, 2000, 9000, 2500]}
    )
    rate = 100 / 22_500
    result = funnel(frame, numerator="o", denominator="n", group="g", data_type="rate", overdispersion=False)
    assert result["target"][0] == pytest.approx(rate)
    a = result.row(0, named=True)
    expected = rate * 3000
    assert a["value"] == pytest.approx(12 / 3000)
    assert a["z"] == pytest.approx(2 * (math.sqrt(12) - math.sqrt(expected)))
    # unadjusted: exact Poisson limits on the expected count, over the exposure
    assert a["lcl95"] == pytest.approx(chi2.ppf(0.025, 2 * expected) / 2 / 3000)
    assert a["ucl95"] == pytest.approx(chi2.ppf(0.975, 2 * (expected + 1)) / 2 / 3000)
    assert a["ucl998"] == pytest.approx(chi2.ppf(0.999, 2 * (expected + 1)) / 2 / 3000)
    # adjusted: on the square-root scale with tau², squared back and times the rate
    limits = funnel_limits("rate", "spiegelhalter", np.array([3000.0]), rate, 0.02, True)
    spread = Z95 * math.sqrt(1 / (4 * expected) + 0.02)
    assert limits[1][0] == pytest.approx(rate * (1 + spread) ** 2)
    assert limits[0][0] == pytest.approx(rate * (1 - spread) ** 2)


def test_rate_with_no_events_anywhere_is_refused() -> None:
    frame = pl.DataFrame({"g": ["a", "b"], "o": [0, 0], "n": [10.0, 20.0]})
    with pytest.raises(StatsInputError, match="no rate to compare"):
        funnel(frame, numerator="o", denominator="n", group="g", data_type="rate")
    with pytest.raises(StatsInputError, match="tau2 method"):
        funnel(frame, numerator="o", denominator="n", group="g", tau2_method="dl")


def test_paule_mandel_brackets_tau2_when_a_unit_has_no_events_on_the_log_scale() -> None:
    # SHMI's log scale puts a unit with 0 observed at -inf; truncation leaves it out, and tau² is what it
    # is for the other units alone (the lowest-ranked unit is truncated either way)
    rng = np.random.default_rng(3)
    expected = rng.uniform(5, 500, 100)
    observed = rng.poisson(expected * rng.lognormal(0, 0.3, 100)).astype(float)
    s = 1 / np.sqrt(expected)
    with_zero = observed.copy()
    with_zero[np.argmin(observed / expected)] = 0
    with np.errstate(divide="ignore"):
        phi, tau2 = paule_mandel(np.log(with_zero / expected), s, 0.0, 0.1, "shmi")
        phi_before, tau2_before = paule_mandel(np.log(observed / expected), s, 0.0, 0.1, "shmi")
    assert phi > 1 and math.isfinite(tau2) and tau2 > 0
    assert (phi, tau2) == pytest.approx((phi_before, tau2_before), rel=1e-9)
