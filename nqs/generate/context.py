"""What every source generator shares: seed, scale, span, organisations, volumes, planted truths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nqs.generate.organisations import Organisations
from nqs.generate.periods import Month
from nqs.generate.streams import stream
from nqs.generate.truths import PlantedTruths
from nqs.generate.volumes import Volumes


@dataclass(frozen=True)
class Context:
    """The fixed inputs of one generation run."""

    seed: int
    scale: float
    span: list[Month]
    orgs: Organisations
    volumes: Volumes
    truths: PlantedTruths

    @property
    def last_day(self) -> int:
        """Last day of the span: the extract date, after which nothing can have been recorded."""
        return self.span[-1].last_day

    def rng(self, source: str, month: Month) -> np.random.Generator:
        """The random stream of one source in one month."""
        return stream(self.seed, source, month.index)

    def trust_effects(self, key: int) -> np.ndarray:
        """A standard normal effect per trust: the ordinary variation between trusts on a metric."""
        return stream(self.seed, "trust_rates", key).normal(0.0, 1.0, self.orgs.n_trusts)

    def trust_variation(self, key: int, spread: float) -> np.ndarray:
        """A lognormal multiplier per trust with the given spread of its logarithm."""
        return np.exp(spread * self.trust_effects(key))

    def first_id(self, key: int, low: int, high: int) -> int:
        """Seed-dependent first number of a running identifier, so ids do not start at 1."""
        return int(stream(self.seed, "ids", key).integers(low, high))
