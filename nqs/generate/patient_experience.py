"""Patient experience shaped like NHS England's Friends and Family Test data and KO41a complaints.

Both are aggregate returns. Each month a trust reports, per setting it runs, the Friends and
Family Test responses by answer (and, for inpatients and A&E, the patients eligible to answer); each
financial quarter it reports its written complaints by subject area: received, and resolved by
outcome. Volumes follow the trust's share of national patient activity; answers follow national
shares (about 94% of inpatients and 80% of A&E patients answer good or very good) moved by an
ordinary variation between trusts, a slight winter dip in A&E and, for the trusts planted worse on
`fft_ae_positive`, a clearly lower share of good answers in A&E. A merged trust's returns are made
by its successor after the merger; a quarter's complaints by the trusts reporting in its last month.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from contracts.domains import DOMAINS
from contracts.patient_experience import COMPLAINT_OUTCOMES, FFT_ANSWERS
from nqs.generate.context import Context
from nqs.generate.periods import Month
from nqs.generate.sampling import dates, lookup
from nqs.generate.volumes import ANNUAL_VOLUME

SETTINGS = DOMAINS["fft_setting"]
SUBJECTS = DOMAINS["complaint_subject"]
# FFT responses a year in England by setting (inpatient, A&E, outpatient, maternity birth,
# community, mental health), about 2023-24, scaled like every other volume.
NATIONAL_RESPONSES = np.array([2_300_000.0, 3_300_000.0, 7_000_000.0, 170_000.0, 3_000_000.0, 250_000.0])
# Which settings each trust type runs (acute, mental health, community, ambulance, specialist).
SETTINGS_BY_TRUST_TYPE = np.array(
    [
        [1.0, 1.0, 1.0, 1.0, 0.15, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.3, 1.0],
        [0.15, 0.0, 0.2, 0.0, 1.0, 0.05],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [0.6, 0.0, 0.8, 0.0, 0.0, 0.0],
    ]
)
# National shares of each answer by setting, in FFT_ANSWERS order (very good ... don't know).
ANSWER_SHARES = np.array(
    [
        [0.80, 0.14, 0.025, 0.012, 0.015, 0.008],
        [0.63, 0.17, 0.06, 0.04, 0.085, 0.015],
        [0.81, 0.13, 0.03, 0.011, 0.012, 0.007],
        [0.84, 0.09, 0.03, 0.015, 0.015, 0.01],
        [0.84, 0.11, 0.02, 0.01, 0.012, 0.008],
        [0.70, 0.16, 0.055, 0.03, 0.04, 0.015],
    ]
)
POSITIVE = 2  # very good and good come first
# Share of eligible patients who answer, where the return counts them (inpatient and A&E).
RESPONSE_RATE = np.array([0.20, 0.11, np.nan, np.nan, np.nan, np.nan])
TRUST_SPREAD = 0.25  # of the log-odds of a good answer, between trusts
WINTER_DIP = np.array([0.0, 0.15, 0.0, 0.0, 0.0, 0.0])  # log-odds, December to February
PLANTED_DROP = 0.9  # log-odds of a good A&E answer at a planted trust: about 80% to 62%
PLANTED_SETTING = SETTINGS.index("emergency_department")
PLANTED_METRIC = "fft_ae_positive"

# Written complaints (KO41a, hospital and community health services) by subject area, in SUBJECTS
# order: clinical treatment, communications, patient care and values and behaviours lead.
SUBJECT_SHARES = np.array(
    [
        0.04,
        0.06,
        0.08,
        0.27,
        0.005,
        0.14,
        0.005,
        0.01,
        0.02,
        0.005,
        0.001,
        0.11,
        0.02,
        0.02,
        0.005,
        0.01,
        0.03,
        0.10,
        0.05,
        0.064,
    ]  # fmt: skip
)
OUTCOME_SHARES = np.array([0.26, 0.31, 0.43])  # upheld, partially upheld, not upheld
QUARTERS_PER_YEAR = 4


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


class PatientExperienceGenerator:
    """Fixes each trust's activity and answer shares once; draws each month's and quarter's returns."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        share = ctx.volumes.shares["patient_experience"]
        weight = share[:, None] * SETTINGS_BY_TRUST_TYPE[ctx.orgs.trust_type]
        totals = weight.sum(axis=0)
        self.responses = NATIONAL_RESPONSES * ctx.scale / 12 * weight / np.where(totals > 0, totals, 1.0)
        effects = np.stack([ctx.trust_effects(40 + s) for s in range(len(SETTINGS))], axis=1)
        self.log_odds = _logit(ANSWER_SHARES[:, :POSITIVE].sum(axis=1)) + TRUST_SPREAD * effects
        rates = RESPONSE_RATE * ctx.trust_variation(46, 0.25)[:, None]
        self.response_rate = np.clip(rates, 0.02, 0.9)
        yearly = ANNUAL_VOLUME["patient_experience"] * ctx.scale
        self.complaints = ctx.volumes.shares["patient_experience"] * yearly / QUARTERS_PER_YEAR
        self.upheld_odds = 0.3 * ctx.trust_effects(47)

    def month(self, month: Month) -> pl.DataFrame:
        """FFT responses per trust and setting in `month`, ordered by trust code and setting."""
        ctx = self.ctx
        rng = ctx.rng("patient_experience", month)
        trust, setting = np.nonzero(self.responses > 0)
        expected = self.responses[trust, setting]
        rate = self.response_rate[trust, setting]
        counted = ~np.isnan(rate)
        eligible = np.where(counted, rng.poisson(expected / np.where(counted, rate, 1.0)), 0)
        responses = np.where(
            counted, rng.binomial(eligible, np.where(counted, rate, 0.0)), rng.poisson(expected)
        )
        log_odds = self.log_odds[trust, setting] - (WINTER_DIP[setting] if month.is_winter else 0.0)
        planted = ctx.truths.flagged(PLANTED_METRIC, month)[trust] & (setting == PLANTED_SETTING)
        positive = _expit(log_odds - PLANTED_DROP * planted)
        base = ANSWER_SHARES[setting]
        base_positive = base[:, :POSITIVE].sum(axis=1, keepdims=True)
        shares = np.concatenate(
            [
                base[:, :POSITIVE] / base_positive * positive[:, None],
                base[:, POSITIVE:] / (1 - base_positive) * (1 - positive[:, None]),
            ],
            axis=1,
        )
        answers = rng.multinomial(responses, shares)
        lines = pl.DataFrame(
            {
                "trust_code": lookup(ctx.orgs.reporting_trust_codes(month), trust),
                "setting": setting,
                "eligible": eligible,
                "responses": responses,
                **{answer: answers[:, i] for i, answer in enumerate(FFT_ANSWERS)},
            }
        )
        counted = [s for s in range(len(SETTINGS)) if not np.isnan(RESPONSE_RATE[s])]
        summed = _returns(lines, "setting", SETTINGS, month, "reporting_month")
        return summed.with_columns(
            pl.when(pl.col("setting").is_in([SETTINGS[s] for s in counted])).then(pl.col("eligible"))
        )

    def quarter(self, first: Month, last: Month) -> pl.DataFrame:
        """Written complaints per trust and subject area in the quarter from `first` to `last`."""
        ctx = self.ctx
        rng = ctx.rng("patient_experience_complaints", first)
        n_trusts, n_subjects = len(self.complaints), len(SUBJECTS)
        expected = self.complaints[:, None] * (SUBJECT_SHARES / SUBJECT_SHARES.sum())[None, :]
        received = rng.poisson(expected)
        resolved = rng.poisson(expected)
        odds = np.log(OUTCOME_SHARES[:2] / OUTCOME_SHARES[2])[None, :] + self.upheld_odds[:, None]
        outcome_shares = np.concatenate([np.exp(odds), np.ones((n_trusts, 1))], axis=1)
        outcome_shares /= outcome_shares.sum(axis=1, keepdims=True)
        trust = np.repeat(np.arange(n_trusts), n_subjects)
        outcomes = rng.multinomial(resolved.ravel(), outcome_shares[trust])
        lines = pl.DataFrame(
            {
                "trust_code": lookup(ctx.orgs.reporting_trust_codes(last), trust),
                "subject_area": np.tile(np.arange(n_subjects), n_trusts),
                "complaints_received": received.ravel(),
                "complaints_resolved": resolved.ravel(),
                **{outcome: outcomes[:, i] for i, outcome in enumerate(COMPLAINT_OUTCOMES)},
            }
        )
        return _returns(lines, "subject_area", SUBJECTS, first, "quarter_start")


def _returns(
    lines: pl.DataFrame, category: str, labels: tuple[str, ...], period: Month, period_column: str
) -> pl.DataFrame:
    """One return row per reporting trust and category (a merged trust's lines summed into its
    successor's), rows counting nothing left out, in trust and code-list order, the period's first
    day after the trust code."""
    counts = [c for c in lines.columns if c not in ("trust_code", category)]
    return (
        lines.group_by("trust_code", category)
        .agg(pl.col(counts).sum().cast(pl.Int64))
        .filter(pl.any_horizontal(pl.col(counts) > 0))
        .sort("trust_code", category)
        .select(
            "trust_code",
            pl.lit(dates(np.array([period.first_day]))[0]).alias(period_column),
            pl.col(category).replace_strict(range(len(labels)), labels, return_dtype=pl.String),
            *counts,
        )
    )
