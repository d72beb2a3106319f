"""Independent random streams, one per source and month.

Each (seed, source, month) gets its own generator, so a month can be generated on its own, the
output does not depend on the order sources are generated in, and a change to one source leaves the
others byte-identical.
"""

from __future__ import annotations

import numpy as np

_STREAM_IDS: dict[str, int] = {
    "organisations": 1,
    "truths": 2,
    "volumes": 3,
    "trust_rates": 4,
    "incidents": 10,
    "hip_fracture_audit": 11,
    "stroke_audit": 12,
    "joint_registry": 13,
    "workforce": 14,
    "ids": 15,
    "bed_availability": 16,
    "local_authorities": 17,
    "adult_social_care": 18,
    "personalised_care": 19,
    "bad_rows": 20,
    "patient_experience": 40,
    "patient_experience_complaints": 41,
    "referral_to_treatment": 21,
    "maternity": 17,
}


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """The generator for one named stream; `keys` (month index, table number) split it further."""
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAM_IDS[name], *keys]))
