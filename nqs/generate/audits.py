"""National clinical audits of acute trusts: hip fracture (NHFD) and stroke (SSNAP).

One row per patient episode, filed by admission (arrival) month. The process measures the warehouse
reports are drawn per trust: time to surgery and 30-day mortality (hip fracture), time to a stroke
unit (stroke). Planted worse trusts get markedly worse chances; deteriorating ones from a month on.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from contracts.domains import DOMAINS
from nqs.generate import nhs_number
from nqs.generate.context import Context
from nqs.generate.periods import SECONDS_PER_DAY, Month
from nqs.generate.sampling import (
    categorical,
    clipped_int_normal,
    dates,
    datetimes,
    lookup,
    poisson_counts,
    prefixed_ids,
    round_to_minute,
    timestamps_in_month,
    with_nulls,
)

SEXES = DOMAINS["sex"]
IMD_SHARES = (0.23, 0.21, 0.20, 0.19, 0.17)  # quintile 1 (most deprived) first: more fractures and strokes

# Hip fracture audit
HIP_FEMALE_SHARE = 0.72
HIP_ASA_SHARES = (0.03, 0.22, 0.55, 0.19, 0.01)
HIP_NO_SURGERY = 0.03
HIP_WITHIN_36H = 0.72
HIP_WITHIN_36H_SPREAD = 0.05
HIP_WITHIN_36H_WORSE = 0.25
# 30-day mortality: about 7% nationally, rising with age and ASA grade (the base is divided by the
# mean of the case-mix factors so the national rate stays at 7%).
HIP_MORTALITY_BASE = 0.07 / 1.11
HIP_MORTALITY_ASA_FACTOR = np.array([0.4, 0.6, 1.0, 1.8, 3.0])
HIP_MORTALITY_AGE_SLOPE = 0.04
HIP_MORTALITY_SPREAD = 0.1
HIP_MORTALITY_WORSE_FACTOR = 5.0
HIP_LATER_DEATHS = 0.08  # die between day 31 and a year: present in linked death data, not in the metric

# Stroke audit
STROKE_FEMALE_SHARE = 0.48
STROKE_HAEMORRHAGE = 0.13
STROKE_THROMBOLYSIS_OF_INFARCTIONS = 0.125
STROKE_NO_UNIT = 0.05
STROKE_WITHIN_4H = 0.58
STROKE_WITHIN_4H_SPREAD = 0.07
STROKE_WITHIN_4H_WORSE = 0.15


def _trust_counts(ctx: Context, rng: np.random.Generator, source: str, month: Month) -> np.ndarray:
    """Trust index of every episode this month (acute trusts only, by their audit share)."""
    return np.repeat(np.arange(ctx.orgs.n_trusts), poisson_counts(rng, ctx.volumes.expected(source, month)))


def _demographics(
    rng: np.random.Generator, n: int, age: tuple[float, float, int, int], female_share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Age, sex index and IMD quintile of `n` patients."""
    ages = clipped_int_normal(rng, age[0], age[1], age[2], age[3], n)
    sex = (rng.random(n) < female_share).astype(np.int64)
    imd = categorical(rng, IMD_SHARES, n) + 1
    return ages, sex, imd


def _clipped_probability(ctx: Context, key: int, base: float, spread: float) -> np.ndarray:
    """A per-trust probability around `base` (ordinary variation between trusts)."""
    return np.clip(base + spread * ctx.trust_effects(key), 0.05, 0.95)


class HipFractureGenerator:
    """Draws each month's NHFD `episodes` file."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.within_36h = _clipped_probability(ctx, 2, HIP_WITHIN_36H, HIP_WITHIN_36H_SPREAD)
        self.mortality_multiplier = ctx.trust_variation(3, HIP_MORTALITY_SPREAD)
        self.mortality_multiplier[ctx.truths.flagged("hip_30day_mortality")] = HIP_MORTALITY_WORSE_FACTOR
        self.next_id = ctx.first_id(2, 10_000_000, 20_000_000)

    def month(self, month: Month) -> pl.DataFrame:
        """Episodes admitted in `month`, ordered by admission time."""
        ctx = self.ctx
        rng = ctx.rng("hip_fracture_audit", month)
        trusts = _trust_counts(ctx, rng, "hip_fracture_audit", month)
        n = len(trusts)
        age, sex, imd = _demographics(rng, n, (83, 7.5, 60, 105), HIP_FEMALE_SHARE)
        asa = categorical(rng, HIP_ASA_SHARES, n) + 1
        admission = timestamps_in_month(rng, month, n)
        surgery, operated = self._surgery(rng, month, trusts, admission)
        death = self._death_day(rng, trusts, age, asa, admission, operated)
        sites = ctx.orgs.pick_sites(rng, trusts)
        nhs = nhs_number.valid_numbers(rng, n)

        order = np.lexsort((sites, admission))
        ids = self.next_id + np.arange(n)
        self.next_id += n
        return pl.DataFrame(
            {
                "episode_id": prefixed_ids("HF", ids, 8),
                "trust_code": lookup(ctx.orgs.reporting_trust_codes(month), trusts[order]),
                "site_code": lookup(ctx.orgs.reporting_site_codes(month), sites[order]),
                "nhs_number": nhs_number.as_text(nhs[order]),
                "age": age[order],
                "sex": lookup(SEXES, sex[order]),
                "imd_quintile": imd[order],
                "asa_grade": asa[order],
                "admission_at": datetimes(admission[order]),
                "surgery_at": with_nulls(datetimes(surgery[order]), ~operated[order]),
                "death_date": with_nulls(dates(np.maximum(death, 0)[order]), death[order] < 0),
            }
        )

    def _surgery(
        self, rng: np.random.Generator, month: Month, trusts: np.ndarray, admission: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Surgery time (seconds) and whether operated: within 36 hours with the trust's chance."""
        n = len(trusts)
        p_within = self.within_36h[trusts]
        flagged = self.ctx.truths.flagged("hip_surgery_within_36h", month)[trusts]
        p_within = np.where(flagged, HIP_WITHIN_36H_WORSE, p_within)
        within = rng.random(n) < p_within
        quick_hours = 4 + 31.5 * rng.beta(2.0, 1.6, n)
        slow_hours = 36.5 + rng.gamma(2.0, 14.0, n)
        hours = np.where(within, quick_hours, slow_hours)
        operated = rng.random(n) >= HIP_NO_SURGERY
        return round_to_minute(admission + hours * 3600), operated

    def _death_day(
        self,
        rng: np.random.Generator,
        trusts: np.ndarray,
        age: np.ndarray,
        asa: np.ndarray,
        admission: np.ndarray,
        operated: np.ndarray,
    ) -> np.ndarray:
        """Day of death, or -1: within 30 days at a case-mix and trust-dependent rate, some later.

        Deaths after the end of the span are not yet known to the audit, so they stay empty.
        """
        n = len(trusts)
        p30 = (
            HIP_MORTALITY_BASE
            * HIP_MORTALITY_ASA_FACTOR[asa - 1]
            * np.exp(HIP_MORTALITY_AGE_SLOPE * (age - 83))
            * np.where(operated, 1.0, 2.0)
            * self.mortality_multiplier[trusts]
        )
        u = rng.random(n)
        died30 = u < np.minimum(p30, 0.9)
        died_later = ~died30 & (rng.random(n) < HIP_LATER_DEATHS)
        admission_day = admission // SECONDS_PER_DAY
        offset = np.where(died30, rng.integers(0, 30, n), rng.integers(31, 366, n))
        death = np.where(died30 | died_later, admission_day + offset, -1)
        return np.where(death > self.ctx.last_day, -1, death)


class StrokeGenerator:
    """Draws each month's SSNAP `admissions` file."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.within_4h = _clipped_probability(ctx, 4, STROKE_WITHIN_4H, STROKE_WITHIN_4H_SPREAD)
        self.within_4h[ctx.truths.flagged("stroke_unit_within_4h")] = STROKE_WITHIN_4H_WORSE
        self.next_id = ctx.first_id(3, 10_000_000, 20_000_000)

    def month(self, month: Month) -> pl.DataFrame:
        """Admissions arriving in `month`, ordered by arrival time."""
        ctx = self.ctx
        rng = ctx.rng("stroke_audit", month)
        trusts = _trust_counts(ctx, rng, "stroke_audit", month)
        n = len(trusts)
        age, sex, imd = _demographics(rng, n, (74, 13, 18, 105), STROKE_FEMALE_SHARE)
        haemorrhage = rng.random(n) < STROKE_HAEMORRHAGE
        nihss = np.minimum(rng.negative_binomial(1.2, 0.17, n), 42)
        arrival = timestamps_in_month(rng, month, n)
        within = rng.random(n) < self.within_4h[trusts]
        minutes = np.where(within, rng.integers(20, 240, n), 240 + rng.gamma(1.5, 600.0, n).astype(np.int64))
        reached_unit = rng.random(n) >= STROKE_NO_UNIT
        thrombolysed = ~haemorrhage & (rng.random(n) < STROKE_THROMBOLYSIS_OF_INFARCTIONS)
        sites = ctx.orgs.pick_sites(rng, trusts)
        nhs = nhs_number.valid_numbers(rng, n)

        order = np.lexsort((sites, arrival))
        unit_arrival = with_nulls(datetimes(arrival[order] + minutes[order] * 60), ~reached_unit[order])
        ids = self.next_id + np.arange(n)
        self.next_id += n
        return pl.DataFrame(
            {
                "record_id": prefixed_ids("SS", ids, 8),
                "trust_code": lookup(ctx.orgs.reporting_trust_codes(month), trusts[order]),
                "site_code": lookup(ctx.orgs.reporting_site_codes(month), sites[order]),
                "nhs_number": nhs_number.as_text(nhs[order]),
                "age": age[order],
                "sex": lookup(SEXES, sex[order]),
                "imd_quintile": imd[order],
                "stroke_type": lookup(DOMAINS["stroke_type"], haemorrhage[order].astype(np.int64)),
                "nihss_on_arrival": nihss[order],
                "arrival_at": datetimes(arrival[order]),
                "stroke_unit_arrival_at": unit_arrival,
                "thrombolysed": pl.Series(thrombolysed[order]),
            }
        )
