"""`generate_sources`: the whole synthetic national extract, month by month, with its manifest."""

from __future__ import annotations

from pathlib import Path

from contracts.sources import SYNTHETIC_FLAG
from nqs.generate.adult_social_care import AdultSocialCareGenerator
from nqs.generate.audits import HipFractureGenerator, StrokeGenerator
from nqs.generate.bad_rows import DefectEnv, future_start
from nqs.generate.bed_availability import BedAvailabilityGenerator
from nqs.generate.context import Context
from nqs.generate.incidents import IncidentGenerator
from nqs.generate.joint_registry import JointRegistryGenerator
from nqs.generate.maternity import MaternityGenerator
from nqs.generate.organisations import build_organisations
from nqs.generate.patient_experience import PatientExperienceGenerator
from nqs.generate.periods import month_span, parse_end, period_ended, quarter_ended
from nqs.generate.personalised_care import PersonalisedCareGenerator
from nqs.generate.referral_to_treatment import ReferralToTreatmentGenerator
from nqs.generate.tables import (
    ADMISSIONS,
    BIRTHS,
    COMPLAINTS,
    DISCHARGE_DELAYS,
    EPISODES,
    FRIENDS_AND_FAMILY,
    INTERVENTIONS,
    OCCUPANCY,
    ORGANISATIONS,
    OUTCOMES,
    PROCEDURES,
    PROMS,
    REVISIONS,
    RTT_PATHWAYS,
    STAFF_MONTHS,
    VACANCIES,
)
from nqs.generate.truths import plant_truths
from nqs.generate.volumes import build_volumes
from nqs.generate.workforce import WorkforceGenerator
from nqs.generate.writer import SourceWriter, clear_output, manifest_ready, write_manifest


def _check_arguments(scale: float, months: int, bad_row_share: float) -> None:
    """Fail fast on arguments that would silently produce nonsense."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    if not 0 <= bad_row_share < 0.5:
        raise ValueError(f"bad_row_share must be in [0, 0.5), got {bad_row_share}")


def generate_sources(
    out_dir: Path,
    *,
    scale: float = 0.01,
    seed: int = 42,
    months: int = 24,
    end: str = "2026-03",
    bad_row_share: float = 0.002,
) -> dict:
    """Write every source folder under `out_dir` and `_manifest.json`; return the manifest.

    `scale` 1.0 is one national year of volume per 12 months. Output is byte-identical for the same
    arguments. Earlier output in the source folders is removed first. Months are generated and
    written one at a time, so memory stays bounded by one month of the largest source.
    """
    _check_arguments(scale, months, bad_row_share)
    out_dir = Path(out_dir)
    span = month_span(end, months)
    orgs = build_organisations(seed, span)
    volumes = build_volumes(seed, orgs, scale)
    truths = plant_truths(orgs, volumes, span)
    ctx = Context(seed=seed, scale=scale, span=span, orgs=orgs, volumes=volumes, truths=truths)

    clear_output(out_dir)
    env = DefectEnv(
        orgs.unknown_trust_codes,
        future_from_day=future_start(*parse_end(end)),
        unknown_la_codes=orgs.local_authorities.unknown_codes,
    )
    writer = SourceWriter(out_dir, seed, bad_row_share, env)
    writer.write(ORGANISATIONS, orgs.frame())

    incidents, hips, strokes = IncidentGenerator(ctx), HipFractureGenerator(ctx), StrokeGenerator(ctx)
    registry, workforce = JointRegistryGenerator(ctx), WorkforceGenerator(ctx)
    beds = BedAvailabilityGenerator(ctx)
    experience = PatientExperienceGenerator(ctx)
    waits = ReferralToTreatmentGenerator(ctx)
    births = MaternityGenerator(ctx)
    social_care, personalised = AdultSocialCareGenerator(ctx), PersonalisedCareGenerator(ctx)
    for month in span:
        files_left = len(span) - month.index
        joint = registry.month(month)
        staff = workforce.month(month)
        frames = {
            incidents.spec(month): incidents.month(month),
            EPISODES: hips.month(month),
            ADMISSIONS: strokes.month(month),
            PROCEDURES: joint["procedures"],
            REVISIONS: joint["revisions"],
            PROMS: joint["proms"],
            STAFF_MONTHS: staff["staff_months"],
            VACANCIES: staff["vacancies"],
            OCCUPANCY: beds.month(month),
            FRIENDS_AND_FAMILY: experience.month(month),
            RTT_PATHWAYS: waits.month(month),
            BIRTHS: births.month(month),
            DISCHARGE_DELAYS: social_care.discharge_delays(month),
            INTERVENTIONS: personalised.month(month),
        }
        for spec, frame in frames.items():
            writer.write(spec, frame, month, files_left)
        del frames, joint, staff
        if first := quarter_ended(span, month):  # quarterly: the file of a quarter the span holds whole
            quarters_left = (len(span) - 1 - month.index) // 3 + 1
            writer.write(COMPLAINTS, experience.quarter(first, month), first, quarters_left)
        if first := period_ended(span, month, 12):  # annual: a financial year the span holds whole, at April
            years_left = (len(span) - 1 - month.index) // 12 + 1
            writer.write(OUTCOMES, social_care.outcomes(first), first, years_left)

    worse, deteriorating = truths.manifest(orgs, span)
    manifest = manifest_ready(
        {
            "scale": scale,
            "seed": seed,
            "months": months,
            "end": end,
            "start": span[0].label,
            "bad_row_share": bad_row_share,
            "generated_by": "nqs generate",
            SYNTHETIC_FLAG: True,
            "files": dict(sorted(writer.files.items())),
            "worse_trusts": worse,
            "worse_local_authorities": social_care.truths.manifest(orgs.local_authorities),
            "deteriorating": deteriorating,
            "also_affected": truths.also_affected(orgs),
            "merger": {
                "trust_code": orgs.trust_codes[orgs.merger.trust],
                "successor_code": orgs.trust_codes[orgs.merger.successor],
                "close_date": span[orgs.merger.close_month_index].last_date_text,
            },
            "bad_rows": writer.bad_rows,
        }
    )
    write_manifest(out_dir, manifest)
    return manifest
