"""Adult social care returns by local authority: monthly discharge delays and annual ASCOF measures.

Volumes follow each council's population aged 65 and over. Discharge delays: patients discharged
after their discharge ready date (about 3.2 million a year nationally), of whom about 87% leave on the
day; the others wait about five and a half days each, somewhat under half of those days for social
care. Winter brings more discharges and fewer on the day. ASCOF, once for each financial year the
span holds whole (the file is named after April, the year's first month, and its rows are dated
there): 2B1, about 85,000 people aged 65 and over discharged into reablement from October to
December, about 82% still at home 91 days later; 3A, about 60,000 survey respondents, about 62%
extremely or very satisfied. Councils differ around those levels.

Planted truths have their own pattern, since councils are not trusts: the largest councils by
population aged 65 and over (`WORSE_COUNCILS` of them per metric in `WORSE_COUNCIL_METRICS`, each
council used once) are genuinely worse on the metric in every year, and recorded in the manifest as
`worse_local_authorities`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import expit, logit

from contracts.domains import DOMAINS
from nqs.generate.context import Context
from nqs.generate.local_authorities import LocalAuthorities
from nqs.generate.periods import Month
from nqs.generate.sampling import dates, lookup
from nqs.generate.streams import stream

MEASURES = DOMAINS["ascof_measure"]
REABLEMENT, SATISFACTION = range(len(MEASURES))
#: Discharges after a discharge ready date per year nationally.
ANNUAL_DISCHARGES = 3_200_000
ON_READY_DATE = 0.87
ON_READY_DATE_SPREAD = 0.3
WINTER_LOG_ODDS = -0.15
WINTER_DISCHARGE_RISE = 0.06
#: Mean days a delayed patient waits, and its spread between councils (lognormal).
DELAY_DAYS = 5.5
DELAY_SPREAD = 0.2
SOCIAL_CARE_SHARE = 0.45
SOCIAL_CARE_SPREAD = 0.35
#: ASCOF per year nationally: people in each measure's denominator, the share in its numerator, the
#: spread between councils (log-odds) and how far below the national level a planted worse council
#: is (log-odds: 82% becomes about 62%).
MEASURE_DENOMINATORS = np.array([85_000.0, 60_000.0])
MEASURE_LEVELS = np.array([0.82, 0.62])
MEASURE_SPREADS = np.array([0.3, 0.15])
WORSE_SHIFT = -1.0
METRIC_OF_MEASURE = ("reablement_still_at_home_91d", "care_user_satisfaction")
#: Metrics with planted worse councils, and how many councils each.
WORSE_COUNCIL_METRICS: tuple[str, ...] = ("reablement_still_at_home_91d",)
WORSE_COUNCILS = 2


@dataclass(frozen=True)
class WorseCouncils:
    """Councils planted as worse on a metric, by council position."""

    worse: dict[str, tuple[int, ...]]

    def flagged(self, metric_id: str, count: int) -> np.ndarray:
        mask = np.zeros(count, dtype=bool)
        mask[list(self.worse.get(metric_id, ()))] = True
        return mask

    def manifest(self, councils: LocalAuthorities) -> dict[str, list[str]]:
        return {metric: [councils.codes[i] for i in chosen] for metric, chosen in self.worse.items()}


def plant_worse_councils(councils: LocalAuthorities) -> WorseCouncils:
    """The largest councils by population aged 65 and over, taking turns between metrics."""
    ranked = list(np.argsort(-councils.population_65, kind="stable"))
    worse: dict[str, list[int]] = {metric: [] for metric in WORSE_COUNCIL_METRICS}
    for _round in range(WORSE_COUNCILS):
        for metric in WORSE_COUNCIL_METRICS:
            worse[metric].append(int(ranked.pop(0)))
    return WorseCouncils({metric: tuple(chosen) for metric, chosen in worse.items()})


class AdultSocialCareGenerator:
    """Fixes each council's rates once; draws the monthly discharge file and, each year, ASCOF's."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.councils = ctx.orgs.local_authorities
        n = self.councils.count
        rng = stream(ctx.seed, "adult_social_care")
        share = self.councils.population_65 / self.councils.population_65.sum()
        self.discharges = ANNUAL_DISCHARGES * ctx.scale / 12 * share * np.exp(rng.normal(0, 0.1, n))
        self.on_ready_log_odds = logit(ON_READY_DATE) + ON_READY_DATE_SPREAD * rng.normal(0, 1, n)
        self.delay_days = DELAY_DAYS * np.exp(DELAY_SPREAD * rng.normal(0, 1, n))
        self.social_care_share = expit(logit(SOCIAL_CARE_SHARE) + SOCIAL_CARE_SPREAD * rng.normal(0, 1, n))
        sizes = share[:, None] * np.exp(rng.normal(0, 0.15, (n, len(MEASURES))))
        self.measure_denominators = ctx.scale * MEASURE_DENOMINATORS * sizes / sizes.sum(axis=0)
        self.measure_log_odds = logit(MEASURE_LEVELS) + MEASURE_SPREADS * rng.normal(0, 1, (n, len(MEASURES)))
        self.truths = plant_worse_councils(self.councils)
        for column, metric in enumerate(METRIC_OF_MEASURE):  # worse than the level, whatever their own
            worse = self.truths.flagged(metric, n)
            self.measure_log_odds[worse, column] = logit(MEASURE_LEVELS[column]) + WORSE_SHIFT

    def discharge_delays(self, month: Month) -> pl.DataFrame:
        """One row per council for `month`, ordered by council code."""
        rng = self.ctx.rng("adult_social_care", month)
        winter = month.is_winter
        discharged = rng.poisson(self.discharges * (1 + WINTER_DISCHARGE_RISE * winter))
        on_day = rng.binomial(discharged, expit(self.on_ready_log_odds + WINTER_LOG_ODDS * winter))
        delayed = discharged - on_day
        delay_days = delayed + rng.poisson(delayed * (self.delay_days - 1))
        social_care_days = rng.binomial(delay_days, self.social_care_share)
        frame = pl.DataFrame(
            {
                "la_code": list(self.councils.codes),
                "reporting_month": dates(np.full(self.councils.count, month.first_day)),
                "patients_discharged": discharged,
                "discharged_on_ready_date": on_day,
                "delay_days": delay_days,
                "delay_days_social_care": social_care_days,
            }
        )
        return frame.sort("la_code")

    def outcomes(self, first: Month) -> pl.DataFrame:
        """ASCOF measures of the financial year starting with `first` (April), one row per council and
        measure."""
        rng = stream(self.ctx.seed, "adult_social_care", first.index, 1)  # apart from the discharges
        council, measure = np.nonzero(self.measure_denominators > 0)
        denominator = rng.poisson(self.measure_denominators[council, measure])
        numerator = rng.binomial(denominator, expit(self.measure_log_odds[council, measure]))
        frame = pl.DataFrame(
            {
                "la_code": lookup(self.councils.codes, council),
                "financial_year_start": dates(np.full(len(council), first.first_day)),
                "measure_id": lookup(MEASURES, measure),
                "measure_order": measure,
                "numerator": numerator,
                "denominator": denominator,
                # a planted council keeps its figures: one year is all a funnel has to find it in
                "_protected": pl.Series(
                    np.isin(council, np.concatenate([np.array(c) for c in self.truths.worse.values()]))
                ),
            }
        )
        return frame.filter(pl.col("denominator") > 0).sort("la_code", "measure_order").drop("measure_order")
