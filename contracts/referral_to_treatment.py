"""Contract for consultant-led referral to treatment (RTT) waiting times, shaped like NHS England's returns.

The RTT collection is aggregate: each trust reports, every month, how many pathways it holds and how
long they have waited, in weekly bands of weeks waited since the clock started, by treatment function
(the specialty code of the return) and pathway type. v1 follows the band layout the national files
used until 2021, one column per week up to 52 weeks (`gt_00_to_01_weeks` ... `gt_51_to_52_weeks`)
and one open band beyond (`gt_52_weeks`): enough for the 18-week standard, the 52-week waiters and a
median interpolated within its weekly band. A later layout (weekly to 104 weeks) would be a v2.

`total_pathways` is the sum of the bands (pathways with a known clock start); pathways whose clock
start is unknown are counted apart, for incomplete pathways only, as the national return does.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa

from contracts.base import ContractModel

#: The open band's lower bound: pathways waiting more than this many weeks share one column.
OPEN_BAND_FROM_WEEKS = 52
#: The weekly band columns, in order of weeks waited: (column, lower bound, upper bound or None).
WEEK_BANDS: tuple[tuple[str, int, int | None], ...] = (
    *((f"gt_{w:02d}_to_{w + 1:02d}_weeks", w, w + 1) for w in range(OPEN_BAND_FROM_WEEKS)),
    (f"gt_{OPEN_BAND_FROM_WEEKS}_weeks", OPEN_BAND_FROM_WEEKS, None),
)
BAND_COLUMNS: tuple[str, ...] = tuple(column for column, _, _ in WEEK_BANDS)


def _band_field(lower: int, upper: int | None) -> object:
    waited = f"more than {lower} and up to {upper} weeks" if upper else f"more than {lower} weeks"
    return pa.Field(ge=0, description=f"Pathways that had waited {waited} at the end of the month.")


class RttPathwayV1(ContractModel):
    """One row per trust per month per treatment function per pathway type: pathways by weeks waited."""

    reporting_month: date = pa.Field(
        first_of_month=(),
        not_in_future=(),
        description="The month reported, as its first day; incomplete pathways are counted at its end.",
    )
    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the provider trust.")
    treatment_function_code: str = pa.Field(
        in_domain={"domain": "treatment_function"},
        description="Treatment function of the consultant-led service (100 general surgery, 110 trauma "
        "and orthopaedics, 130 ophthalmology, ..., X02 to X06 the other services).",
    )
    pathway_type: str = pa.Field(
        in_domain={"domain": "rtt_pathway_type"},
        description="incomplete (still waiting at the end of the month), completed_admitted (treated "
        "as an inpatient or day case in the month) or completed_non_admitted (clock stopped in the "
        "month without admission).",
    )
    # One column per weekly band, written from WEEK_BANDS so the band layout is declared once.
    for _column, _lower, _upper in WEEK_BANDS:
        __annotations__[_column] = "int"
        locals()[_column] = _band_field(_lower, _upper)
    del _column, _lower, _upper
    total_pathways: int = pa.Field(
        ge=0, description="Pathways with a known clock start: the sum of the weekly bands."
    )
    unknown_clock_start_pathways: int = pa.Field(
        nullable=True,
        ge=0,
        description="Incomplete pathways whose clock start date is unknown (not in any band); empty "
        "for completed pathways.",
    )

    class Config:
        name = "referral_to_treatment.pathways.v1"
        unique_key = {"columns": ["trust_code", "reporting_month", "treatment_function_code", "pathway_type"]}
        sums_to = {"column": "total_pathways", "parts": list(BAND_COLUMNS)}
