"""Births shaped like the Maternity Services Data Set (MSDS) as the national maternity audit reads it.

Deliveries are drawn per acute trust and month (about 591,000 a year nationally, 1.5% of them
twins, so about 600,000 babies); each baby is a row, carrying its mother's details and what happened
to her at the delivery. The rates follow England's: about 40% caesarean births, 8% of live births
preterm (before 37 weeks), 3.3 stillbirths per 1,000 births, 1.5 neonatal deaths per 1,000 live
births, 3% of vaginal births with a third or fourth degree tear and 3% of women losing 1,500 ml of
blood or more. Stillbirth and preterm birth are more common among mothers from deprived areas and
Black and Asian mothers (MBRRACE-UK's gradients), and most stillbirths and neonatal deaths are
preterm. Planted worse trusts have several times the tear rate or an excess of major haemorrhages.

A baby's death is known to the collection if it happened by the extract date (the span's last day),
as for the hip fracture audit; the catalogue's follow-up month covers the babies born in the last
month whose 28 days had not passed by then.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from contracts.domains import DOMAINS
from nqs.generate import nhs_number
from nqs.generate.context import Context
from nqs.generate.periods import Month
from nqs.generate.sampling import (
    categorical,
    clipped_int_normal,
    dates,
    lookup,
    poisson_counts,
    prefixed_ids,
    with_nulls,
)

ETHNIC_CATEGORIES = DOMAINS["ethnic_category"]
# Mothers giving birth in England by ethnic category (A..S, Z not stated, 99 not known), in code order.
ETHNIC_SHARES = (
    0.595,
    0.005,
    0.10,
    0.008,
    0.006,
    0.007,
    0.012,
    0.035,
    0.05,
    0.018,
    0.025,
    0.008,
    0.045,
    0.007,
    0.005,
    0.025,
    0.03,
    0.019,
)
# The risk group of each category, in code order: white, mixed, asian, black, other, unknown.
RISK_GROUP = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5])
STILLBIRTH_ETHNIC_RISK = np.array([1.0, 1.2, 1.5, 2.0, 1.2, 1.1])
PRETERM_ETHNIC_RISK = np.array([1.0, 1.1, 1.15, 1.3, 1.05, 1.0])
IMD_SHARES = (0.25, 0.22, 0.19, 0.18, 0.16)  # births skew to the most deprived quintile (1)
STILLBIRTH_DEPRIVATION_RISK = np.array([1.5, 1.2, 1.0, 0.85, 0.7])
PRETERM_DEPRIVATION_RISK = np.array([1.25, 1.1, 1.0, 0.9, 0.8])

TWIN_SHARE = 0.015
MOTHER_AGE = (30.9, 5.6, 13, 55)  # mean, sd, lowest, highest
# Preterm (before 37 weeks): chance per singleton delivery before its risk factors, and for twins.
PRETERM_BASE = 0.062
PRETERM_TWINS = 0.55
PRETERM_SPREAD = 0.1
# Weeks of a preterm birth: extremely (23-27), very (28-31) or moderately to late (32-36) preterm.
PRETERM_BANDS = ((23, 27), (28, 31), (32, 36))
PRETERM_BAND_SHARES = (0.06, 0.11, 0.83)
TERM_WEEKS = (39.3, 1.15, 37, 42)
# Stillbirth per baby of 24 weeks or more, at term and preterm, before its risk factors.
STILLBIRTH_TERM = 0.00085
STILLBIRTH_PRETERM = 0.022
STILLBIRTH_FROM_WEEKS = 24
STILLBIRTH_SPREAD = 0.15
# Death of a live-born baby within 28 days, by the bands above and at term; later deaths (to a year).
NEONATAL_DEATH_PRETERM = np.array([0.12, 0.03, 0.004])
NEONATAL_DEATH_TERM = 0.00035
NEONATAL_SPREAD = 0.15
LATER_INFANT_DEATH = 0.001
# Birthweight: grams at 39 weeks, change per week before and after, spread, twins and stillborn.
BIRTHWEIGHT_39 = 3450
BIRTHWEIGHT_PER_WEEK_BEFORE, BIRTHWEIGHT_PER_WEEK_AFTER = 190, 90
BIRTHWEIGHT_CV = 0.13
BIRTHWEIGHT_TWIN, BIRTHWEIGHT_STILLBORN = 0.85, 0.85

MODES = DOMAINS["delivery_mode"]  # spontaneous_vaginal, instrumental, planned_caesarean, emergency_caesarean
MODE_SHARES = {
    "term": np.array([0.49, 0.13, 0.15, 0.23]),
    "preterm": np.array([0.45, 0.03, 0.17, 0.35]),
    "twins": np.array([0.20, 0.08, 0.45, 0.27]),
}
CAESAREAN_SPREAD = 0.12
VAGINAL = (0, 1)

TRAUMA = DOMAINS["perineal_trauma"]  # none, first, second, third, fourth degree
# Third or fourth degree tear after a spontaneous and an instrumental birth; the fourth's share of them.
TEAR_RISK = np.array([0.025, 0.06])
FOURTH_OF_TEARS = np.array([0.12, 0.17])
# The other outcomes (none, first, second degree), relative.
MINOR_TRAUMA_SHARES = {0: (0.15, 0.27, 0.58), 1: (0.10, 0.18, 0.72)}
TEAR_SPREAD = 0.2
TEAR_WORSE_FACTOR = 3.5
TRAUMA_NOT_RECORDED = 0.005

# Blood loss (ml) is lognormal: median and spread of its logarithm for vaginal and caesarean births.
BLOOD_LOSS_MEDIAN = np.array([330.0, 330.0, 650.0, 650.0])
BLOOD_LOSS_SIGMA = np.array([0.65, 0.65, 0.55, 0.55])
BLOOD_LOSS_SPREAD = 0.08
# At a planted trust this share of deliveries more has a major haemorrhage (1,500 ml or more).
PPH_WORSE_EXTRA = 0.05
BLOOD_LOSS_MAX = 15_000


def _trust_counts(ctx: Context, rng: np.random.Generator, month: Month) -> np.ndarray:
    """Trust index of every delivery this month (acute trusts run the maternity units)."""
    return np.repeat(
        np.arange(ctx.orgs.n_trusts), poisson_counts(rng, ctx.volumes.expected("maternity", month))
    )


class MaternityGenerator:
    """Draws each month's `births` file: one row per baby."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.preterm = ctx.trust_variation(20, PRETERM_SPREAD)
        self.stillbirth = ctx.trust_variation(21, STILLBIRTH_SPREAD)
        self.neonatal = ctx.trust_variation(22, NEONATAL_SPREAD)
        self.caesarean = ctx.trust_variation(23, CAESAREAN_SPREAD)
        self.tears = ctx.trust_variation(24, TEAR_SPREAD)
        self.tears[ctx.truths.flagged("perineal_tear_3rd_4th_share")] *= TEAR_WORSE_FACTOR
        self.blood_loss = BLOOD_LOSS_SPREAD * ctx.trust_effects(25)
        self.pph_worse = ctx.truths.flagged("pph_1500ml_share")
        self.next_delivery = ctx.first_id(20, 10_000_000, 20_000_000)
        self.next_birth = ctx.first_id(21, 10_000_000, 20_000_000)

    def month(self, month: Month) -> pl.DataFrame:
        """Babies born in `month`, ordered by delivery date, site and delivery."""
        ctx = self.ctx
        rng = ctx.rng("maternity", month)
        trusts = _trust_counts(ctx, rng, month)
        n = len(trusts)
        age = clipped_int_normal(rng, *MOTHER_AGE[:2], *MOTHER_AGE[2:], n)
        ethnic = categorical(rng, ETHNIC_SHARES, n)
        imd = categorical(rng, IMD_SHARES, n) + 1
        day = rng.integers(month.first_day, month.last_day + 1, n)
        twins = rng.random(n) < TWIN_SHARE
        weeks, band = self._gestation(rng, trusts, ethnic, imd, twins)
        days = rng.integers(0, 7, n)
        mode = self._mode(rng, trusts, band, twins)
        trauma = self._trauma(rng, trusts, mode)
        blood = self._blood_loss(rng, trusts, mode)
        sites = ctx.orgs.pick_sites(rng, trusts)
        mothers = nhs_number.valid_numbers(rng, n)

        # one row per baby: a delivery's rows repeat its mother and delivery
        delivery = np.repeat(np.arange(n), np.where(twins, 2, 1))
        m = len(delivery)
        birth_order = np.ones(m, dtype=np.int64)
        birth_order[1:][delivery[1:] == delivery[:-1]] = 2
        stillborn = self._stillbirth(rng, delivery, trusts, ethnic, imd, weeks, band)
        death = self._death_day(rng, delivery, trusts, day, band, stillborn)
        weight = self._birthweight(rng, weeks[delivery], twins[delivery], stillborn)

        order = np.lexsort((delivery, sites[delivery], day[delivery]))
        delivery_rank = np.empty(n, dtype=np.int64)  # deliveries numbered in file order
        delivery_rank[delivery[order[birth_order[order] == 1]]] = np.arange(n)
        births = self.next_birth + np.arange(m)
        deliveries = self.next_delivery + delivery_rank
        self.next_birth += m
        self.next_delivery += n

        d = delivery[order]
        return pl.DataFrame(
            {
                "birth_id": prefixed_ids("MB", births, 8),
                "delivery_id": prefixed_ids("MD", deliveries[d], 8),
                "birth_order": birth_order[order],
                "trust_code": lookup(ctx.orgs.reporting_trust_codes(month), trusts[d]),
                "site_code": lookup(ctx.orgs.reporting_site_codes(month), sites[d]),
                "mother_nhs_number": nhs_number.as_text(mothers[d]),
                "mother_age": age[d],
                "mother_ethnic_category": lookup(ETHNIC_CATEGORIES, ethnic[d]),
                "imd_quintile": imd[d],
                "delivery_date": dates(day[d]),
                "gestation_weeks": weeks[d],
                "gestation_days": days[d],
                "delivery_mode": lookup(MODES, mode[d]),
                "birth_outcome": lookup(DOMAINS["birth_outcome"], stillborn[order].astype(np.int64)),
                "birthweight_g": weight[order],
                "baby_death_date": with_nulls(dates(np.maximum(death, 0)[order]), death[order] < 0),
                "perineal_trauma": with_nulls(lookup(TRAUMA, np.maximum(trauma, 0)[d]), trauma[d] < 0),
                "blood_loss_ml": blood[d],
            }
        )

    def _gestation(
        self,
        rng: np.random.Generator,
        trusts: np.ndarray,
        ethnic: np.ndarray,
        imd: np.ndarray,
        twins: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Completed weeks of each delivery and its band: 0..2 the preterm bands, 3 at term."""
        n = len(trusts)
        risk = (
            PRETERM_BASE
            * PRETERM_ETHNIC_RISK[RISK_GROUP[ethnic]]
            * PRETERM_DEPRIVATION_RISK[imd - 1]
            * self.preterm[trusts]
        )
        preterm = rng.random(n) < np.where(twins, PRETERM_TWINS, risk)
        band = np.where(preterm, categorical(rng, PRETERM_BAND_SHARES, n), len(PRETERM_BANDS))
        low = np.array([b[0] for b in PRETERM_BANDS] + [0])[band]
        high = np.array([b[1] for b in PRETERM_BANDS] + [0])[band]
        preterm_weeks = low + np.floor(rng.random(n) * (high - low + 1)).astype(np.int64)
        term_weeks = clipped_int_normal(rng, *TERM_WEEKS[:2], *TERM_WEEKS[2:], n)
        return np.where(preterm, preterm_weeks, term_weeks), band

    def _mode(
        self, rng: np.random.Generator, trusts: np.ndarray, band: np.ndarray, twins: np.ndarray
    ) -> np.ndarray:
        """Mode of delivery: the trust's caesarean rate varies around the national one."""
        kind = np.where(twins, 2, np.where(band < len(PRETERM_BANDS), 1, 0))
        shares = np.stack([MODE_SHARES["term"], MODE_SHARES["preterm"], MODE_SHARES["twins"]])[kind]
        shares[:, 2:] *= self.caesarean[trusts][:, None]
        cumulative = np.cumsum(shares, axis=1)
        u = rng.random(len(trusts)) * cumulative[:, -1]
        return np.minimum((u[:, None] >= cumulative).sum(axis=1), len(MODES) - 1)

    def _trauma(self, rng: np.random.Generator, trusts: np.ndarray, mode: np.ndarray) -> np.ndarray:
        """Worst perineal trauma of a vaginal birth (index into TRAUMA); -1 for none recorded."""
        n = len(trusts)
        vaginal = np.isin(mode, VAGINAL)
        instrumental = (mode == 1).astype(np.int64)
        tear = rng.random(n) < np.minimum(TEAR_RISK[instrumental] * self.tears[trusts], 0.5)
        fourth = rng.random(n) < FOURTH_OF_TEARS[instrumental]
        minor = np.where(
            instrumental == 1,
            categorical(rng, MINOR_TRAUMA_SHARES[1], n),
            categorical(rng, MINOR_TRAUMA_SHARES[0], n),
        )
        trauma = np.where(tear, np.where(fourth, 4, 3), minor)
        recorded = vaginal & (rng.random(n) >= TRAUMA_NOT_RECORDED)
        return np.where(recorded, trauma, -1)

    def _blood_loss(self, rng: np.random.Generator, trusts: np.ndarray, mode: np.ndarray) -> np.ndarray:
        """Blood loss in ml, to the nearest 10: lognormal by mode; planted trusts have more major losses."""
        n = len(trusts)
        log_loss = (
            np.log(BLOOD_LOSS_MEDIAN[mode])
            + self.blood_loss[trusts]
            + BLOOD_LOSS_SIGMA[mode] * rng.normal(0.0, 1.0, n)
        )
        loss = np.exp(log_loss)
        major = self.pph_worse[trusts] & (rng.random(n) < PPH_WORSE_EXTRA)
        loss = np.where(major, np.maximum(loss, 1500 + rng.gamma(2.0, 400.0, n)), loss)
        return (np.round(np.minimum(loss, BLOOD_LOSS_MAX) / 10) * 10).astype(np.int64)

    def _stillbirth(
        self,
        rng: np.random.Generator,
        delivery: np.ndarray,
        trusts: np.ndarray,
        ethnic: np.ndarray,
        imd: np.ndarray,
        weeks: np.ndarray,
        band: np.ndarray,
    ) -> np.ndarray:
        """Whether each baby is stillborn: only from 24 weeks, far likelier preterm."""
        base = np.where(band < len(PRETERM_BANDS), STILLBIRTH_PRETERM, STILLBIRTH_TERM)
        risk = (
            base
            * STILLBIRTH_ETHNIC_RISK[RISK_GROUP[ethnic]]
            * STILLBIRTH_DEPRIVATION_RISK[imd - 1]
            * self.stillbirth[trusts]
        )[delivery]
        possible = weeks[delivery] >= STILLBIRTH_FROM_WEEKS
        return possible & (rng.random(len(delivery)) < risk)

    def _death_day(
        self,
        rng: np.random.Generator,
        delivery: np.ndarray,
        trusts: np.ndarray,
        day: np.ndarray,
        band: np.ndarray,
        stillborn: np.ndarray,
    ) -> np.ndarray:
        """Day a live-born baby died, or -1: most within days of birth, some later in the first year.

        Deaths after the extract date (the span's last day) are not yet known to the collection.
        """
        m = len(delivery)
        preterm = band < len(PRETERM_BANDS)
        p28 = np.where(preterm, NEONATAL_DEATH_PRETERM[np.minimum(band, 2)], NEONATAL_DEATH_TERM)
        p28 = (p28 * self.neonatal[trusts])[delivery]
        u = rng.random(m)
        neonatal = ~stillborn & (u < p28)
        later = ~stillborn & ~neonatal & (rng.random(m) < LATER_INFANT_DEATH)
        offset = np.where(
            neonatal, np.minimum(np.floor(rng.exponential(3.0, m)), 27), rng.integers(28, 365, m)
        ).astype(np.int64)
        death = np.where(neonatal | later, day[delivery] + offset, -1)
        return np.where(death > self.ctx.last_day, -1, death)

    def _birthweight(
        self, rng: np.random.Generator, weeks: np.ndarray, twins: np.ndarray, stillborn: np.ndarray
    ) -> np.ndarray:
        """Birthweight in grams from gestation, lighter for twins and stillborn babies."""
        before = np.maximum(39 - weeks, 0) * BIRTHWEIGHT_PER_WEEK_BEFORE
        after = np.maximum(weeks - 39, 0) * BIRTHWEIGHT_PER_WEEK_AFTER
        mean = (BIRTHWEIGHT_39 - before + after) * np.where(twins, BIRTHWEIGHT_TWIN, 1.0)
        mean = mean * np.where(stillborn, BIRTHWEIGHT_STILLBORN, 1.0)
        weight = mean * (1 + BIRTHWEIGHT_CV * rng.normal(0.0, 1.0, len(weeks)))
        return np.clip(np.round(weight), 250, 6500).astype(np.int64)
