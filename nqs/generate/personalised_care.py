"""Personalised care interventions shaped like NHS England's personalised care collections.

Each trust that holds a caseload (every type but ambulance trusts) reports, per month, the people on
its caseload eligible for a personalised care and support plan (people with long-term conditions)
and for a personal health budget (people with a right to have one), and how many have one in place.
Caseloads follow trust size (staff) with more weight on community and mental health trusts; coverage
varies between trusts around the national level. Planted worse trusts (`truths.PERSONALISED_CARE_METRICS`)
record far fewer care and support plans. A merged trust's caseload is reported by its successor.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.special import expit, logit

from contracts.domains import DOMAINS
from nqs.generate.context import Context
from nqs.generate.periods import Month
from nqs.generate.sampling import dates, lookup

INTERVENTIONS = DOMAINS["personalised_care_intervention"]
CARE_PLAN, HEALTH_BUDGET = range(len(INTERVENTIONS))
METRIC_OF_INTERVENTION = ("care_and_support_plan_coverage", "personal_health_budget_coverage")
#: People eligible nationally at any one time: with a long-term condition on a trust caseload, and
#: with a right to have a personal health budget.
NATIONAL_ELIGIBLE = np.array([2_000_000.0, 180_000.0])
#: Share of eligible people with the intervention in place nationally.
NATIONAL_COVERAGE = np.array([0.45, 0.50])
#: Spread between trusts of the log-odds of coverage.
COVERAGE_SPREAD = np.array([0.18, 0.2])
#: Log-odds fall of a planted worse trust (45% of plans becomes about 26%).
WORSE_SHIFT = -0.85
#: Caseload per member of staff by trust type (acute, mental health, community, ambulance, specialist).
CASELOAD_BY_TYPE = np.array([1.0, 1.4, 1.8, 0.0, 0.3])
CASELOAD_SPREAD = 0.2


class PersonalisedCareGenerator:
    """Fixes each trust's caseload and coverage once and draws each month's `interventions` file."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        weight = (
            ctx.volumes.shares["workforce"]
            * CASELOAD_BY_TYPE[ctx.orgs.trust_type]
            * ctx.trust_variation(21, CASELOAD_SPREAD)
        )
        self.eligible = ctx.scale * np.outer(weight / weight.sum(), NATIONAL_ELIGIBLE)
        effects = np.column_stack([ctx.trust_effects(22), ctx.trust_effects(23)])
        self.log_odds = logit(NATIONAL_COVERAGE) + effects * COVERAGE_SPREAD

    def month(self, month: Month) -> pl.DataFrame:
        """People eligible and with each intervention per trust, ordered by trust code and intervention."""
        ctx = self.ctx
        rng = ctx.rng("personalised_care", month)
        trust, intervention = np.nonzero(self.eligible > 0)
        eligible = rng.poisson(self.eligible[trust, intervention])
        log_odds = self.log_odds[trust, intervention]
        for column, metric in enumerate(METRIC_OF_INTERVENTION):
            worse = ctx.truths.flagged(metric, month)[trust] & (intervention == column)
            log_odds = np.where(worse, log_odds + WORSE_SHIFT, log_odds)
        with_intervention = rng.binomial(eligible, expit(log_odds))
        lines = pl.DataFrame(
            {
                "trust_code": lookup(ctx.orgs.reporting_trust_codes(month), trust),
                "intervention": lookup(INTERVENTIONS, intervention),
                "intervention_order": intervention,
                "people_eligible": eligible,
                "people_with_intervention": with_intervention,
            }
        )
        return (
            lines.group_by("trust_code", "intervention", "intervention_order")
            .agg(pl.col("people_eligible", "people_with_intervention").sum().cast(pl.Int64))
            .filter(pl.col("people_eligible") > 0)
            .sort("trust_code", "intervention_order")
            .select(
                "trust_code",
                pl.lit(dates(np.array([month.first_day]))[0]).alias("reporting_month"),
                "intervention",
                "people_eligible",
                "people_with_intervention",
            )
        )
