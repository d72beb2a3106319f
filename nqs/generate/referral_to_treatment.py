"""Consultant-led referral to treatment (RTT) waiting times shaped like NHS England's monthly returns.

Aggregate, as the real return is: one row per trust, month, treatment function and pathway type, with
the pathways counted in weekly bands of weeks waited. A trust's waiting list follows its size (acute
trusts, and specialist trusts in a few specialties), split over treatment functions by the national
mix with some variation per trust. Weeks waited follow a Weibull distribution (shape 1.5) whose scale
varies by treatment function (ophthalmology, orthopaedics, ENT and gynaecology wait longest) and by
trust; nationally about 7.5 million pathways wait, about 59% within 18 weeks, about 2% beyond 52,
with a median near 15 weeks, as in 2024-25. Completed pathways (about 0.3 million admitted and 1.2
million non-admitted a month) waited less. Planted long-waiting trusts wait longer on every pathway.
A merged trust's pathways are reported by its successor after the merger.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from contracts.domains import DOMAINS
from contracts.referral_to_treatment import BAND_COLUMNS, WEEK_BANDS
from nqs.generate.context import Context
from nqs.generate.organisations import SPECIALIST
from nqs.generate.periods import Month
from nqs.generate.sampling import dates, lookup

TREATMENT_FUNCTIONS = DOMAINS["treatment_function"]
PATHWAY_TYPES = DOMAINS["rtt_pathway_type"]
# Pathways per month nationally, by pathway type: incomplete at the month's end (a stock), completed
# in the month (flows).
NATIONAL_PATHWAYS = np.array([7_500_000.0, 290_000.0, 1_200_000.0])
# Weibull scale in weeks, by pathway type, before the treatment function's and the trust's factors.
WAIT_SCALE_WEEKS = np.array([18.5, 16.0, 9.0])
WAIT_SHAPE = 1.5
# Share of the national waiting list by treatment function (order of TREATMENT_FUNCTIONS), and how
# much longer than usual each waits.
LIST_SHARE = np.array(
    [
        0.060, 0.050, 0.110, 0.080, 0.090, 0.030, 0.010, 0.020, 0.005, 0.010, 0.050, 0.050,
        0.050, 0.030, 0.030, 0.015, 0.005, 0.080, 0.090, 0.005, 0.040, 0.070, 0.030,
    ]
)  # fmt: skip
WAIT_FACTOR = np.array(
    [
        1.0, 1.0, 1.15, 1.15, 1.1, 1.15, 1.05, 1.0, 0.9, 0.8, 0.95, 0.85,
        1.05, 0.9, 1.0, 0.9, 0.8, 1.15, 0.95, 0.9, 1.0, 1.0, 0.95,
    ]
)  # fmt: skip
TRUST_MIX_SPREAD = 0.4
TRUST_WAIT_SPREAD = 0.12
# A specialist trust runs only a few treatment functions.
SPECIALIST_FUNCTIONS = 3
# Planted long-waiting trusts: every pathway's waiting time scale is this much longer.
WORSE_WAIT_FACTOR = 1.6
UNKNOWN_CLOCK_START_SHARE = 0.002
# Keys of the per-trust effects (Context.trust_effects): the waiting times, then one per treatment
# function for the specialty mix.
WAIT_KEY, MIX_KEY = 300, 301
_BAND_LOWER = np.array([lower for _, lower, _ in WEEK_BANDS], dtype=float)


def band_probabilities(scale: np.ndarray) -> np.ndarray:
    """P(weeks waited in each band) for each Weibull scale: one row per scale, one column per band."""
    edges = np.append(_BAND_LOWER, np.inf)
    survival = np.exp(-((edges[None, :] / scale[:, None]) ** WAIT_SHAPE))
    return survival[:, :-1] - survival[:, 1:]


class ReferralToTreatmentGenerator:
    """Fixes each trust's list size, specialty mix and waiting times once; draws each month's file."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        orgs = ctx.orgs
        share = ctx.volumes.shares["referral_to_treatment"]
        effects = np.stack([ctx.trust_effects(MIX_KEY + j) for j in range(len(LIST_SHARE))], axis=1)
        mix = LIST_SHARE[None, :] * np.exp(TRUST_MIX_SPREAD * effects)
        # A specialist trust keeps its largest few treatment functions; an orthopaedic one only 110.
        ranks = np.argsort(np.argsort(-mix, axis=1), axis=1)
        orthopaedic = np.array(["Orthopaedic" in name for name in orgs.trust_names])
        kept = np.where(
            orthopaedic[:, None],
            TREATMENT_FUNCTIONS.index("110") == np.arange(len(LIST_SHARE)),
            ranks < SPECIALIST_FUNCTIONS,
        )
        mix = np.where((orgs.trust_type == SPECIALIST)[:, None] & ~kept, 0.0, mix)
        mix /= mix.sum(axis=1, keepdims=True)
        #: expected pathways per trust and treatment function, per unit of national volume
        self.weight = share[:, None] * mix
        wait = ctx.trust_variation(WAIT_KEY, TRUST_WAIT_SPREAD)
        wait[ctx.truths.flagged("rtt_within_18_weeks")] *= WORSE_WAIT_FACTOR
        self.wait = wait

    def month(self, month: Month) -> pl.DataFrame:
        """Pathways per trust, treatment function and pathway type in `month`, in weekly bands."""
        ctx = self.ctx
        rng = ctx.rng("referral_to_treatment", month)
        trust, function = np.nonzero(self.weight > 0)
        frames = []
        for kind, national in enumerate(NATIONAL_PATHWAYS):
            counts = rng.poisson(national * ctx.scale * self.weight[trust, function])
            scale = WAIT_SCALE_WEEKS[kind] * WAIT_FACTOR[function] * self.wait[trust]
            bands = rng.multinomial(counts, band_probabilities(scale))
            unknown = rng.poisson(counts * UNKNOWN_CLOCK_START_SHARE) if kind == 0 else np.zeros_like(counts)
            frames.append(
                pl.DataFrame(
                    {
                        "trust_code": lookup(ctx.orgs.reporting_trust_codes(month), trust),
                        "function_order": function,
                        "kind": np.full(len(trust), kind),
                        **{column: bands[:, i] for i, column in enumerate(BAND_COLUMNS)},
                        "unknown_clock_start_pathways": unknown,
                    }
                )
            )
        counted = [*BAND_COLUMNS, "unknown_clock_start_pathways"]
        incomplete = pl.col("kind") == 0
        return (
            pl.concat(frames)
            .group_by("trust_code", "function_order", "kind")
            .agg(pl.col(counted).sum())
            .with_columns(total_pathways=pl.sum_horizontal(BAND_COLUMNS))
            .filter((pl.col("total_pathways") > 0) | (pl.col("unknown_clock_start_pathways") > 0))
            .sort("trust_code", "function_order", "kind")
            .select(
                pl.lit(dates(np.array([month.first_day]))[0]).alias("reporting_month"),
                "trust_code",
                pl.col("function_order")
                .replace_strict(dict(enumerate(TREATMENT_FUNCTIONS)), return_dtype=pl.String)
                .alias("treatment_function_code"),
                pl.col("kind")
                .replace_strict(dict(enumerate(PATHWAY_TYPES)), return_dtype=pl.String)
                .alias("pathway_type"),
                *BAND_COLUMNS,
                "total_pathways",
                pl.when(incomplete)
                .then(pl.col("unknown_clock_start_pathways"))
                .alias("unknown_clock_start_pathways"),
            )
        )
