"""Planted bad rows: each has exactly one defect, in one named column, recorded in the manifest.

Landing must quarantine exactly these rows, so every defect is applied to an otherwise clean row,
only to rows where it is a real defect (a date order defect needs both dates), and a duplicate is a
copy of a clean row placed after it. Kinds take turns within a table (in a seed-dependent order),
so every table with a handful of bad rows carries every kind that applies to it.

Defects work on the text of the file (after formatting), as a faulty extract would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from nqs.generate import tables
from nqs.generate.periods import day_number
from nqs.generate.tables import TableSpec

KINDS: tuple[str, ...] = (
    "invalid_nhs_number",
    "malformed_nhs_number",
    "unknown_trust_code",
    "future_date",
    "date_order",
    "out_of_range",
    "not_a_number",
    "bad_enum",
    "missing_required",
    "duplicate_key",
    "unknown_la_code",
)
DATE_FORMAT = "%Y-%m-%d"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class DefectEnv:
    """What defects need to know beyond the row: codes that exist nowhere, when "future" starts."""

    unknown_trust_codes: tuple[str, ...]
    future_from_day: int
    unknown_la_codes: tuple[str, ...] = ()


Mutation = Callable[[pl.DataFrame, np.random.Generator, DefectEnv], pl.Series]


@dataclass(frozen=True)
class Defect:
    """One way to make a row bad: its kind, the column changed, and how."""

    kind: str
    column: str
    mutate: Mutation
    needs: tuple[str, ...] = field(default=())  # columns that must hold a value for the defect to be real
    blank: tuple[str, ...] = field(default=())  # columns that must be empty for it to be the row's only one


def _text(values: list[str | None] | pl.Series) -> pl.Series:
    return pl.Series(values, dtype=pl.String)


def constant(value: str | None) -> Mutation:
    """Replace the value with `value` (`None` empties it)."""
    return lambda sub, rng, env: _text([value] * sub.height)


def wrong_check_digit(column: str) -> Mutation:
    """Keep the first nine digits, change the check digit to another digit: 10 digits, fails Modulus 11."""

    def mutate(sub: pl.DataFrame, rng: np.random.Generator, env: DefectEnv) -> pl.Series:
        step = pl.Series(rng.integers(1, 10, sub.height))
        last = sub[column].str.slice(9, 1).cast(pl.Int64)
        return sub[column].str.slice(0, 9) + ((last + step) % 10).cast(pl.String)

    return mutate


def malformed_nhs(column: str) -> Mutation:
    """Nine digits, or a letter in place of a digit: not an NHS number at all."""

    def mutate(sub: pl.DataFrame, rng: np.random.Generator, env: DefectEnv) -> pl.Series:
        values = sub[column]
        nine_digits = values.str.slice(0, 9)
        with_letter = values.str.slice(0, 4) + "X" + values.str.slice(5)
        choose = pl.Series(rng.random(sub.height) < 0.5)
        return pl.select(pl.when(choose).then(nine_digits).otherwise(with_letter)).to_series()

    return mutate


def unknown_trust(sub: pl.DataFrame, rng: np.random.Generator, env: DefectEnv) -> pl.Series:
    """A well-formed trust code that no organisation has."""
    return _text(list(rng.choice(env.unknown_trust_codes, size=sub.height)))


def unknown_la(sub: pl.DataFrame, rng: np.random.Generator, env: DefectEnv) -> pl.Series:
    """A well-formed local authority (ONS) code that no council has."""
    return _text(list(rng.choice(env.unknown_la_codes, size=sub.height)))


def future(fmt: str) -> Mutation:
    """A date (or timestamp, first of a month, or start of a financial year) more than a year after
    the end of the span."""

    def mutate(sub: pl.DataFrame, rng: np.random.Generator, env: DefectEnv) -> pl.Series:
        days = env.future_from_day + rng.integers(30, 900, sub.height)
        stamps = pl.Series(days.astype(np.int32)).cast(pl.Date)
        if fmt == "month":
            return stamps.dt.truncate("1mo").dt.strftime(DATE_FORMAT)
        if fmt == "financial_year":  # 1 April of the year after the date's
            return (stamps.dt.truncate("1y").dt.offset_by("15mo")).dt.strftime(DATE_FORMAT)
        if fmt == "timestamp":
            seconds = pl.Series(rng.integers(8 * 3600, 18 * 3600, sub.height) // 60 * 60 * 1_000_000)
            moments = stamps.cast(pl.Datetime("us")) + seconds.cast(pl.Duration("us"))
            return moments.dt.strftime(TIMESTAMP_FORMAT)
        return stamps.dt.strftime(DATE_FORMAT)

    return mutate


def shifted(source: str, fmt: str, low: int, high: int) -> Mutation:
    """The value of `source` moved by `low..high` days (or minutes for timestamps; negative = earlier).

    Used for date order defects: the changed column ends up on the wrong side of `source`.
    """

    def mutate(sub: pl.DataFrame, rng: np.random.Generator, env: DefectEnv) -> pl.Series:
        offset = pl.Series(rng.integers(low, high + 1, sub.height))
        if fmt == "timestamp":
            moments = sub[source].str.to_datetime(TIMESTAMP_FORMAT, time_unit="us")
            moved = moments + (offset * 60_000_000).cast(pl.Duration("us"))
            return moved.dt.strftime(TIMESTAMP_FORMAT)
        moved_days = sub[source].str.to_date(DATE_FORMAT).cast(pl.Int32) + offset.cast(pl.Int32)
        return moved_days.cast(pl.Date).dt.strftime(DATE_FORMAT)

    return mutate


def _nhs(column: str = "nhs_number") -> list[Defect]:
    return [
        Defect("invalid_nhs_number", column, wrong_check_digit(column), needs=(column,)),
        Defect("malformed_nhs_number", column, malformed_nhs(column), needs=(column,)),
    ]


def _blank(*columns: str) -> list[Defect]:
    return [Defect("missing_required", c, constant(None), needs=(c,)) for c in columns]


_TRUST = [Defect("unknown_trust_code", "trust_code", unknown_trust)]
_LA = [Defect("unknown_la_code", "la_code", unknown_la)]

DEFECTS: dict[TableSpec, list[Defect]] = {
    tables.EVENTS: [
        *_nhs(),
        *_TRUST,
        Defect("future_date", "reported_date", future("date")),
        Defect("date_order", "event_date", shifted("reported_date", "date", 1, 20)),
        Defect("bad_enum", "degree_of_harm", constant("catastrophic")),
        Defect("bad_enum", "care_setting", constant("ward")),
        Defect("bad_enum", "is_never_event", constant("maybe")),
        *_blank("event_date", "degree_of_harm", "event_category"),
    ],
    tables.EVENTS_V2: [
        *_nhs(),
        *_TRUST,
        Defect("future_date", "reported_date", future("date")),
        Defect("date_order", "event_date", shifted("reported_date", "date", 1, 20)),
        Defect("bad_enum", "physical_harm", constant("catastrophic")),
        Defect("bad_enum", "psychological_harm", constant("fatal")),  # LFPSE has no fatal psychological harm
        Defect("bad_enum", "service_area", constant("ward")),
        Defect("bad_enum", "is_never_event", constant("maybe")),
        *_blank("event_date", "physical_harm", "location_type"),
    ],
    tables.EPISODES: [
        *_nhs(),
        *_TRUST,
        Defect("future_date", "death_date", future("date")),
        Defect(
            "date_order",
            "surgery_at",
            shifted("admission_at", "timestamp", -1440, -30),
            needs=("surgery_at",),
        ),
        Defect("out_of_range", "age", constant("150")),
        Defect("out_of_range", "asa_grade", constant("7")),
        Defect("not_a_number", "age", constant("n/a")),
        Defect("not_a_number", "imd_quintile", constant("n/a")),
        Defect("bad_enum", "sex", constant("Z")),
        *_blank("admission_at", "sex", "age"),
    ],
    tables.ADMISSIONS: [
        *_nhs(),
        *_TRUST,
        Defect("future_date", "stroke_unit_arrival_at", future("timestamp")),
        Defect(
            "date_order",
            "stroke_unit_arrival_at",
            shifted("arrival_at", "timestamp", -240, -10),
            needs=("stroke_unit_arrival_at",),
        ),
        Defect("out_of_range", "age", constant("150")),
        Defect("out_of_range", "nihss_on_arrival", constant("55")),
        Defect("not_a_number", "nihss_on_arrival", constant("n/a")),
        Defect("not_a_number", "age", constant("n/a")),
        Defect("bad_enum", "stroke_type", constant("tia")),
        Defect("bad_enum", "thrombolysed", constant("maybe")),
        *_blank("arrival_at", "stroke_type", "thrombolysed"),
    ],
    tables.PROCEDURES: [
        *_nhs(),
        *_TRUST,
        Defect("future_date", "procedure_date", future("date")),
        Defect("out_of_range", "age", constant("150")),
        Defect("not_a_number", "asa_grade", constant("n/a")),
        Defect("not_a_number", "age", constant("n/a")),
        Defect("bad_enum", "joint", constant("shoulder")),
        Defect("bad_enum", "sex", constant("Z")),
        *_blank("procedure_date", "joint"),
    ],
    tables.REVISIONS: [
        *_TRUST,
        Defect("future_date", "revision_date", future("date")),
        Defect("date_order", "revision_date", shifted("primary_procedure_date", "date", -60, -1)),
        Defect("bad_enum", "revision_reason", constant("instability")),
        *_blank("revision_date", "revision_reason"),
    ],
    tables.PROMS: [
        Defect("future_date", "post_op_date", future("date")),
        Defect("date_order", "post_op_date", shifted("pre_op_date", "date", -30, -1)),
        Defect("out_of_range", "pre_op_score", constant("60")),
        Defect("out_of_range", "post_op_score", constant("60")),
        Defect("not_a_number", "post_op_score", constant("n/a")),
        Defect("not_a_number", "pre_op_score", constant("n/a")),
        Defect("bad_enum", "joint", constant("shoulder")),
        *_blank("joint", "post_op_date"),
    ],
    tables.STAFF_MONTHS: [
        *_TRUST,
        Defect("future_date", "leaving_date", future("date")),
        Defect("out_of_range", "fte", constant("3.5")),
        Defect("out_of_range", "sickness_fte_days", constant("-2.0")),
        Defect("not_a_number", "fte", constant("n/a")),
        Defect("not_a_number", "sickness_fte_days", constant("n/a")),
        Defect("bad_enum", "staff_group", constant("porters")),
        *_blank("staff_group", "start_date", "available_fte_days"),
    ],
    tables.VACANCIES: [
        *_TRUST,
        Defect("future_date", "reporting_month", future("month")),
        Defect("out_of_range", "bank_fte", constant("-5.0")),
        Defect("out_of_range", "vacancy_fte", constant("-1.5")),
        Defect("not_a_number", "agency_fte", constant("n/a")),
        Defect("not_a_number", "vacancy_fte", constant("n/a")),
        Defect("bad_enum", "staff_group", constant("porters")),
        *_blank("establishment_fte", "vacancy_fte"),
    ],
    tables.OCCUPANCY: [
        *_TRUST,
        Defect("future_date", "reporting_month", future("month")),
        Defect("out_of_range", "occupied_bed_days", constant("-3")),
        Defect("not_a_number", "available_bed_days", constant("n/a")),
        Defect("bad_enum", "ward_type", constant("critical_care")),
        *_blank("ward_type", "occupied_bed_days"),
    ],
    tables.FRIENDS_AND_FAMILY: [
        *_TRUST,
        Defect("future_date", "reporting_month", future("month")),
        Defect("out_of_range", "very_poor", constant("-1")),
        Defect("not_a_number", "good", constant("n/a")),
        Defect("bad_enum", "setting", constant("ambulance")),
        *_blank("setting", "responses"),
    ],
    tables.COMPLAINTS: [
        *_TRUST,
        Defect("future_date", "quarter_start", future("month")),
        Defect("out_of_range", "complaints_received", constant("-2")),
        Defect("not_a_number", "upheld", constant("n/a")),
        Defect("bad_enum", "subject_area", constant("parking")),
        *_blank("subject_area", "complaints_received"),
    ],
    # a band or total made negative would also break the total; the unknown clock starts are apart
    tables.RTT_PATHWAYS: [
        *_TRUST,
        Defect("future_date", "reporting_month", future("month")),
        Defect(
            "out_of_range",
            "unknown_clock_start_pathways",
            constant("-3"),
            needs=("unknown_clock_start_pathways",),
        ),
        Defect("not_a_number", "gt_10_to_11_weeks", constant("n/a")),
        Defect("not_a_number", "total_pathways", constant("n/a")),
        Defect("bad_enum", "treatment_function_code", constant("999")),
        Defect("bad_enum", "pathway_type", constant("waiting")),
        *_blank("treatment_function_code", "pathway_type", "total_pathways"),
    ],
    tables.BIRTHS: [
        *_nhs("mother_nhs_number"),
        *_TRUST,
        # a later delivery date would also put a baby's death before its birth
        Defect("future_date", "delivery_date", future("date"), blank=("baby_death_date",)),
        Defect(
            "date_order",
            "baby_death_date",
            shifted("delivery_date", "date", -30, -1),
            needs=("baby_death_date",),
        ),
        Defect("out_of_range", "gestation_days", constant("7")),
        Defect("out_of_range", "birthweight_g", constant("12000")),
        Defect("not_a_number", "birthweight_g", constant("n/a")),
        Defect("not_a_number", "mother_age", constant("n/a")),
        Defect("bad_enum", "mother_ethnic_category", constant("X")),
        Defect("bad_enum", "perineal_trauma", constant("third"), needs=("perineal_trauma",)),
        Defect("bad_enum", "birth_outcome", constant("neonatal_death"), blank=("baby_death_date",)),
        *_blank("delivery_date", "mother_ethnic_category", "blood_loss_ml"),
    ],
    tables.DISCHARGE_DELAYS: [
        *_LA,
        Defect("future_date", "reporting_month", future("month")),
        Defect("out_of_range", "delay_days_social_care", constant("-2")),
        Defect("not_a_number", "delay_days", constant("n/a")),
        *_blank("patients_discharged", "discharged_on_ready_date"),
    ],
    tables.OUTCOMES: [
        *_LA,
        Defect("future_date", "financial_year_start", future("financial_year")),
        Defect("out_of_range", "numerator", constant("-3")),
        Defect("not_a_number", "denominator", constant("n/a")),
        Defect("bad_enum", "measure_id", constant("1C")),
        *_blank("measure_id", "denominator"),
    ],
    tables.INTERVENTIONS: [
        *_TRUST,
        Defect("future_date", "reporting_month", future("month")),
        Defect("out_of_range", "people_with_intervention", constant("-1")),
        Defect("not_a_number", "people_eligible", constant("n/a")),
        Defect("bad_enum", "intervention", constant("social_prescribing")),
        *_blank("intervention", "people_eligible"),
    ],
}
for _defects in DEFECTS.values():
    _defects.append(Defect("duplicate_key", "", constant(None)))


def table_kinds(spec: TableSpec) -> list[str]:
    """Kinds that apply to a table, in the canonical order."""
    present = {d.kind for d in DEFECTS.get(spec, [])}
    return [kind for kind in KINDS if kind in present]


def future_start(end_year: int, end_month: int) -> int:
    """First day counted as "future": after the end month plus one year."""
    year, month = (end_year + 1, end_month + 1) if end_month < 12 else (end_year + 2, 1)
    return day_number(date(year, month, 1))


@dataclass
class KindRota:
    """Hands out kinds in turn across all files of one table, so small tables still get each kind."""

    kinds: list[str]
    position: int = 0

    @property
    def first_round_left(self) -> int:
        """Kinds not yet handed out at all in this table."""
        return max(0, len(self.kinds) - self.position)

    def take(self, count: int) -> list[str]:
        chosen = [self.kinds[(self.position + i) % len(self.kinds)] for i in range(count)]
        self.position += count
        return chosen


@dataclass(frozen=True)
class PlantedRow:
    """A bad row's final 1-based row number, kind and column."""

    row: int
    kind: str
    column: str


def bad_row_count(n: int, share: float, rota: KindRota, files_left: int, rng: np.random.Generator) -> int:
    """How many bad rows to plant in a file of `n` rows.

    About `n x share`, rounded at random (floor of n x share + uniform) so the expected rate is exact
    even for small files. Small tables would otherwise never see some kinds, so until each kind has
    been planted once the kinds still missing are spread over the files left (at most a tenth of a
    file): a table then carries every kind that applies to it, a little above the rate if it is tiny.
    """
    if n == 0 or share <= 0:
        return 0
    count = int(np.floor(n * share + rng.random()))
    catch_up = min(-(-rota.first_round_left // max(files_left, 1)), max(1, n // 10))
    return max(count, catch_up)


def plant(
    text: pl.DataFrame,
    spec: TableSpec,
    rota: KindRota,
    rng: np.random.Generator,
    share: float,
    env: DefectEnv,
    files_left: int = 1,
) -> tuple[pl.DataFrame, list[PlantedRow]]:
    """Plant bad rows in one file's text; returns the new text and the rows planted (final numbers)."""
    n = text.height
    count = bad_row_count(n, share, rota, files_left, rng)
    if count == 0:
        return text, []
    kinds = rota.take(count)
    taken = np.zeros(n, dtype=bool)
    if "_protected" in text.columns:  # rows other tables depend on (text "Y" after formatting)
        taken = (text["_protected"] == "Y").to_numpy().copy()
    defects = DEFECTS[spec]
    columns: dict[str, pl.Series] = {}
    mutated: list[tuple[int, str, str]] = []
    for kind in KINDS:
        wanted = kinds.count(kind)
        if wanted == 0 or kind == "duplicate_key":
            continue
        options = [d for d in defects if d.kind == kind]
        choice = rng.integers(len(options), size=wanted)
        for option_index, defect in enumerate(options):
            rows = _pick_rows(rng, text, defect, taken, int((choice == option_index).sum()))
            if len(rows) == 0:
                continue
            taken[rows] = True
            new_values = defect.mutate(text[rows], rng, env)
            current = columns.get(defect.column, text[defect.column])
            columns[defect.column] = current.clone().scatter(rows, new_values)
            mutated.extend((int(r), kind, defect.column) for r in rows)
    if columns:
        text = text.with_columns(list(columns.values()))
    duplicates = _pick_rows(rng, text, None, taken, kinds.count("duplicate_key"))
    return _insert_duplicates(rng, text, spec, mutated, duplicates)


def _pick_rows(
    rng: np.random.Generator, text: pl.DataFrame, defect: Defect | None, taken: np.ndarray, count: int
) -> np.ndarray:
    """Up to `count` distinct rows not yet used where the defect would be real."""
    if count == 0:
        return np.empty(0, dtype=np.int64)
    eligible = ~taken
    if defect is not None:
        for column in defect.needs:
            eligible &= text[column].is_not_null().to_numpy()
        for column in defect.blank:
            eligible &= text[column].is_null().to_numpy()
    candidates = np.flatnonzero(eligible)
    if len(candidates) == 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))


def _insert_duplicates(
    rng: np.random.Generator,
    text: pl.DataFrame,
    spec: TableSpec,
    mutated: list[tuple[int, str, str]],
    sources: np.ndarray,
) -> tuple[pl.DataFrame, list[PlantedRow]]:
    """Copy each source row to a later position; row numbers of every bad row are final ones."""
    n = text.height
    k = len(sources)
    after = sources + np.floor(rng.random(k) * (n - sources)).astype(np.int64)  # insert after this row
    position = np.concatenate([np.arange(n), after])
    tie = np.concatenate([np.zeros(n, dtype=np.int64), 1 + np.arange(k)])
    order = np.lexsort((tie, position))
    final_row = np.empty(n + k, dtype=np.int64)
    final_row[order] = np.arange(1, n + k + 1)
    combined = pl.concat([text, text[sources]]) if k else text
    result = combined[order] if k else combined
    planted = [PlantedRow(int(final_row[r]), kind, column) for r, kind, column in mutated]
    planted += [PlantedRow(int(final_row[n + j]), "duplicate_key", spec.key[0]) for j in range(k)]
    return result, sorted(planted, key=lambda p: p.row)
