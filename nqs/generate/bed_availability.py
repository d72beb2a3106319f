"""Bed availability and occupancy shaped like KH03: overnight bed days by trust, month and ward type.

A trust's beds follow its incident volume (incidents are reported per bed day, so trusts report at
comparable rates) with some noise, split into the ward types its trust type runs. Occupancy is high
on general and acute wards and higher still in winter. A merged trust's beds are reported by its
successor after the merger. Planted low-reporting trusts report fewer incidents against these beds;
the beds themselves are not changed, so the planted effect shows only in the incident rates.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from contracts.domains import DOMAINS
from nqs.generate.context import Context
from nqs.generate.periods import Month
from nqs.generate.sampling import dates, lookup

WARD_TYPES = DOMAINS["ward_type"]
# Overnight beds in England by ward type (KH03, about 2024-25), scaled like every other volume.
NATIONAL_BEDS = np.array([102_000.0, 7_400.0, 17_500.0, 900.0])
# Which ward types each trust type runs (acute, mental health, community, ambulance, specialist).
WARDS_BY_TRUST_TYPE = np.array(
    [
        [1.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 1.0],
        [0.15, 0.0, 0.05, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [0.6, 0.0, 0.0, 0.0],
    ]
)
OCCUPANCY = np.array([0.92, 0.60, 0.89, 0.80])
OCCUPANCY_WINTER_RISE = np.array([0.04, 0.0, 0.01, 0.0])
BED_SPREAD = 0.15


class BedAvailabilityGenerator:
    """Fixes each trust's beds once and draws each month's `occupancy` file."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        weight = (
            ctx.volumes.shares["incidents"][:, None]
            * WARDS_BY_TRUST_TYPE[ctx.orgs.trust_type]
            * ctx.trust_variation(9, BED_SPREAD)[:, None]
        )
        totals = weight.sum(axis=0)
        self.beds = NATIONAL_BEDS * ctx.scale * weight / np.where(totals > 0, totals, 1.0)

    def month(self, month: Month) -> pl.DataFrame:
        """Bed days per trust and ward type in `month`, ordered by trust code and ward type."""
        ctx = self.ctx
        rng = ctx.rng("bed_availability", month)
        trust, ward = np.nonzero(self.beds > 0)
        available = self.beds[trust, ward] * month.n_days * rng.lognormal(0, 0.02, len(trust))
        occupancy = OCCUPANCY[ward] + (OCCUPANCY_WINTER_RISE[ward] if month.is_winter else 0.0)
        occupied = available * np.clip(occupancy + rng.normal(0, 0.02, len(trust)), 0.3, 0.99)
        lines = pl.DataFrame(
            {
                "trust_code": lookup(ctx.orgs.reporting_trust_codes(month), trust),
                "ward_type": lookup(WARD_TYPES, ward),
                "ward_order": ward,
                "available_bed_days": available,
                "occupied_bed_days": occupied,
            }
        )
        measures = ["available_bed_days", "occupied_bed_days"]
        return (
            lines.group_by("trust_code", "ward_type", "ward_order")
            .agg(pl.col(measures).sum().round(0).cast(pl.Int64))
            .filter(pl.col("available_bed_days") > 0)
            .sort("trust_code", "ward_order")
            .select(
                "trust_code",
                pl.lit(dates(np.array([month.first_day]))[0]).alias("reporting_month"),
                "ward_type",
                "available_bed_days",
                pl.min_horizontal(measures).alias("occupied_bed_days"),
            )
        )
