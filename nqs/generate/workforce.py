"""Workforce returns shaped like ESR: one row per staff member per month, plus vacancies.

A staff population is carried from month to month: each month some staff leave (on a day inside the
month, which is their last row), joiners replace them, and everyone in post reports sickness days.
Staff of a merged trust transfer to the successor with their ids. Vacancies are reported per trust,
month and staff group against an establishment planned from the trust's expected staffing.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from contracts.domains import DOMAINS
from nqs.generate.context import Context
from nqs.generate.periods import Month
from nqs.generate.sampling import categorical, categorical_by_group, dates, lookup, prefixed_ids, with_nulls

STAFF_GROUPS = DOMAINS["staff_group"]
GROUP_BY_TRUST_TYPE = np.array(
    [
        [0.30, 0.12, 0.08, 0.09, 0.27, 0.14, 0.00],  # acute
        [0.28, 0.05, 0.07, 0.08, 0.40, 0.12, 0.00],  # mental health
        [0.35, 0.03, 0.18, 0.05, 0.25, 0.14, 0.00],  # community
        [0.03, 0.005, 0.02, 0.01, 0.12, 0.20, 0.615],  # ambulance
        [0.30, 0.15, 0.09, 0.14, 0.20, 0.12, 0.00],  # specialist
    ]
)
# Contracted FTE: most staff full time, a large part-time group, a few above 1.0 (medical staff on
# extended contracts) and a few on small contracts.
FTE_VALUES = np.array([1.0, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.9, 1.1, 1.2])
FTE_SHARES = (0.66, 0.09, 0.05, 0.06, 0.05, 0.03, 0.015, 0.01, 0.02, 0.01, 0.005)
MEAN_TENURE_YEARS = 9.0

LEAVER_RATE = 0.10  # per year
LEAVER_SPREAD = 0.15
LEAVER_RATE_WORSE = 0.25
GROWTH_PER_MONTH = 0.002

# Sickness: short episodes (mean about 3.5 days) for a quarter of staff in a month, and whole-month
# long-term absence for 2%: about 5% of available days overall.
SHORT_SICKNESS = 0.25
SHORT_SICKNESS_EXTRA_DAYS = 2.5
LONG_SICKNESS = 0.02
SICKNESS_SPREAD = 0.1
SICKNESS_WORSE_FACTOR = 1.8
SICKNESS_WINTER_FACTOR = 1.15
SICKNESS_BY_GROUP = np.array([1.15, 0.55, 0.9, 0.8, 1.25, 1.1, 1.2])

VACANCY_RATE = 0.085
VACANCY_SPREAD = 0.15
VACANCY_RATE_WORSE = 0.22
VACANCY_BY_GROUP = np.array([1.2, 0.9, 1.0, 0.9, 0.9, 0.8, 1.0])
MEAN_FTE = float(np.dot(FTE_VALUES, np.asarray(FTE_SHARES) / np.sum(FTE_SHARES)))


class WorkforceGenerator:
    """Carries the staff population across months and draws each month's two files."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.headcount = ctx.volumes.expected_headcount()
        annual = LEAVER_RATE * ctx.trust_variation(6, LEAVER_SPREAD)
        annual[ctx.truths.flagged("staff_leaver_rate")] = LEAVER_RATE_WORSE
        self.monthly_leaving = 1 - (1 - annual) ** (1 / 12)
        self.sickness_multiplier = ctx.trust_variation(7, SICKNESS_SPREAD)
        vacancy = VACANCY_RATE * ctx.trust_variation(8, VACANCY_SPREAD)
        vacancy[ctx.truths.flagged("vacancy_rate")] = VACANCY_RATE_WORSE
        self.vacancy_rate = vacancy
        self.next_number = 0
        self.id_multiplier, self.id_offset = self._id_permutation()
        self.staff: dict[str, np.ndarray] = {}

    def _id_permutation(self) -> tuple[int, int]:
        """An affine map over 8 digits, so staff ids look arbitrary yet stay unique."""
        rng = self.ctx.rng("workforce", self.ctx.span[0])
        multiplier = int(rng.integers(10_000_000, 99_999_999)) | 1
        while multiplier % 5 == 0:
            multiplier += 2
        return multiplier, int(rng.integers(0, 100_000_000))

    def _new_staff(
        self, rng: np.random.Generator, trusts: np.ndarray, start_day: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Records for new staff members of `trusts` starting on `start_day`."""
        n = len(trusts)
        numbers = self.next_number + np.arange(n, dtype=np.int64)
        self.next_number += n
        return {
            "number": (numbers * self.id_multiplier + self.id_offset) % 100_000_000,
            "trust": trusts,
            "group": categorical_by_group(rng, self.ctx.orgs.trust_type[trusts], GROUP_BY_TRUST_TYPE),
            "fte": FTE_VALUES[categorical(rng, FTE_SHARES, n)],
            "start_day": start_day,
        }

    def _initial_population(self, rng: np.random.Generator, month: Month) -> None:
        """Staff in post at the start of the span, with tenures of up to decades."""
        counts = np.rint(self.headcount).astype(np.int64)
        trusts = np.repeat(np.arange(self.ctx.orgs.n_trusts), counts)
        tenure_days = np.minimum(rng.exponential(MEAN_TENURE_YEARS * 365.25, len(trusts)), 45 * 365)
        tenure = 1 + tenure_days.astype(np.int64)
        self.staff = self._new_staff(rng, trusts, month.first_day - tenure)

    def _add_joiners(self, rng: np.random.Generator, month: Month) -> None:
        """Joiners replacing the trust's expected leavers (plus slow growth), starting in `month`."""
        expected = self.headcount * (self.monthly_leaving + GROWTH_PER_MONTH)
        trusts = np.repeat(np.arange(self.ctx.orgs.n_trusts), rng.poisson(expected))
        start = rng.integers(month.first_day, month.last_day + 1, len(trusts))
        joiners = self._new_staff(rng, trusts, start)
        self.staff = {key: np.concatenate([self.staff[key], joiners[key]]) for key in self.staff}

    def month(self, month: Month) -> dict[str, pl.DataFrame]:
        """The `staff_months` and `vacancies` files of `month`; leavers are removed afterwards."""
        rng = self.ctx.rng("workforce", month)
        if not self.staff:
            self._initial_population(rng, month)
        else:
            self._add_joiners(rng, month)
        staff = self.staff
        n = len(staff["trust"])
        leaves = rng.random(n) < self.monthly_leaving[staff["trust"]]
        earliest = np.maximum(staff["start_day"], month.first_day)
        leaving_day = earliest + np.floor(rng.random(n) * (month.last_day - earliest + 1)).astype(np.int64)
        sickness = self._sickness_days(rng, month)
        staff_months = self._staff_frame(month, leaves, leaving_day, sickness)
        vacancies = self._vacancies(rng, month)
        self.staff = {key: values[~leaves] for key, values in staff.items()}
        return {"staff_months": staff_months, "vacancies": vacancies}

    def _sickness_days(self, rng: np.random.Generator, month: Month) -> np.ndarray:
        """Calendar days off sick this month, by trust, staff group, season and planted truths."""
        staff = self.staff
        n = len(staff["trust"])
        multiplier = self.sickness_multiplier[staff["trust"]] * SICKNESS_BY_GROUP[staff["group"]]
        flagged = self.ctx.truths.flagged("sickness_absence_rate", month)[staff["trust"]]
        multiplier = np.where(flagged, multiplier * SICKNESS_WORSE_FACTOR, multiplier)
        if month.is_winter:
            multiplier = multiplier * SICKNESS_WINTER_FACTOR
        u = rng.random(n)
        long_term = u < LONG_SICKNESS * multiplier
        short = ~long_term & (u < (LONG_SICKNESS + SHORT_SICKNESS) * multiplier)
        short_days = 1 + rng.poisson(SHORT_SICKNESS_EXTRA_DAYS, n)
        days = np.where(long_term, month.n_days, np.where(short, np.minimum(short_days, month.n_days), 0))
        return days

    def _staff_frame(
        self, month: Month, leaves: np.ndarray, leaving_day: np.ndarray, sickness: np.ndarray
    ) -> pl.DataFrame:
        """One row per staff member in post, ordered by trust then staff id."""
        staff = self.staff
        trust_codes = self.ctx.orgs.reporting_trust_codes(month)
        code_rank = np.unique(np.asarray(trust_codes), return_inverse=True)[1]
        order = np.lexsort((staff["number"], code_rank[staff["trust"]]))
        fte = staff["fte"][order]
        return pl.DataFrame(
            {
                "staff_id": prefixed_ids("E", staff["number"][order], 8),
                "trust_code": lookup(trust_codes, staff["trust"][order]),
                "reporting_month": dates(np.full(len(order), month.first_day)),
                "staff_group": lookup(STAFF_GROUPS, staff["group"][order]),
                "fte": fte,
                "start_date": dates(staff["start_day"][order]),
                "leaving_date": with_nulls(dates(leaving_day[order]), ~leaves[order]),
                "sickness_fte_days": np.round(fte * sickness[order], 2),
                "available_fte_days": np.round(fte * month.n_days, 2),
            }
        )

    def _vacancies(self, rng: np.random.Generator, month: Month) -> pl.DataFrame:
        """Establishment, vacancies, bank and agency FTE per trust and staff group the trust employs.

        The establishment follows the trust's planned staffing, not the month's headcount, so small
        trusts in small samples still report every group they employ. A merged trust's lines are
        added to its successor's after the merger.
        """
        orgs = self.ctx.orgs
        trust, group = np.nonzero(GROUP_BY_TRUST_TYPE[orgs.trust_type] > 0)
        planned = self.headcount[trust] * GROUP_BY_TRUST_TYPE[orgs.trust_type[trust], group] * MEAN_FTE
        noise = rng.lognormal(0, 0.1, len(trust))
        rate = np.clip(self.vacancy_rate[trust] * VACANCY_BY_GROUP[group] * noise, 0, 0.6)
        in_post = planned * rng.lognormal(0, 0.02, len(trust))
        establishment = in_post / (1 - rate)
        vacancy = establishment - in_post
        bank = vacancy * rng.uniform(0.3, 0.6, len(trust))
        agency = vacancy * rng.uniform(0.05, 0.25, len(trust))
        lines = pl.DataFrame(
            {
                "trust_code": lookup(orgs.reporting_trust_codes(month), trust),
                "staff_group": lookup(STAFF_GROUPS, group),
                "group_order": group,
                "establishment_fte": establishment,
                "vacancy_fte": vacancy,
                "bank_fte": bank,
                "agency_fte": agency,
            }
        )
        measures = ["establishment_fte", "vacancy_fte", "bank_fte", "agency_fte"]
        return (
            lines.group_by("trust_code", "staff_group", "group_order")
            .agg(pl.col(measures).sum())
            .sort("trust_code", "group_order")
            .select(
                "trust_code",
                pl.lit(dates(np.array([month.first_day]))[0]).alias("reporting_month"),
                "staff_group",
                *[pl.col(m).round(2) for m in measures],
            )
        )
