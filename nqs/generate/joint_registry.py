"""The joint registry (NJR): primary hip and knee replacements, their revisions, and PROMs.

Procedures are filed by procedure month. Revisions and post-operative questionnaires happen later,
so they are drawn with their procedure and held back until the month they fall in: a revision file
only ever references procedures from its own or earlier months, and the first months have no PROMs.
Follow-up falling after the end of the span has not happened yet and is never written.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import polars as pl

from contracts.domains import DOMAINS
from nqs.generate import nhs_number
from nqs.generate.context import Context
from nqs.generate.periods import Month
from nqs.generate.sampling import (
    categorical,
    categorical_by_group,
    clipped_int_normal,
    dates,
    lookup,
    poisson_counts,
    prefixed_ids,
    with_nulls,
)

JOINTS = DOMAINS["joint"]
HIP_SHARE = 0.45
FEMALE_SHARE = 0.58
IMD_SHARES = (0.17, 0.19, 0.21, 0.22, 0.21)  # elective surgery favours the less deprived
ASA_SHARES = (0.12, 0.60, 0.26, 0.019, 0.001)
SEXES = DOMAINS["sex"]

REVISION_WITHIN_1Y = 0.015
REVISION_SPREAD = 0.25
REVISION_WITHIN_1Y_WORSE = 0.15
LATE_REVISION = 0.004  # revised in years two and three: outside the one-year metric
REVISION_REASONS = DOMAINS["revision_reason"]
# Early revisions are mostly infection and dislocation; later ones loosening, pain and wear.
REASON_BY_TIMING = np.array(
    [
        [0.35, 0.05, 0.30, 0.10, 0.18, 0.02],
        [0.12, 0.35, 0.08, 0.20, 0.10, 0.15],
    ]
)
EARLY_REVISION_DAYS = 90

PROMS_SHARE = 0.6
PRE_OP_SCORE = {"hip": (19.0, 8.0), "knee": (20.0, 7.0)}  # Oxford Hip / Knee Score, 0..48
SCORE_GAIN = {"hip": (22.0, 9.0), "knee": (17.0, 9.0)}
SCORE_GAIN_WORSE = 10.0  # planted worse trusts: this much less gain on average
# Satisfaction with the result follows the gain: the gain plus noise, cut at these points, gives
# poor, fair, good, very good or excellent (about 80% good or better nationally).
SATISFACTION_NOISE = 6.0
SATISFACTION_CUTS = np.array([4.0, 10.0, 17.0, 25.0])
SATISFACTION_UNANSWERED = 0.04
SATISFACTION_BY_RATING = tuple(reversed(DOMAINS["proms_satisfaction"]))  # poor first


class JointRegistryGenerator:
    """Draws procedures each month and releases revisions and PROMs in the month they occur."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        revision = REVISION_WITHIN_1Y * ctx.trust_variation(5, REVISION_SPREAD)
        revision[ctx.truths.flagged("revision_within_1y")] = REVISION_WITHIN_1Y_WORSE
        self.revision_within_1y = revision
        self.first_days = np.array([m.first_day for m in ctx.span])
        self.pending_revisions: dict[int, list[pl.DataFrame]] = defaultdict(list)
        self.pending_proms: dict[int, list[pl.DataFrame]] = defaultdict(list)
        self.next_procedure_id = ctx.first_id(4, 100_000_000, 300_000_000)
        self.next_revision_id = ctx.first_id(5, 100_000_000, 300_000_000)

    def month(self, month: Month) -> dict[str, pl.DataFrame]:
        """The `procedures`, `revisions` and `proms` files of `month`."""
        procedures = self._procedures(month)
        return {
            "procedures": procedures,
            "revisions": self._release_revisions(month),
            "proms": self._release_proms(month),
        }

    def _month_index(self, days: np.ndarray) -> np.ndarray:
        """Span month index of each day (days after the span are dropped before this is used)."""
        return np.searchsorted(self.first_days, days, side="right") - 1

    def _procedures(self, month: Month) -> pl.DataFrame:
        """Primary procedures of the month, on weekdays; follow-up is drawn and held back here."""
        ctx = self.ctx
        rng = ctx.rng("joint_registry", month)
        counts = poisson_counts(rng, ctx.volumes.expected("joint_registry", month))
        trusts = np.repeat(np.arange(ctx.orgs.n_trusts), counts)
        n = len(trusts)
        day = np.sort(rng.choice(month.weekdays(), size=n))
        trusts = rng.permutation(trusts)
        joint = (rng.random(n) >= HIP_SHARE).astype(np.int64)
        age = clipped_int_normal(rng, 70, 9.5, 40, 100, n)
        sex = (rng.random(n) < FEMALE_SHARE).astype(np.int64)
        imd = categorical(rng, IMD_SHARES, n) + 1
        asa = categorical(rng, ASA_SHARES, n) + 1
        sites = ctx.orgs.pick_sites(rng, trusts)
        nhs = nhs_number.valid_numbers(rng, n)
        ids = self.next_procedure_id + np.arange(n)
        self.next_procedure_id += n

        revised = self._hold_revisions(rng, ids, trusts, day)
        with_proms = self._hold_proms(rng, ids, trusts, joint, day)
        return pl.DataFrame(
            {
                "procedure_id": prefixed_ids("NJ", ids, 9),
                "trust_code": lookup(ctx.orgs.reporting_trust_codes(month), trusts),
                "site_code": lookup(ctx.orgs.reporting_site_codes(month), sites),
                "nhs_number": nhs_number.as_text(nhs),
                "procedure_date": dates(day),
                "joint": lookup(JOINTS, joint),
                "age": age,
                "sex": lookup(SEXES, sex),
                "imd_quintile": imd,
                "asa_grade": asa,
                # Procedures with follow-up in the span: never made defective, so their revisions and
                # PROMs always find a clean primary.
                "_protected": pl.Series(revised | with_proms),
            }
        )

    def _hold_revisions(
        self, rng: np.random.Generator, ids: np.ndarray, trusts: np.ndarray, day: np.ndarray
    ) -> np.ndarray:
        """Draw revisions (early-heavy within a year, a few later) and queue those inside the span."""
        n = len(ids)
        within_year = rng.random(n) < self.revision_within_1y[trusts]
        late = ~within_year & (rng.random(n) < LATE_REVISION)
        delay = np.where(within_year, 1 + np.floor(364 * rng.beta(0.7, 1.5, n)), rng.integers(366, 1096, n))
        revision_day = day + delay.astype(np.int64)
        reason = categorical_by_group(rng, (delay > EARLY_REVISION_DAYS).astype(np.int64), REASON_BY_TIMING)
        keep = (within_year | late) & (revision_day <= self.ctx.last_day)
        held = pl.DataFrame(
            {
                "primary_number": ids[keep],
                "trust": trusts[keep],
                "revision_day": revision_day[keep],
                "primary_day": day[keep],
                "reason": reason[keep],
                "month_index": self._month_index(revision_day[keep]),
            }
        )
        for (index,), part in held.partition_by("month_index", as_dict=True, maintain_order=True).items():
            self.pending_revisions[int(index)].append(part)
        return keep

    def _hold_proms(
        self,
        rng: np.random.Generator,
        ids: np.ndarray,
        trusts: np.ndarray,
        joint: np.ndarray,
        day: np.ndarray,
    ) -> np.ndarray:
        """Draw pre- and six-month post-operative scores and queue those returned inside the span."""
        n = len(ids)
        answered = rng.random(n) < PROMS_SHARE
        pre_day = day - rng.integers(1, 57, n)
        post_day = day + np.maximum(np.rint(rng.normal(182, 12, n)), 150).astype(np.int64)
        is_hip = joint == 0
        pre_mean = np.where(is_hip, PRE_OP_SCORE["hip"][0], PRE_OP_SCORE["knee"][0])
        pre_sd = np.where(is_hip, PRE_OP_SCORE["hip"][1], PRE_OP_SCORE["knee"][1])
        gain_mean = np.where(is_hip, SCORE_GAIN["hip"][0], SCORE_GAIN["knee"][0])
        gain_mean = gain_mean - SCORE_GAIN_WORSE * self.ctx.truths.flagged("proms_oxford_gain_mean")[trusts]
        gain_sd = np.where(is_hip, SCORE_GAIN["hip"][1], SCORE_GAIN["knee"][1])
        pre = np.clip(np.rint(rng.normal(pre_mean, pre_sd)), 0, 48).astype(np.int64)
        post = np.clip(np.rint(pre + rng.normal(gain_mean, gain_sd)), 0, 48).astype(np.int64)
        # 4 = excellent ... 0 = poor; -1 = not answered
        rating = np.searchsorted(SATISFACTION_CUTS, post - pre + rng.normal(0, SATISFACTION_NOISE, n))
        rating = np.where(rng.random(n) < SATISFACTION_UNANSWERED, -1, rating)
        keep = answered & (post_day <= self.ctx.last_day)
        held = pl.DataFrame(
            {
                "primary_number": ids[keep],
                "joint": joint[keep],
                "pre_op_score": pre[keep],
                "post_op_score": post[keep],
                "pre_day": pre_day[keep],
                "post_day": post_day[keep],
                "rating": rating[keep],
                "month_index": self._month_index(post_day[keep]),
            }
        )
        for (index,), part in held.partition_by("month_index", as_dict=True, maintain_order=True).items():
            self.pending_proms[int(index)].append(part)
        return keep

    def _release_revisions(self, month: Month) -> pl.DataFrame:
        """Revisions dated in `month`, ordered by date; the trust code is the one in use then."""
        held = self.pending_revisions.pop(month.index, [])
        parts = pl.concat(held) if held else _EMPTY_REVISIONS
        parts = parts.sort("revision_day", "primary_number")
        n = parts.height
        ids = self.next_revision_id + np.arange(n)
        self.next_revision_id += n
        return pl.DataFrame(
            {
                "revision_id": prefixed_ids("RV", ids, 9),
                "primary_procedure_id": prefixed_ids("NJ", parts["primary_number"].to_numpy(), 9),
                "primary_procedure_date": dates(parts["primary_day"].to_numpy()),
                "trust_code": lookup(self.ctx.orgs.reporting_trust_codes(month), parts["trust"].to_numpy()),
                "revision_date": dates(parts["revision_day"].to_numpy()),
                "revision_reason": lookup(REVISION_REASONS, parts["reason"].to_numpy()),
            }
        )

    def _release_proms(self, month: Month) -> pl.DataFrame:
        """Questionnaires returned in `month`, ordered by post-operative date."""
        held = self.pending_proms.pop(month.index, [])
        parts = pl.concat(held) if held else _EMPTY_PROMS
        parts = parts.sort("post_day", "primary_number")
        return pl.DataFrame(
            {
                "procedure_id": prefixed_ids("NJ", parts["primary_number"].to_numpy(), 9),
                "joint": lookup(JOINTS, parts["joint"].to_numpy()),
                "pre_op_score": parts["pre_op_score"],
                "post_op_score": parts["post_op_score"],
                "pre_op_date": dates(parts["pre_day"].to_numpy()),
                "post_op_date": dates(parts["post_day"].to_numpy()),
                "post_op_satisfaction": with_nulls(
                    lookup(SATISFACTION_BY_RATING, np.maximum(parts["rating"].to_numpy(), 0)),
                    parts["rating"].to_numpy() < 0,
                ),
            }
        )


_EMPTY_REVISIONS = pl.DataFrame(
    schema={
        "primary_number": pl.Int64,
        "trust": pl.Int64,
        "revision_day": pl.Int64,
        "primary_day": pl.Int64,
        "reason": pl.Int64,
        "month_index": pl.Int64,
    }
)
_EMPTY_PROMS = pl.DataFrame(
    schema={
        "primary_number": pl.Int64,
        "joint": pl.Int64,
        "pre_op_score": pl.Int64,
        "post_op_score": pl.Int64,
        "pre_day": pl.Int64,
        "post_day": pl.Int64,
        "rating": pl.Int64,
        "month_index": pl.Int64,
    }
)
