"""Patient safety events shaped like LFPSE: one row per reported event, filed by reported month.

Care setting follows trust type, event category follows care setting, harm follows category and a
per-trust multiplier (planted worse trusts report markedly more moderate-or-worse harm; planted
medication-unsafe trusts more of it in their medication incidents only). Events are
reported after they happen: mostly within days, with a long tail. Planted under-reporting trusts
report fewer of their events; planted slow reporters report more of them weeks or months late.

Months from the incident contract v2's `valid_from` on are delivered under v2 (the LFPSE taxonomy):
the same draws, with harm written as `physical_harm` beside a drawn `psychological_harm`, and the care
setting written as the `service_area` and `location_type` the seed `incident_care_settings` maps it to.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from contracts.domains import DOMAINS
from contracts.sources import get_table
from nqs.generate import nhs_number
from nqs.generate.context import Context
from nqs.generate.periods import Month
from nqs.generate.sampling import (
    categorical,
    categorical_by_group,
    dates,
    days_in_month,
    lookup,
    poisson_counts,
    prefixed_ids,
)
from nqs.generate.tables import EVENTS, EVENTS_V2, TableSpec

CARE_SETTINGS = DOMAINS["care_setting"]
SETTING_BY_TRUST_TYPE = np.array(
    [
        # acute_inp, ED, maternity, MH_inp, community, ambulance, outpatient
        [0.58, 0.15, 0.08, 0.01, 0.03, 0.00, 0.15],  # acute
        [0.02, 0.00, 0.00, 0.60, 0.36, 0.00, 0.02],  # mental health
        [0.05, 0.00, 0.00, 0.02, 0.88, 0.00, 0.05],  # community
        [0.00, 0.00, 0.00, 0.00, 0.05, 0.95, 0.00],  # ambulance
        [0.70, 0.02, 0.00, 0.00, 0.03, 0.00, 0.25],  # specialist
    ]
)
CATEGORIES = DOMAINS["event_category"]
CATEGORY_BY_SETTING = np.array(
    [
        [0.14, 0.14, 0.20, 0.12, 0.07, 0.03, 0.00, 0.02, 0.10, 0.06, 0.12],
        [0.10, 0.10, 0.10, 0.02, 0.20, 0.02, 0.00, 0.06, 0.25, 0.05, 0.10],
        [0.08, 0.10, 0.02, 0.01, 0.05, 0.03, 0.60, 0.00, 0.05, 0.02, 0.04],
        [0.12, 0.03, 0.10, 0.01, 0.03, 0.01, 0.00, 0.45, 0.08, 0.05, 0.12],
        [0.15, 0.06, 0.15, 0.35, 0.06, 0.02, 0.01, 0.06, 0.06, 0.03, 0.05],
        [0.08, 0.15, 0.05, 0.01, 0.15, 0.01, 0.01, 0.02, 0.35, 0.07, 0.10],
        [0.15, 0.20, 0.05, 0.01, 0.20, 0.02, 0.01, 0.01, 0.20, 0.05, 0.10],
    ]
)
SPECIALTIES = DOMAINS["specialty"]
SPECIALTY_BY_SETTING = np.array(
    [
        [0.30, 0.15, 0.12, 0.00, 0.06, 0.01, 0.00, 0.26, 0.10],
        [0.02, 0.00, 0.00, 0.00, 0.08, 0.02, 0.85, 0.00, 0.03],
        [0.00, 0.00, 0.00, 0.95, 0.03, 0.00, 0.00, 0.00, 0.02],
        [0.00, 0.00, 0.00, 0.00, 0.03, 0.95, 0.00, 0.00, 0.02],
        [0.25, 0.00, 0.03, 0.02, 0.08, 0.20, 0.00, 0.32, 0.10],
        [0.10, 0.00, 0.00, 0.00, 0.00, 0.00, 0.80, 0.00, 0.10],
        [0.25, 0.20, 0.20, 0.05, 0.10, 0.00, 0.00, 0.10, 0.10],
    ]
)
AGE_BANDS = DOMAINS["patient_age_band"]
AGE_BY_SETTING = np.array(
    [
        [0.06, 0.30, 0.18, 0.24, 0.22],
        [0.15, 0.45, 0.13, 0.15, 0.12],
        [0.02, 0.98, 0.00, 0.00, 0.00],
        [0.05, 0.75, 0.10, 0.07, 0.03],
        [0.05, 0.25, 0.15, 0.25, 0.30],
        [0.07, 0.38, 0.15, 0.20, 0.20],
        [0.12, 0.45, 0.18, 0.15, 0.10],
    ]
)
HARM_LEVELS = DOMAINS["degree_of_harm"]
# Relative chance of moderate-or-worse harm by category (falls and pressure ulcers harm more often
# than infrastructure problems); the base gives about 4% nationally, as in published LFPSE data.
HARM_FACTOR_BY_CATEGORY = np.array([0.6, 1.2, 1.3, 1.5, 1.5, 1.0, 1.2, 1.4, 0.8, 0.3, 0.6])
MODERATE_PLUS_BASE = 0.04
WORSE_HARM_FACTOR = 2.8
# Planted medication-unsafe trusts: their medication incidents harm patients this much more often.
WORSE_MEDICATION_HARM_FACTOR = 2.5
MEDICATION = CATEGORIES.index("medication")
TRUST_HARM_SPREAD = 0.2
SERIOUS_SPLIT = (0.82, 0.12, 0.06)  # moderate, severe, fatal
MINOR_SPLIT = (0.7, 0.3)  # none, low
NEVER_EVENT_RATE = 0.0006  # among medication and treatment/procedure events
UNDER_REPORTING_FACTOR = 0.45
# Report lag kinds (within days, within weeks, months later): ordinary and planted slow reporters.
REPORT_LAG_KINDS = np.array([[0.45, 0.40, 0.15], [0.10, 0.35, 0.55]])
NHS_NUMBER_MISSING = 0.05
WEEKEND_REPORTING = 0.6
FIRST_EVENT_ID = (100_000_000, 300_000_000)
PSYCHOLOGICAL_LEVELS = DOMAINS["psychological_harm"]
# Psychological harm by physical harm (none, low, moderate, severe, fatal): mostly none, more often
# recorded where the physical harm was serious; rarely recorded for a patient who died.
PSYCHOLOGICAL_BY_PHYSICAL = np.array(
    [
        [0.93, 0.06, 0.01, 0.00],
        [0.80, 0.15, 0.04, 0.01],
        [0.55, 0.25, 0.15, 0.05],
        [0.35, 0.30, 0.25, 0.10],
        [0.90, 0.05, 0.03, 0.02],
    ]
)
CARE_SETTING_SEED = Path(__file__).resolve().parents[2] / "seeds" / "incident_care_settings.csv"


def care_setting_split() -> dict[str, tuple[str, str]]:
    """v1 care setting -> (v2 service area, v2 location type), from the seed dbt also reads."""
    with CARE_SETTING_SEED.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {row["care_setting"]: (row["service_area"], row["location_type"]) for row in rows}


def v2_from() -> date:
    """First month delivered under incident contract v2."""
    valid_from = get_table("incidents", "events").version_entry("v2").valid_from
    assert valid_from is not None
    return valid_from


class IncidentGenerator:
    """Draws each month's `events` file; event ids keep running across months."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.harm_multiplier = ctx.trust_variation(1, TRUST_HARM_SPREAD)
        self.harm_multiplier[ctx.truths.flagged("incident_moderate_harm_share")] = WORSE_HARM_FACTOR
        self.medication_harm_multiplier = np.where(
            ctx.truths.flagged("medication_incident_harm_share"), WORSE_MEDICATION_HARM_FACTOR, 1.0
        )
        self.reporting_factor = np.where(
            ctx.truths.flagged("incident_reporting_rate"), UNDER_REPORTING_FACTOR, 1.0
        )
        self.slow_reporter = ctx.truths.flagged("incident_report_days_median").astype(np.int64)
        self.next_id = ctx.first_id(1, *FIRST_EVENT_ID)
        self.v2_from = v2_from()
        split = care_setting_split()
        self.service_area = [split[s][0] for s in CARE_SETTINGS]
        self.location_type = [split[s][1] for s in CARE_SETTINGS]

    def spec(self, month: Month) -> TableSpec:
        """The file layout of `month`: v2 from the contract's valid_from on, v1 before."""
        return EVENTS_V2 if self._is_v2(month) else EVENTS

    def _is_v2(self, month: Month) -> bool:
        return date(month.year, month.month, 1) >= self.v2_from

    def month(self, month: Month) -> pl.DataFrame:
        """All events reported in `month`, ordered by reported date (ids follow that order)."""
        ctx = self.ctx
        rng = ctx.rng("incidents", month)
        counts = poisson_counts(rng, ctx.volumes.expected("incidents", month) * self.reporting_factor)
        trusts = np.repeat(np.arange(ctx.orgs.n_trusts), counts)
        n = len(trusts)
        setting = categorical_by_group(rng, ctx.orgs.trust_type[trusts], SETTING_BY_TRUST_TYPE)
        category = categorical_by_group(rng, setting, CATEGORY_BY_SETTING)
        specialty = categorical_by_group(rng, setting, SPECIALTY_BY_SETTING)
        age_band = self._age_bands(rng, setting, specialty)
        harm = self._harm(rng, trusts, category)
        never = np.isin(category, (0, 1)) & (rng.random(n) < NEVER_EVENT_RATE)
        reported = days_in_month(rng, month, n, weekend_weight=WEEKEND_REPORTING)
        event = reported - self._report_lag(rng, self.slow_reporter[trusts])
        sites = ctx.orgs.pick_sites(rng, trusts)
        nhs = nhs_number.as_text(nhs_number.valid_numbers(rng, n), rng.random(n) < NHS_NUMBER_MISSING)

        order = np.lexsort((sites, event, reported))
        ids = self.next_id + np.arange(n)
        self.next_id += n
        if self._is_v2(month):
            psychological = categorical_by_group(rng, harm, PSYCHOLOGICAL_BY_PHYSICAL)
            harm_columns = {
                "physical_harm": lookup(HARM_LEVELS, harm[order]),
                "psychological_harm": lookup(PSYCHOLOGICAL_LEVELS, psychological[order]),
                "service_area": lookup(self.service_area, setting[order]),
                "location_type": lookup(self.location_type, setting[order]),
            }
        else:
            harm_columns = {
                "degree_of_harm": lookup(HARM_LEVELS, harm[order]),
                "care_setting": lookup(CARE_SETTINGS, setting[order]),
            }
        frame = pl.DataFrame(
            {
                "event_id": prefixed_ids("W", ids, 9),
                "trust_code": lookup(ctx.orgs.reporting_trust_codes(month), trusts[order]),
                "site_code": lookup(ctx.orgs.reporting_site_codes(month), sites[order]),
                "event_date": dates(event[order]),
                "reported_date": dates(reported[order]),
                "event_category": lookup(CATEGORIES, category[order]),
                **harm_columns,
                "specialty": lookup(SPECIALTIES, specialty[order]),
                "patient_age_band": lookup(AGE_BANDS, age_band[order]),
                "is_never_event": pl.Series(never[order]),
                "nhs_number": nhs.gather(pl.Series(order)),
            }
        )
        return frame

    @staticmethod
    def _age_bands(rng: np.random.Generator, setting: np.ndarray, specialty: np.ndarray) -> np.ndarray:
        """Age band by setting, made consistent with paediatric and elderly-care specialties."""
        band = categorical_by_group(rng, setting, AGE_BY_SETTING)
        band = np.where(specialty == SPECIALTIES.index("paediatrics"), 0, band)
        elderly = specialty == SPECIALTIES.index("elderly_care")
        return np.where(elderly & (band < 2), 3, band)

    def _harm(self, rng: np.random.Generator, trusts: np.ndarray, category: np.ndarray) -> np.ndarray:
        """Degree of harm: moderate-or-worse with a category- and trust-dependent chance."""
        chance = MODERATE_PLUS_BASE * HARM_FACTOR_BY_CATEGORY[category] * self.harm_multiplier[trusts]
        chance = np.where(category == MEDICATION, chance * self.medication_harm_multiplier[trusts], chance)
        p_serious = np.minimum(chance, 0.9)
        serious = rng.random(len(trusts)) < p_serious
        minor_level = categorical(rng, MINOR_SPLIT, len(trusts))
        serious_level = 2 + categorical(rng, SERIOUS_SPLIT, len(trusts))
        return np.where(serious, serious_level, minor_level)

    @staticmethod
    def _report_lag(rng: np.random.Generator, slow: np.ndarray) -> np.ndarray:
        """Days from event to report: most within a few days, some weeks, a long tail of months."""
        n = len(slow)
        kind = categorical_by_group(rng, slow, REPORT_LAG_KINDS)
        quick = rng.integers(0, 3, n)
        weeks = rng.integers(3, 31, n)
        late = np.minimum(31 + rng.exponential(60.0, n).astype(np.int64), 720)
        return np.select([kind == 0, kind == 1], [quick, weeks], late)
