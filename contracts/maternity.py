"""Contract for the national maternity collection: one row per baby born, shaped like the Maternity
Services Data Set (MSDS) as the National Maternity and Perinatal Audit (NMPA) reads it.

A delivery (the labour and delivery record) has one or more babies; each baby is a row with its own
birth record, and the mother's details and what happened to her at the delivery (perineal trauma,
blood loss) are repeated on every row of the delivery, as the MSDS baby-level extract carries them.
Mothers younger than 14 or older than 50 are real but rare, so they are minor findings.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check

#: A stillbirth is a baby born with no signs of life at or after 24 completed weeks of pregnancy;
#: before that it is a late fetal loss, which the collection does not record as a birth.
STILLBIRTH_FROM_WEEKS = 24


class MaternityBirthV1(ContractModel):
    """One row per baby born (MSDS-like); monthly files by delivery month."""

    birth_id: str = pa.Field(
        str_matches=r"^MB[0-9]{8}$",
        description="Birth reference, `MB` and eight digits, one per baby; the natural key.",
    )
    delivery_id: str = pa.Field(
        str_matches=r"^MD[0-9]{8}$",
        description="Labour and delivery reference, `MD` and eight digits, shared by the babies of a "
        "multiple birth.",
    )
    birth_order: int = pa.Field(
        in_range={"min_value": 1, "max_value": 6},
        description="Order of the baby within its delivery: 1 for a singleton or the first twin.",
    )
    trust_code: str = pa.Field(
        ods_trust_code=(), description="ODS code of the trust where the baby was born."
    )
    site_code: str = pa.Field(ods_site_code=(), description="ODS code of the maternity unit's site.")
    mother_nhs_number: str = pa.Field(
        nhs_number=(),
        description="Mother's NHS number; pseudonymised at landing (mother_nhs_number_hash).",
    )
    mother_age: int = pa.Field(
        in_range={"min_value": 10, "max_value": 65}, description="Mother's age in years at the delivery."
    )
    mother_ethnic_category: str = pa.Field(
        in_domain={"domain": "ethnic_category"},
        description="Mother's ethnic category, NHS Data Dictionary code: A..S, Z not stated, 99 not known.",
    )
    imd_quintile: int = pa.Field(
        in_range={"min_value": 1, "max_value": 5},
        description="Index of Multiple Deprivation quintile of the mother's residence (from her postcode), "
        "1 = most deprived.",
    )
    delivery_date: date = pa.Field(not_in_future=(), description="Date the baby was born.")
    gestation_weeks: int = pa.Field(
        in_range={"min_value": 20, "max_value": 45},
        description="Gestation at birth, completed weeks (the weeks of weeks+days).",
    )
    gestation_days: int = pa.Field(
        in_range={"min_value": 0, "max_value": 6},
        description="Gestation at birth, days beyond the completed weeks (the days of weeks+days), 0..6.",
    )
    delivery_mode: str = pa.Field(
        in_domain={"domain": "delivery_mode"},
        description="Mode of delivery of this baby: spontaneous_vaginal, instrumental (forceps or "
        "ventouse), planned_caesarean or emergency_caesarean.",
    )
    birth_outcome: str = pa.Field(
        in_domain={"domain": "birth_outcome"}, description="live_birth or stillbirth."
    )
    birthweight_g: int = pa.Field(
        in_range={"min_value": 200, "max_value": 7000}, description="Birthweight in grams."
    )
    baby_death_date: date = pa.Field(
        nullable=True,
        not_in_future=(),
        not_before={"other": "delivery_date"},
        empty_unless={"other": "birth_outcome", "values": ["live_birth"]},
        description="Date a live-born baby died, if it died before the file was extracted; empty otherwise "
        "(and always for a stillbirth).",
    )
    perineal_trauma: str = pa.Field(
        nullable=True,
        in_domain={"domain": "perineal_trauma"},
        empty_unless={"other": "delivery_mode", "values": ["spontaneous_vaginal", "instrumental"]},
        description="Mother's worst perineal trauma at a vaginal birth: none, first_degree .. fourth_degree "
        "(third and fourth degree are obstetric anal sphincter injuries); empty for a caesarean or when "
        "not recorded.",
    )
    blood_loss_ml: int = pa.Field(
        in_range={"min_value": 0, "max_value": 20000},
        description="Mother's estimated or measured blood loss at the delivery, in millilitres (a "
        "postpartum haemorrhage of 1,500 ml or more is the audit's severe measure).",
    )

    class Config:
        name = "maternity.births.v1"
        unique_key = {"columns": ["birth_id"]}
        plausible_range = {"column": "mother_age", "min_value": 14, "max_value": 50}

    @row_check("gestation_weeks")
    def stillbirth_from_24_weeks(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A stillbirth is at 24 completed weeks or later (before that it is not a birth)."""
        stillbirth = pl.col("birth_outcome") == "stillbirth"
        return each_row(data, ~stillbirth | (pl.col("gestation_weeks") >= STILLBIRTH_FROM_WEEKS))
