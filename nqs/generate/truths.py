"""Planted truths: trusts made genuinely worse on a metric, and series that deteriorate from a month.

The warehouse's outlier and SPC logic is tested against these. Worse trusts are the largest acute
trusts for the metric's own source (metrics take turns, rarest signals first), so they have enough
records to be detectable even in a 1% sample; the merging pair is never used, so a planted effect
is not diluted or split by the merger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nqs.generate.organisations import ACUTE, Organisations
from nqs.generate.periods import Month
from nqs.generate.volumes import Volumes

# metric id -> (source whose volume ranks candidates, improvement direction)
METRICS: dict[str, tuple[str, str]] = {
    "hip_30day_mortality": ("hip_fracture_audit", "lower_is_better"),
    "revision_within_1y": ("joint_registry", "lower_is_better"),
    "hip_surgery_within_36h": ("hip_fracture_audit", "higher_is_better"),
    "stroke_unit_within_4h": ("stroke_audit", "higher_is_better"),
    "incident_moderate_harm_share": ("incidents", "lower_is_better"),
    "sickness_absence_rate": ("workforce", "lower_is_better"),
    "vacancy_rate": ("workforce", "lower_is_better"),
    "staff_leaver_rate": ("workforce", "lower_is_better"),
}
# Planted after every round of the metrics above, so those keep the largest trusts they need.
LATER_METRICS: dict[str, tuple[str, str]] = {
    "proms_oxford_gain_mean": ("joint_registry", "higher_is_better"),
    "incident_reporting_rate": ("incidents", "higher_is_better"),
    "incident_report_days_median": ("incidents", "lower_is_better"),
}
# Planted after every round of the metrics above (sources added later each take a tier of their own,
# so the metrics before keep the trusts they had).
EXPERIENCE_METRICS: dict[str, tuple[str, str]] = {
    "fft_ae_positive": ("patient_experience", "higher_is_better"),
}
WAITS_AND_MEDICATION_METRICS: dict[str, tuple[str, str]] = {
    "rtt_within_18_weeks": ("referral_to_treatment", "higher_is_better"),
    "medication_incident_harm_share": ("incidents", "lower_is_better"),
}
MATERNITY_METRICS: dict[str, tuple[str, str]] = {
    "perineal_tear_3rd_4th_share": ("maternity", "lower_is_better"),
    "pph_1500ml_share": ("maternity", "lower_is_better"),
}
# Personalised care is ranked by trust size, its caseload following staff.
PERSONALISED_CARE_METRICS: dict[str, tuple[str, str]] = {
    "care_and_support_plan_coverage": ("workforce", "higher_is_better"),
}
#: The tiers planted after METRICS, in order: a new source appends a tier of its own.
LATER_TIERS: tuple[dict[str, tuple[str, str]], ...] = (
    LATER_METRICS,
    EXPERIENCE_METRICS,
    WAITS_AND_MEDICATION_METRICS,
    MATERNITY_METRICS,
    PERSONALISED_CARE_METRICS,
)
# Metrics that measure a planted effect another way: the same trusts are worse on them too (a trust
# with a high death rate has a high standardised mortality ratio; one that keeps fewer staff has a
# lower stability index; later stroke unit admission means a longer median wait; smaller gains in
# the Oxford score mean fewer patients satisfied with the result).
ALSO_SHOWN_BY: dict[str, tuple[str, ...]] = {
    "hip_30day_mortality": ("hip_30day_mortality_smr",),
    "stroke_unit_within_4h": ("stroke_unit_minutes_median",),
    "staff_leaver_rate": ("staff_stability_index",),
    "proms_oxford_gain_mean": ("proms_satisfaction",),
    # longer waits: fewer within 18 weeks, more beyond 52, a longer median
    "rtt_within_18_weeks": ("rtt_52_week_waiters_per_1000", "rtt_median_weeks_waited"),
    # the agency staff covering vacancies grow with them
    "vacancy_rate": ("agency_staffing_share",),
}
# Metrics a planted effect moves too little, or on too few records, to be sure of finding it in a 1%
# sample: more harm in every incident shows in the harmful incidents per bed day, the severe or fatal
# ones (under 1% of incidents) and the medication incidents' harm, a few dozen records a year; more
# harm in medication incidents raises a trust's harm among all its incidents by a fraction of it;
# fewer incidents reported mean fewer medication incidents per bed day, and fewer harmful ones (better,
# not worse). Such a trust is neither planted worse on the metric nor without a planted effect on it
# (the manifest's `also_affected`): the benchmark counts its flags neither as found nor as false.
ALSO_AFFECTED: dict[str, tuple[str, ...]] = {
    "incident_moderate_harm_share": (
        "incident_moderate_harm_rate",
        "incident_severe_harm_share",
        "medication_incident_harm_share",
    ),
    "medication_incident_harm_share": (
        "incident_moderate_harm_share",
        "incident_moderate_harm_rate",
        "incident_severe_harm_share",
    ),
    "incident_reporting_rate": ("medication_incident_reporting_rate", "incident_moderate_harm_rate"),
}
DETERIORATING_METRICS: tuple[str, ...] = ("hip_surgery_within_36h", "sickness_absence_rate")
WORSE_TRUSTS_PER_METRIC = 2
# Share of the span after which deteriorating series turn worse (month 16 of 24: 2025-07 by default).
DETERIORATION_POINT = 0.625


@dataclass(frozen=True)
class Deterioration:
    """A trust whose metric turns worse from `from_month_index` on."""

    metric_id: str
    trust: int
    from_month_index: int


@dataclass(frozen=True)
class PlantedTruths:
    """Which trusts are worse on which metric, and which deteriorate."""

    worse: dict[str, tuple[int, ...]]
    deteriorating: tuple[Deterioration, ...]
    n_trusts: int

    def flagged(self, metric_id: str, month: Month | None = None) -> np.ndarray:
        """Trusts performing worse on `metric_id` (in `month`, if deteriorations are to count)."""
        mask = np.zeros(self.n_trusts, dtype=bool)
        mask[list(self.worse.get(metric_id, ()))] = True
        if month is not None:
            for item in self.deteriorating:
                if item.metric_id == metric_id and month.index >= item.from_month_index:
                    mask[item.trust] = True
        return mask

    def manifest(self, orgs: Organisations, span: list[Month]) -> tuple[dict, list[dict]]:
        """The `worse_trusts` and `deteriorating` entries of the manifest, in trust codes. A metric that
        shows another's effect (`ALSO_SHOWN_BY`) lists that metric's trusts after its own."""
        planted = {metric: [orgs.trust_codes[t] for t in trusts] for metric, trusts in self.worse.items()}
        worse = {metric: list(trusts) for metric, trusts in planted.items()}
        for metric, also in ALSO_SHOWN_BY.items():
            for other in also:
                if metric in planted:
                    worse[other] = [*worse.get(other, []), *planted[metric]]
        deteriorating = [
            {
                "metric_id": item.metric_id,
                "trust_code": orgs.trust_codes[item.trust],
                "from_month": span[item.from_month_index].label,
            }
            for item in self.deteriorating
        ]
        return worse, deteriorating

    def also_affected(self, orgs: Organisations) -> dict[str, list[str]]:
        """The `also_affected` entry of the manifest: metric -> trusts a planted effect moves on it in
        part (`ALSO_AFFECTED`), in trust codes."""
        affected: dict[str, list[str]] = {}
        for metric, also in ALSO_AFFECTED.items():
            for other in also:
                codes = [orgs.trust_codes[t] for t in self.worse.get(metric, ())]
                affected[other] = [*affected.get(other, []), *codes]
        return affected


def plant_truths(orgs: Organisations, volumes: Volumes, span: list[Month]) -> PlantedTruths:
    """Pick worse and deteriorating trusts, each trust used for at most one planted truth."""
    excluded = {orgs.merger.trust, orgs.merger.successor}
    acute = [t for t in orgs.trusts_of_type(ACUTE).tolist() if t not in excluded]
    used: set[int] = set()

    def largest(source: str, count: int) -> list[int]:
        share = volumes.shares[source]
        ranked = sorted((t for t in acute if t not in used), key=lambda t: (-share[t], t))
        chosen = ranked[:count]
        used.update(chosen)
        return chosen

    # Metrics take turns (rarest signals first) so none takes all the largest trusts; deteriorating
    # series pick after the first round, while large trusts are left, since they are judged on only
    # part of the span.
    worse: dict[str, list[int]] = {metric: [] for tier in (METRICS, *LATER_TIERS) for metric in tier}
    from_index = min(len(span) - 1, max(1, round(len(span) * DETERIORATION_POINT)))
    deteriorating: list[Deterioration] = []
    for round_number in range(WORSE_TRUSTS_PER_METRIC):
        for metric, (source, _direction) in METRICS.items():
            worse[metric].extend(largest(source, 1))
        if round_number == 0:
            for metric in DETERIORATING_METRICS:
                deteriorating.append(Deterioration(metric, largest(METRICS[metric][0], 1)[0], from_index))
    for tier in LATER_TIERS:
        for _round in range(WORSE_TRUSTS_PER_METRIC):
            for metric, (source, _direction) in tier.items():
                worse[metric].extend(largest(source, 1))
    frozen = {metric: tuple(trusts) for metric, trusts in worse.items()}
    return PlantedTruths(worse=frozen, deteriorating=tuple(deteriorating), n_trusts=orgs.n_trusts)
