"""Funnel plots for comparing units of different sizes, with an overdispersion adjustment.

`funnel()` follows FunnelPlotR's `funnel_plot()` (data types "PR", "RC", "SR"): z-scores on a
variance-stabilising scale, a dispersion ratio phi from z-scores winsorised (Spiegelhalter) or truncated
(the SHMI method), the DerSimonian-Laird between-unit variance tau², and 95% / 99.8% limits around the
target. Means and medians (data types "mean", "median", which FunnelPlotR has not) use the normal
approximation, target ± z·sd/√n, with the same overdispersion treatment; rates (a count per unit of
exposure, "rate") are Poisson, compared as the ratio of observed to expected events at the overall rate.
`tau2_method="paule-mandel"` estimates tau² so that the winsorised (truncated) adjusted z-scores have
the spread standard normal ones have once winsorised (truncated) alike, instead of FunnelPlotR's
DerSimonian-Laird from a winsorised phi, which understates tau². README.md beside this file lists where
and why it deliberately differs.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import polars as pl
from scipy.optimize import brentq
from scipy.special import chdtri
from scipy.stats import norm, rankdata

from nqs.stats._common import StatsInputError, label_column, numeric_column, r_sum, require_columns

DataType = Literal["proportion", "ratio", "rate", "standardised-ratio", "mean", "median"]
Method = Literal["spiegelhalter", "shmi"]
Tau2Method = Literal["dersimonian-laird", "paule-mandel"]
Improvement = Literal["increase", "decrease", "neutral"]

DATA_TYPES = ("proportion", "ratio", "rate", "standardised-ratio", "mean", "median")
#: data types compared on the normal approximation of a mean or median: target ± z·sd/√n
NORMAL_TYPES = ("mean", "median")
METHODS = ("spiegelhalter", "shmi")
TAU2_METHODS = ("dersimonian-laird", "paule-mandel")

# The normal quantiles for 95% and 99.8% two-sided limits, to the 6 decimals the reference uses.
Z95 = 1.959964
Z998 = 3.090232

FUNNEL_COLUMNS = (
    "group",
    "numerator",
    "denominator",
    "value",
    "z",
    "z_adjusted",
    "lcl95",
    "ucl95",
    "lcl998",
    "ucl998",
    "outlier_95",
    "outlier_998",
    "outlier_status",
    "adjusted",
    "phi",
    "tau2",
    "target",
    "sd",
)


# ---- arithmetic as the reference does it ---------------------------------------------------------------


def r_round(x: np.ndarray, digits: int) -> np.ndarray:
    """R's `round(x, digits)` (R >= 4.0): the nearer of the two candidates either side of x, the even one
    on a tie. (Python's round() and numpy's differ from it on rare inputs.)"""
    x = np.asarray(x, dtype=float)
    sign = np.sign(x)
    a = np.abs(x)
    pow10 = 10.0**digits
    x10 = pow10 * a
    i10 = np.floor(x10)
    down = i10 / pow10
    up = np.ceil(x10) / pow10
    du = up - a
    dd = a - down
    rounded = np.where((du < dd) | ((du == dd) & (np.fmod(i10, 2.0) == 1)), up, down)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.frexp(a)[1] - 1.0  # C's logb()
        too_precise = digits + (exponent + 0.5) * 0.30102999566398119521 > 15
    rounded = np.where(too_precise | (a == 0) | ~np.isfinite(a), a, rounded)
    return sign * rounded


def r_quantile7(x: np.ndarray, p: float) -> float:
    """R's default (type 7) sample quantile."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    index = 1 + max(n - 1, 0) * p
    lo = math.floor(index)
    hi = math.ceil(index)
    q = x[lo - 1]
    if index > lo and x[hi - 1] != q:
        h = index - lo
        q = (1 - h) * q + h * x[hi - 1]
    return float(q)


def winsorise(z: np.ndarray, trim: float) -> np.ndarray:
    """z-scores pulled in to the trim and 1 - trim quantiles."""
    lower = r_quantile7(z, trim)
    upper = r_quantile7(z, 1 - trim)
    return np.where(z < lower, lower, np.where(z > upper, upper, z))


def truncate(z: np.ndarray, trim: float) -> np.ndarray:
    """z-scores with the outer `trim` of the ranks at each end set to NaN (the SHMI method)."""
    k = 1 / trim
    ranks = rankdata(z, method="average")
    band = np.floor(ranks * k / (len(z) + 1))
    return np.where((band > 0) & (band < k - 1), z, np.nan)


def dispersion(kept_z: np.ndarray) -> float:
    """phi: the mean squared (winsorised or truncated) z-score."""
    n = len(kept_z)
    return (1 / n) * r_sum(kept_z**2) if n else math.nan


def trimmed_normal_phi(trim: float, method: str) -> float:
    """The mean squared kept z-score of standard normal z-scores, winsorised (spiegelhalter) or truncated
    (shmi) at `trim` each end: what `dispersion` gives, in expectation, when there is no overdispersion.
    Winsorising at 10% keeps 0.679 of the variance, truncating 0.438, so phi from kept z-scores is the
    overdispersion times this."""
    if trim == 0:
        return 1.0
    q = float(norm.ppf(1 - trim))
    inner = (1 - 2 * trim) - 2 * q * float(norm.pdf(q))  # E[Z²; |Z| < q]
    if method == "shmi":
        return inner / (1 - 2 * trim)
    return inner + 2 * trim * q**2


def paule_mandel(
    y: np.ndarray, s: np.ndarray, centre: float, trim: float, method: str
) -> tuple[float, float]:
    """(phi, tau²): tau² such that the z-scores with tau² added to their variance, (y - centre) /
    √(s² + tau²), winsorised or truncated as `method` does, have the mean square of standard normal ones
    trimmed alike (`trimmed_normal_phi`); 0 when the unadjusted z-scores have no more than that. phi is
    the unadjusted z-scores' trimmed mean square over that of standard normal ones (1 on average when
    the units differ only by chance). The moment equation of Paule and Mandel (1982), made robust to
    outliers by the trimming, and consistent for a normal between-unit effect whatever the units' sizes,
    where a winsorised phi put into DerSimonian-Laird's formula understates tau² (by a third at 10%)."""
    expected = trimmed_normal_phi(trim, method)

    def excess(tau2: float) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (y - centre) / np.sqrt(s**2 + tau2)
        kept = truncate(z, trim) if method == "shmi" else winsorise(z, trim)
        return dispersion(kept[~np.isnan(kept)]) / expected - 1

    phi = excess(0.0) + 1
    if not (math.isfinite(phi) and phi > 1):
        return phi, 0.0
    # the bracket from the units with a finite value: a count of 0 on the log scale (SHMI) is -inf, left
    # out by the trimming when it ranks in the outer band, but it would make the variance NaN
    finite = np.isfinite(y) & np.isfinite(s)
    high = float(np.var(y[finite])) + float(np.max(s[finite] ** 2))
    while excess(high) > 0:
        high *= 4
    return phi, float(brentq(excess, 0.0, high, xtol=1e-15 * max(high, 1.0), rtol=1e-12))


def dersimonian_laird(n: int, phi: float, s: np.ndarray) -> float:
    """tau², the between-unit variance, from phi and the within-unit standard errors of the kept units."""
    if len(s) == 0 or n * phi < n - 1:
        return 0.0
    w = 1 / (s**2)
    sum_w = r_sum(w)
    denominator = sum_w - (r_sum(w**2) / sum_w)
    if not denominator > 0:
        return 0.0
    return max(0.0, (n * phi - (n - 1)) / denominator)


# ---- the transforms: (Y, its standard error, the target on Y's scale, the z-score) ---------------------


def _transform(
    data_type: str, method: str, num: np.ndarray, den: np.ndarray, target: float, sd: float | None = None
):
    with np.errstate(divide="ignore", invalid="ignore"):
        if data_type in NORMAL_TYPES:
            # `num` holds the units' values (means or medians): no transform, s.e. sd/√n
            s = sd / np.sqrt(den)
            return num, s, target, (num - target) / s
        if data_type == "rate":
            # observed events against those expected at the overall rate: a standardised ratio
            return _transform("standardised-ratio", method, num, target * den, 1.0)
        if data_type == "standardised-ratio" and method == "shmi":
            y = np.log(num / den)
            s = 1 / np.sqrt(den)
            centre = 0.0
            z = np.sqrt(den) * np.log(num / den)
            return y, s, centre, z
        if data_type == "standardised-ratio":
            y = np.sqrt(num / den)
            s = 1 / (2 * np.sqrt(den))
            centre = 1.0
        elif data_type == "proportion":
            centre = math.asin(math.sqrt(target))
            y = np.arcsin(np.sqrt(num / den))
            s = 1 / (2 * np.sqrt(den))
        else:
            centre = math.log(target)
            y = np.log((num + 0.5) / (den + 0.5))
            s = np.sqrt((num / ((num + 0.5) ** 2)) + (den / ((den + 0.5) ** 2)))
        return y, s, centre, (y - centre) / s


def _limits(
    data_type: str,
    method: str,
    den: np.ndarray,
    target: float,
    tau2: float,
    adjusted: bool,
    sd: float | None = None,
):
    """(lcl95, ucl95, lcl998, ucl998) at each denominator."""
    if data_type == "rate":
        # the limits of the ratio of observed to expected events, at the overall rate
        ratio = _limits("standardised-ratio", method, target * den, 1.0, tau2, adjusted)
        return ratio[0] * target, ratio[1] * target, ratio[2] * target, ratio[3] * target
    if data_type == "standardised-ratio" and not adjusted:
        # exact Poisson limits for an observed count against an expected count
        return (
            target * (chdtri(2 * den, 0.975) / 2) / den,
            target * (chdtri(2 * (den + 1), 0.025) / 2) / den,
            target * (chdtri(2 * den, 0.999) / 2) / den,
            target * (chdtri(2 * (den + 1), 0.001) / 2) / den,
        )
    if not adjusted:
        tau2 = 0.0
    out = []
    for z in (Z95, Z998):
        if data_type in NORMAL_TYPES:
            spread = z * np.sqrt(sd**2 / den + tau2)
            out += [target - spread, target + spread]
            continue
        if data_type == "standardised-ratio" and method == "shmi":
            spread = np.sqrt((1 / den) + tau2)
            out += [np.exp(-z * spread), np.exp(z * spread)]
            continue
        spread = z * np.sqrt((1 / (2 * np.sqrt(den))) ** 2 + tau2)
        if data_type == "standardised-ratio":
            # limits on the square-root scale, squared back to the ratio scale
            low, high = 1 - spread, 1 + spread
            out += [np.where(low > 0, low, 0.0) ** 2, high**2]
        elif data_type == "ratio":
            out += [np.exp(math.log(target) - spread), np.exp(math.log(target) + spread)]
        else:
            centre = math.asin(math.sqrt(target))
            low, high = centre - spread, centre + spread
            # beyond the ends of the arcsine scale the limit is the end of the range
            out += [
                np.where(low > 0, np.sin(low) ** 2, 0.0),
                np.where(high < math.pi / 2, np.sin(high) ** 2, 1.0),
            ]
    return out[0], out[1], out[2], out[3]


def funnel_limits(
    data_type: DataType,
    method: Method,
    denominators: np.ndarray,
    target: float,
    tau2: float,
    adjusted: bool,
    sd: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lcl95, ucl95, lcl998, ucl998) at any denominators, e.g. a grid to draw a funnel's limits, from a
    `funnel()` result's target, tau2, adjusted and (for a mean or median) sd (denominators of a
    standardised ratio with `shmi` rounded as `funnel()` rounds them)."""
    if data_type in NORMAL_TYPES and not (sd is not None and sd > 0):
        raise StatsInputError(f"a {data_type} funnel needs a positive standard deviation, not {sd!r}")
    return _limits(data_type, method, np.asarray(denominators, dtype=float), target, tau2, adjusted, sd)


# ---- the API --------------------------------------------------------------------------------------------


def funnel(
    frame: pl.DataFrame,
    *,
    numerator: str | None = None,
    denominator: str,
    group: str,
    data_type: DataType = "proportion",
    method: Method = "spiegelhalter",
    trim: float = 0.1,
    overdispersion: bool = True,
    value: str | None = None,
    target: float | None = None,
    sd: float | None = None,
    tau2_method: Tau2Method = "dersimonian-laird",
) -> pl.DataFrame:
    """Funnel-plot data, one row per unit (`group` value); rows are summed within a unit first.

    data_type: "proportion" (numerator out of denominator; target the overall proportion), "ratio"
        (a ratio of two counts; target the overall ratio), "rate" (a count of events, Poisson, per unit
        of an exposure such as bed days; target the overall rate: compared as the standardised ratio of
        the events to those expected at that rate), "standardised-ratio" (observed over expected,
        indirectly standardised; target 1), "mean" (numerator the sum of a unit's observations,
        denominator their number; target the overall mean unless `target` is given) or "median" (`value`
        the unit's median of its `denominator` observations, one row per unit; `target` required, the
        median of all observations). A mean or median is compared on the normal approximation: standard
        error `sd`/√n, `sd` (required) the standard deviation of one observation (for a mean) or the
        asymptotic standard deviation of a median, 1 / (2 f(median)), f the observations' density.
    method: "spiegelhalter" winsorises the z-scores at `trim` and 1 - `trim` before estimating
        overdispersion (for a standardised ratio: square-root scale); "shmi" instead leaves out the units
        ranked in the outer `trim` at each end (for a standardised ratio: log scale, expected counts rounded
        to 2 decimals), as NHS England's SHMI does.
    overdispersion: widen the limits by tau² when the dispersion ratio phi exceeds 1. When it is off, or
        phi <= 1, the limits are unadjusted: exact Poisson for standardised ratios and rates, tau² = 0
        otherwise.
    tau2_method: "dersimonian-laird" (FunnelPlotR's: phi the mean squared kept z-score, tau² by
        DerSimonian and Laird's formula from it) or "paule-mandel" (`paule_mandel`: phi the kept z-scores'
        mean square over that of standard normal ones trimmed alike, tau² the value that brings the
        adjusted z-scores' to it).

    Columns: see FUNNEL_COLUMNS. `value` is numerator / denominator (a median: the unit's own). `z` is the
    unadjusted z-score (FunnelPlotR's); `z_adjusted` the z-score with tau² added to its variance.
    `outlier_95` and `outlier_998` are "high", "low" or "none" against each pair of limits;
    `outlier_status` is the most severe: "alarm_high"/"alarm_low" (beyond 99.8%), "alert_high"/"alert_low"
    (beyond 95%) or "none". `phi` is the dispersion ratio; `tau2` the between-unit variance applied (0 when
    `adjusted` is false); `sd` the standard deviation of a mean or median (null otherwise).
    Raises StatsInputError for unusable input.
    """
    if data_type not in DATA_TYPES:
        raise StatsInputError(f"data type must be one of {', '.join(DATA_TYPES)}, not {data_type!r}")
    if method not in METHODS:
        raise StatsInputError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    trim_ok = 0 < trim < 0.5 if method == "shmi" else 0 <= trim < 0.5
    if not (isinstance(trim, int | float) and trim_ok):
        bound = "above 0" if method == "shmi" else "at least 0"
        raise StatsInputError(f"trim must be {bound} and below 0.5, not {trim!r}")
    if tau2_method not in TAU2_METHODS:
        raise StatsInputError(f"tau2 method must be one of {', '.join(TAU2_METHODS)}, not {tau2_method!r}")
    _check_options(data_type, numerator, value, target, sd)
    require_columns(frame, numerator, value, denominator, group)
    if frame.height == 0:
        raise StatsInputError("the input has no rows")
    observed = value if data_type == "median" else numerator
    assert observed is not None
    num_rows = numeric_column(frame, observed)
    den_rows = numeric_column(frame, denominator)
    groups = label_column(frame, group)
    checked = [denominator] if data_type in NORMAL_TYPES else [numerator, denominator]
    for name, values in ((observed, num_rows), (denominator, den_rows)):
        negative = np.flatnonzero(values < 0)
        if name in checked and len(negative):
            raise StatsInputError(
                f"column '{name}' is negative in row {negative[0] + 1}: {values[negative[0]]!r}"
            )
    if data_type == "median":
        repeated = groups.filter(groups.is_duplicated())
        if repeated.len():
            raise StatsInputError(
                f"group {repeated[0]!r} has more than one row: medians cannot be summed, give one per group"
            )

    labels, num, den = _aggregate(groups, num_rows, den_rows)
    empty = np.flatnonzero(den <= 0)
    if len(empty):
        raise StatsInputError(f"group {labels[empty[0]]!r} has a total '{denominator}' of 0")
    if data_type == "proportion":
        over = np.flatnonzero(num > den)
        if len(over):
            raise StatsInputError(
                f"group {labels[over[0]]!r} has '{numerator}' above '{denominator}': not a proportion"
            )

    unit_value = num if data_type == "median" else num / den
    if data_type == "standardised-ratio" and method == "shmi":
        den = r_round(den, 2)
        empty = np.flatnonzero(den <= 0)
        if len(empty):
            raise StatsInputError(f"group {labels[empty[0]]!r} has an expected count that rounds to 0")
    if target is None:
        target = 1.0 if data_type == "standardised-ratio" else r_sum(num) / r_sum(den)
    if data_type in ("ratio", "rate") and target == 0:
        raise StatsInputError(
            f"column '{numerator}' is 0 for every group, so there is no {data_type} to compare"
        )

    y, s, centre, z = _transform(
        data_type, method, unit_value if data_type in NORMAL_TYPES else num, den, target, sd
    )
    kept = truncate(z, trim) if method == "shmi" else winsorise(z, trim)
    keep = ~np.isnan(kept)
    phi = dispersion(kept[keep])
    if overdispersion and not math.isfinite(phi):
        worst = labels[int(np.flatnonzero(keep & ~np.isfinite(kept))[0])]
        raise StatsInputError(
            f"cannot estimate overdispersion: group {worst!r} has an infinite z-score (a count of 0 on the "
            "log scale); use method spiegelhalter or no overdispersion adjustment"
        )
    if tau2_method == "paule-mandel" and math.isfinite(phi):
        phi, tau2 = paule_mandel(y, s, centre, trim, method)
    else:
        tau2 = dersimonian_laird(int(keep.sum()), phi, s[keep])
    adjusted = bool(overdispersion and phi > 1)
    if not adjusted:
        tau2 = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z_adjusted = (y - centre) / np.sqrt(s**2 + tau2) if adjusted else z

    lcl95, ucl95, lcl998, ucl998 = _limits(data_type, method, den, target, tau2, adjusted, sd)
    outlier_95 = _side(unit_value, lcl95, ucl95)
    outlier_998 = _side(unit_value, lcl998, ucl998)
    status = [
        f"alarm_{b}" if b != "none" else (f"alert_{a}" if a != "none" else "none")
        for a, b in zip(outlier_95, outlier_998, strict=True)
    ]
    n = len(labels)
    out = pl.DataFrame(
        {
            "group": pl.Series(labels, dtype=pl.String),
            "numerator": pl.Series([None] * n, dtype=pl.Float64) if data_type == "median" else num,
            "denominator": den,
            "value": unit_value,
            "z": z,
            "z_adjusted": z_adjusted,
            "lcl95": lcl95,
            "ucl95": ucl95,
            "lcl998": lcl998,
            "ucl998": ucl998,
            "outlier_95": outlier_95,
            "outlier_998": outlier_998,
            "outlier_status": status,
            "adjusted": [adjusted] * n,
            "phi": [phi] * n,
            "tau2": [tau2] * n,
            "target": [target] * n,
            "sd": pl.Series([sd] * n, dtype=pl.Float64),
        }
    )
    return out.select(FUNNEL_COLUMNS)


def _check_options(
    data_type: str, numerator: str | None, value: str | None, target: float | None, sd: float | None
) -> None:
    """Each data type's own inputs: a median its value and target, a mean or median its sd."""
    if data_type == "median":
        if value is None:
            raise StatsInputError("a median funnel needs the column of each unit's median (value)")
        if numerator is not None:
            raise StatsInputError("a median funnel takes each unit's median (value), not a numerator")
        if target is None or not math.isfinite(target):
            raise StatsInputError("a median funnel needs the target: the median of all observations")
    else:
        if numerator is None:
            raise StatsInputError(f"a {data_type} funnel needs a numerator column")
        if value is not None:
            raise StatsInputError(
                f"a {data_type} funnel is computed from numerator and denominator, not a value"
            )
    if data_type in NORMAL_TYPES:
        if sd is None or not (math.isfinite(sd) and sd > 0):
            raise StatsInputError(
                f"a {data_type} funnel needs a positive standard deviation (sd), not {sd!r}"
            )
        if target is not None and not math.isfinite(target):
            raise StatsInputError(f"target must be a finite number, not {target!r}")
    elif target is not None or sd is not None:
        raise StatsInputError(f"a {data_type} funnel computes its own target and takes no sd")


def _aggregate(
    groups: pl.Series, num: np.ndarray, den: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Totals per group (summed in row order, extended precision), groups in sorted order."""
    codes = groups.to_numpy()
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    bounds = np.r_[starts, len(codes)]
    labels = [str(sorted_codes[i]) for i in starts]
    num_sorted = num[order]
    den_sorted = den[order]
    num_total = np.array([r_sum(num_sorted[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    den_total = np.array([r_sum(den_sorted[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    return labels, num_total, den_total


def _side(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> list[str]:
    return [
        "high" if v > u else "low" if v < lo else "none" for v, lo, u in zip(value, lower, upper, strict=True)
    ]


def judge(side: str, improvement: Improvement) -> str:
    """Turn "high"/"low" into "better"/"worse" for a measure whose improvement is an increase or a
    decrease; anything else, or a neutral measure, is returned as it is."""
    if improvement == "neutral" or side not in ("high", "low"):
        return side
    if improvement not in ("increase", "decrease"):
        raise StatsInputError(f"improvement must be increase, decrease or neutral, not {improvement!r}")
    better = "high" if improvement == "increase" else "low"
    return "better" if side == better else "worse"


def orient_outliers(result: pl.DataFrame, improvement: Improvement) -> pl.DataFrame:
    """A funnel result with high/low replaced by better/worse in outlier_95, outlier_998 and
    outlier_status (e.g. "alarm_worse"), given the measure's improvement direction."""

    def status(value: str) -> str:
        if value == "none":
            return value
        level, side = value.split("_", 1)
        return f"{level}_{judge(side, improvement)}"

    judge("high", improvement)  # validates the direction
    return result.with_columns(
        pl.col("outlier_95", "outlier_998").map_elements(
            lambda v: judge(v, improvement), return_dtype=pl.String
        ),
        pl.col("outlier_status").map_elements(status, return_dtype=pl.String),
    )
