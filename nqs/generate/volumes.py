"""How many records each trust sends each month: national volume x trust share x season.

National volumes are the real collections' yearly totals, scaled linearly. A trust's share follows
its size (lognormal) times a source-specific factor for its type, with extra noise per source
because trusts that are large employers are not always the largest reporters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nqs.generate.organisations import SPECIALIST, Organisations
from nqs.generate.periods import Month
from nqs.generate.streams import stream

# Records per year nationally; for the workforce, staff in post at any one time: about 1.42 million
# in post plus a year's leavers and joiners is about 1.5 million people and 17 million staff-months.
ANNUAL_VOLUME: dict[str, float] = {
    "incidents": 2_500_000,
    "hip_fracture_audit": 72_000,
    "stroke_audit": 90_000,
    "joint_registry": 200_000,
    "workforce": 1_420_000,
    # written complaints about hospital and community health services (KO41a), about 230 thousand a
    # year; the same trust shares size its Friends and Family Test responses
    "patient_experience": 230_000,
}
# Relative share per trust type (acute, mental health, community, ambulance, specialist):
# acute trusts report most incidents, ambulance trusts fewest; the audits are acute-only;
# the joint registry adds the specialist orthopaedic trusts.
TYPE_FACTOR: dict[str, tuple[float, ...]] = {
    "incidents": (1.0, 0.55, 0.5, 0.12, 0.35),
    "hip_fracture_audit": (1.0, 0.0, 0.0, 0.0, 0.0),
    "stroke_audit": (1.0, 0.0, 0.0, 0.0, 0.0),
    "joint_registry": (1.0, 0.0, 0.0, 0.0, 0.0),
    "workforce": (1.0, 1.0, 1.0, 1.0, 1.0),
    "patient_experience": (1.0, 0.5, 0.45, 0.35, 0.3),
    # consultant-led waiting lists: acute trusts, and specialist trusts' single specialties
    "referral_to_treatment": (1.0, 0.0, 0.0, 0.0, 0.5),
}
NOISE: dict[str, float] = {
    "incidents": 0.35,
    "hip_fracture_audit": 0.25,
    "stroke_audit": 0.3,
    "joint_registry": 0.4,
    "workforce": 0.1,
    "patient_experience": 0.3,
    "referral_to_treatment": 0.3,
}
# Amplitude of a yearly cosine peaking in January: winter brings more falls, fractures and strokes
# and cancels elective joint replacements. A full cosine averages to one over a year, so yearly
# totals stay at the national volume.
SEASONAL_AMPLITUDE: dict[str, float] = {
    "incidents": 0.05,
    "hip_fracture_audit": 0.08,
    "stroke_audit": 0.05,
    "joint_registry": -0.1,
    "workforce": 0.0,
    "patient_experience": 0.0,
}
ORTHOPAEDIC_SPECIALIST_FACTOR = 2.5


@dataclass(frozen=True)
class Volumes:
    """Each source's share of national volume per trust (shares sum to one)."""

    scale: float
    shares: dict[str, np.ndarray]

    def expected(self, source: str, month: Month) -> np.ndarray:
        """Expected records per trust in `month` (before Poisson scatter)."""
        season = 1.0 + SEASONAL_AMPLITUDE[source] * np.cos(2 * np.pi * (month.month - 1) / 12)
        return ANNUAL_VOLUME[source] * self.scale / 12 * self.shares[source] * season

    def expected_headcount(self) -> np.ndarray:
        """Staff in post per trust at the start of the span."""
        return ANNUAL_VOLUME["workforce"] * self.scale * self.shares["workforce"]


def build_volumes(seed: int, orgs: Organisations, scale: float) -> Volumes:
    """Per-source shares for every trust; a trust's noise is fixed by the seed, not the month."""
    rng = stream(seed, "volumes")
    shares: dict[str, np.ndarray] = {}
    for source, factors in TYPE_FACTOR.items():
        factor = np.asarray(factors)[orgs.trust_type]
        if source == "joint_registry":
            orthopaedic = np.array(["Orthopaedic" in name for name in orgs.trust_names])
            is_orthopaedic = (orgs.trust_type == SPECIALIST) & orthopaedic
            factor = np.where(is_orthopaedic, ORTHOPAEDIC_SPECIALIST_FACTOR, factor)
        weight = orgs.trust_size * factor * np.exp(rng.normal(0.0, NOISE[source], orgs.n_trusts))
        shares[source] = weight / weight.sum()
    return Volumes(scale=scale, shares=shares)
