"""Patient experience: the quarterly complaints return through landing, freshness and the ledger, the
planted A&E truth seen by the funnel at national scale, and the metrics on the sample build.

Landing and freshness run the real code on a real generated quarter (written to a temporary sources
folder); the funnel is nqs.stats' on the generator's own national-scale returns; the metric values are
read from the sample build (the `sample_build` session fixture) and recomputed here from the landed
rows.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import Build

from contracts.sources import get_table
from nqs.generate import generate_sources
from nqs.generate.context import Context
from nqs.generate.organisations import build_organisations
from nqs.generate.patient_experience import PatientExperienceGenerator
from nqs.generate.periods import month_span
from nqs.generate.truths import plant_truths
from nqs.generate.volumes import build_volumes
from nqs.landing.land import land_source_table
from nqs.landing.ledger import read_ledger
from nqs.landing.paths import landed_paths, parquet_files
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY
from nqs.stats import funnel, orient_outliers
from orchestration.defs.ingest.freshness import expected_month, freshness

COMPLAINTS = get_table("patient_experience", "complaints")
FFT = get_table("patient_experience", "friends_and_family")
TODAY = date(2026, 6, 30)


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four months of sources ending in July 2025: April's quarter whole, July's only begun."""
    sources = tmp_path_factory.mktemp("experience") / "sources"
    generate_sources(sources, scale=0.002, seed=5, months=4, end="2025-07", bad_row_share=0.0)
    return sources


def test_a_quarterly_file_lands_in_the_partition_of_its_first_month(delivered: Path, tmp_path: Path):
    landed = tmp_path / "landed"
    results = land_source_table(
        COMPLAINTS, delivered, landed, pseudonym_key=SAMPLE_PSEUDONYM_KEY, today=TODAY
    )
    assert [r.source_file for r in results] == ["patient_experience/complaints_2025-04.csv"]
    assert results[0].critical_error is None and results[0].rows_quarantined == 0
    accepted, _ = landed_paths(COMPLAINTS, landed)
    files = parquet_files(accepted)
    assert [p.relative_to(accepted).as_posix() for p in files] == ["month=2025-04/complaints_2025-04.parquet"]
    rows = pl.read_parquet(files[0])
    assert rows.height == results[0].rows_accepted > 0
    assert set(rows["quarter_start"]) == {date(2025, 4, 1)}

    ledger = read_ledger(COMPLAINTS, landed)
    assert ledger.pending() == {"patient_experience/complaints_2025-04.csv": "2025-04"}
    assert ledger.pending_months() == {"2025-04"}
    ledger.mark_built()
    ledger.save()
    again = land_source_table(
        COMPLAINTS, delivered, landed, pseudonym_key=SAMPLE_PSEUDONYM_KEY, today=TODAY, only_changed=True
    )
    assert again == [] and read_ledger(COMPLAINTS, landed).pending_months() == set()


def test_a_quarter_is_due_after_its_last_month_and_its_lag(delivered: Path, tmp_path: Path):
    """April to June 2025, with a lag of 2, is due by the end of August; the monthly FFT is not
    judged by quarters."""
    landed = tmp_path / "landed"
    land_source_table(COMPLAINTS, delivered, landed, pseudonym_key=SAMPLE_PSEUDONYM_KEY, today=TODAY)
    assert expected_month(COMPLAINTS, date(2025, 8, 31)) == date(2025, 1, 1)
    assert expected_month(COMPLAINTS, date(2025, 9, 1)) == date(2025, 4, 1)
    assert expected_month(COMPLAINTS, date(2025, 11, 30)) == date(2025, 4, 1)
    assert expected_month(COMPLAINTS, date(2025, 12, 1)) == date(2025, 7, 1)
    assert expected_month(FFT, date(2025, 9, 1)) == date(2025, 7, 1)
    on_time = freshness(COMPLAINTS, landed, date(2025, 11, 30))
    assert on_time.is_fresh and on_time.latest == date(2025, 4, 1)
    late = freshness(COMPLAINTS, landed, date(2026, 1, 5))
    assert not late.is_fresh and late.expected == date(2025, 7, 1) and late.months_overdue == 3


def test_planted_ae_trusts_are_funnel_outliers_at_national_scale():
    """At scale 1.0 with 24 months, the latest complete financial year's A&E funnel flags both
    planted trusts as worse (beyond 99.8%), against the overdispersed spread of every other trust."""
    span = month_span("2026-03", 24)
    orgs = build_organisations(42, span)
    volumes = build_volumes(42, orgs, 1.0)
    truths = plant_truths(orgs, volumes, span)
    ctx = Context(seed=42, scale=1.0, span=span, orgs=orgs, volumes=volumes, truths=truths)
    generator = PatientExperienceGenerator(ctx)
    year = pl.concat(generator.month(m) for m in span[12:])  # April 2025 to March 2026
    ae = year.filter(pl.col("setting") == "emergency_department").with_columns(
        (pl.col("very_good") + pl.col("good")).alias("positive")
    )
    result = orient_outliers(
        funnel(ae, numerator="positive", denominator="responses", group="trust_code"), "increase"
    )
    planted = {orgs.trust_codes[t] for t in truths.worse["fft_ae_positive"]}
    flagged = dict(result.select("group", "outlier_status").iter_rows())
    assert {flagged[code] for code in planted} == {"alarm_worse"}
    others = [status for code, status in flagged.items() if code not in planted]
    assert sum(status == "alarm_worse" for status in others) <= 0.02 * len(others)


# ---------------------------------------------------------------------------------------------
# The sample build
# ---------------------------------------------------------------------------------------------

METRICS = (
    "fft_inpatient_positive",
    "fft_ae_positive",
    "complaints_per_1000_bed_days",
    "complaints_upheld_share",
)


def _england(build: Build, metric: str, period_type: str) -> list[tuple[date, float, float, float]]:
    return build.query(
        "select period_start, numerator, denominator, value from marts.metric_values "
        f"where metric_id = '{metric}' and org_level = 'england' and org_view = 'current' "
        f"and period_type = '{period_type}' order by period_start"
    )


def test_national_values_are_realistic(sample_build: Build):
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    years = {m: _england(sample_build, m, "financial_year") for m in METRICS}
    assert all(len(rows) == 2 for rows in years.values()), years  # 2024-25 and 2025-26
    for _, _, _, value in years["fft_inpatient_positive"]:
        assert 0.92 < value < 0.96
    for _, _, _, value in years["fft_ae_positive"]:
        assert 0.74 < value < 0.84
    for _, numerator, _, value in years["complaints_per_1000_bed_days"]:
        assert 2 < value < 12 and numerator > 0
    for _, _, _, value in years["complaints_upheld_share"]:
        assert 0.45 < value < 0.7


def test_quarterly_metrics_sit_on_the_first_month_of_each_quarter(sample_build: Build):
    for metric in ("complaints_per_1000_bed_days", "complaints_upheld_share"):
        months = _england(sample_build, metric, "month")
        quarters = _england(sample_build, metric, "quarter")
        assert {start.month for start, *_ in months} == {1, 4, 7, 10}
        assert [row[:3] for row in months] == [row[:3] for row in quarters]  # a month row is its quarter


def test_complaint_rates_are_recomputed_from_the_landed_rows(sample_build: Build):
    """England's rate per quarter: the landed complaints of trusts with beds in all three months over
    their occupied bed days, from the landed returns themselves."""
    landed = sample_build.data_dir / "landed"
    complaints = pl.read_parquet(parquet_files(landed_paths(COMPLAINTS, landed)[0]))
    beds = pl.read_parquet(parquet_files(landed_paths(get_table("bed_availability", "occupancy"), landed)[0]))
    beds = beds.with_columns(
        quarter_start=pl.col("reporting_month").dt.truncate("3mo")  # calendar quarters: Jan, Apr, Jul, Oct
    )
    bed_quarters = (
        beds.group_by("trust_code", "quarter_start")
        .agg(pl.col("occupied_bed_days").sum(), pl.col("reporting_month").n_unique().alias("months"))
        .filter(pl.col("months") == 3)
    )
    expected = (
        complaints.group_by("trust_code", "quarter_start")
        .agg(pl.col("complaints_received").sum())
        .join(bed_quarters, on=["trust_code", "quarter_start"])
        .group_by("quarter_start")
        .agg(pl.col("complaints_received").sum(), pl.col("occupied_bed_days").sum())
        .sort("quarter_start")
    )
    built = _england(sample_build, "complaints_per_1000_bed_days", "quarter")
    assert [(start, numerator, denominator) for start, numerator, denominator, _ in built] == list(
        expected.iter_rows()
    )
