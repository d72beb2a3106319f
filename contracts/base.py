"""What every source contract shares: base configuration, severity tiers and the registered checks.

Checks that several collections need (NHS number, ODS codes, dates not in the future, code lists,
natural keys) are registered once with pandera's extension API and then used by name, in a
`Field(...)` for column checks or in a model's `Config` for dataframe checks. Cross-column rules that
belong to one table are `row_check` methods on that table's model; they return one boolean per row
so every failure maps back to the row (and the column named in the decorator) it came from.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

import pandera.polars as pa
import polars as pl

from contracts.domains import DOMAINS


class Severity(StrEnum):
    """How much of a load one failure condemns."""

    CRITICAL = "critical"  #: the whole file: nothing from it is accepted
    MAJOR = "major"  #: the row: quarantined whole, never partially accepted
    MINOR = "minor"  #: nothing: recorded in the quarantine for follow-up, the row is still accepted


#: ODS code shapes by organisation level.
ODS_PATTERNS: dict[str, str] = {
    "region": r"^Y[0-9]{2}$",
    "icb": r"^Q[A-Z0-9]{2}$",
    "trust": r"^R[A-Z0-9]{2}$",
    "site": r"^R[A-Z0-9]{4}$",
}

#: ONS code of an upper-tier local authority, a council with adult social services responsibilities:
#: E06 unitary authority, E08 metropolitan district, E09 London borough (and the City of London),
#: E10 county. Lower-tier districts (E07) run no social care, so their codes are not accepted.
ONS_LA_PATTERN = r"^E(06|08|09|10)[0-9]{6}$"

#: The month a financial year (April to March) starts.
FINANCIAL_YEAR_FIRST_MONTH = 4

#: Ages above this are possible (the patient-level contracts accept up to 120) but rare enough to be
#: checked.
PLAUSIBLE_MAX_AGE = 105

NHS_NUMBER_PATTERN = r"^[0-9]{10}$"

_AS_OF: ContextVar[date | None] = ContextVar("contract_as_of", default=None)


@contextmanager
def as_of(today: date) -> Iterator[None]:
    """Validate as if on `today`, so "not in the future" is reproducible in tests and backfills."""
    token = _AS_OF.set(today)
    try:
        yield
    finally:
        _AS_OF.reset(token)


def validation_date() -> date:
    """The date "the future" starts after: the `as_of` date, or the real date outside one."""
    return _AS_OF.get() or date.today()


# ---------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------

#: Every registered check by name, so documentation and tests can enumerate them.
REGISTERED_CHECKS: dict[str, Callable[..., Any]] = {}


def _check_method(fn: Callable[..., Any], statistics: list[str]) -> Callable[..., pa.Check]:
    """`Check.<name>(...)` for `fn`: a `Check` named after the function, its statistics recorded.

    The statistics include the function's defaults, so a check's severity is on record even when
    the contract leaves it at its default; and no `error` is set, so the check is reported (and its
    reason looked up) under its plain name.
    """
    defaults = {
        name: param.default
        for name, param in inspect.signature(fn).parameters.items()
        if name in statistics and param.default is not inspect.Parameter.empty
    }

    def method(*args: Any, **kwargs: Any) -> pa.Check:
        stats = {**defaults, **dict(zip(statistics, args, strict=False))}
        stats.update({k: v for k, v in kwargs.items() if k in statistics})
        stats = {k: str(v) if isinstance(v, Severity) else v for k, v in stats.items()}
        options = {k: v for k, v in kwargs.items() if k not in statistics}
        options.setdefault("description", first_line(fn.__doc__))
        return pa.Check(partial(fn, **stats), name=fn.__name__, statistics=stats, **options)

    return method


def _add_to_check_namespace(name: str, method: Callable[..., pa.Check]) -> None:
    """Make `method` pandera's `Check.<name>`, usable as a `Field(...)` or `Config` keyword.

    Pinned to pandera 0.35.0, which has no public way to do this for polars: the public
    `pandera.extensions.register_check_method` imports its pandas data-generation strategies first,
    so it raises ModuleNotFoundError where only pandera[polars] is installed (as here), and it would
    also name each check with its arguments (`in_domain(domain=...)`) and drop the defaults from the
    statistics. So this writes the registry `register_check_method` itself writes;
    tests/test_pinned_apis.py fails if pandera changes either side of that.
    """
    pa.Check.REGISTERED_CUSTOM_CHECKS[name] = method


def first_line(doc: str | None) -> str | None:
    """A docstring's first paragraph on one line."""
    return " ".join(doc.strip().split("\n\n")[0].split()) if doc else None


def registered_check(*statistics: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a vectorised polars check once, under its function name."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _add_to_check_namespace(fn.__name__, _check_method(fn, list(statistics)))
        REGISTERED_CHECKS[fn.__name__] = fn
        return fn

    return decorate


def _column_result(data: pa.PolarsData, passed: pl.Expr) -> pl.LazyFrame:
    """One boolean per row; a null cell passes (nullability is the `nullable` setting's job)."""
    column = pl.col(data.key)
    return data.lazyframe.select(pl.when(column.is_null()).then(None).otherwise(passed.fill_null(False)))


# ---------------------------------------------------------------------------------------------
# Registered column checks
# ---------------------------------------------------------------------------------------------


def nhs_number_check_digit(body: pl.Expr) -> pl.Expr:
    """The Modulus 11 check digit of a nine-digit body (a string expression).

    Weights 10 down to 2 over the nine digits, check = 11 - (sum mod 11), 11 becomes 0; a check of
    10 means no number with this body is ever issued. The one definition of the rule: the contracts
    check numbers with it and the generator (`nqs.generate.nhs_number`) draws them with it.
    """
    digits = [body.str.slice(i, 1).cast(pl.Int64, strict=False) for i in range(9)]
    weighted = pl.sum_horizontal([digit * (10 - i) for i, digit in enumerate(digits)])
    check = 11 - weighted % 11
    return pl.when(check == 11).then(0).otherwise(check)


def nhs_number_is_valid(column: pl.Expr) -> pl.Expr:
    """Ten digits whose last is the Modulus 11 check digit of the first nine (10 never issued)."""
    check = nhs_number_check_digit(column.str.slice(0, 9))
    last = column.str.slice(9, 1).cast(pl.Int64, strict=False)
    return column.str.contains(NHS_NUMBER_PATTERN) & (check != 10) & (check == last)


@registered_check()
def nhs_number(data: pa.PolarsData) -> pl.LazyFrame:
    """An NHS number: ten digits with a valid Modulus 11 check digit."""
    return _column_result(data, nhs_number_is_valid(pl.col(data.key)))


@registered_check()
def ods_trust_code(data: pa.PolarsData) -> pl.LazyFrame:
    """An NHS trust's ODS code: `R` and two letters or digits."""
    return _column_result(data, pl.col(data.key).str.contains(ODS_PATTERNS["trust"]))


@registered_check()
def ods_site_code(data: pa.PolarsData) -> pl.LazyFrame:
    """A site's ODS code: its trust's three-character code and two letters or digits."""
    return _column_result(data, pl.col(data.key).str.contains(ODS_PATTERNS["site"]))


@registered_check()
def ons_la_code(data: pa.PolarsData) -> pl.LazyFrame:
    """An upper-tier local authority's ONS code: `E06`, `E08`, `E09` or `E10` and six digits."""
    return _column_result(data, pl.col(data.key).str.contains(ONS_LA_PATTERN))


@registered_check()
def not_in_future(data: pa.PolarsData) -> pl.LazyFrame:
    """A date or timestamp no later than the validation date (a record cannot describe tomorrow)."""
    today = validation_date()
    column = pl.col(data.key)
    if data.lazyframe.collect_schema()[data.key] == pl.Date:
        return _column_result(data, column <= pl.lit(today))
    start_of_tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time())
    return _column_result(data, column < pl.lit(start_of_tomorrow))


@registered_check()
def first_of_month(data: pa.PolarsData) -> pl.LazyFrame:
    """A reporting month, written as the first day of that month."""
    return _column_result(data, pl.col(data.key).dt.day() == 1)


#: Months a financial (and calendar) quarter starts in: January, April, July and October.
QUARTER_FIRST_MONTHS = (1, 4, 7, 10)


@registered_check()
def first_of_quarter(data: pa.PolarsData) -> pl.LazyFrame:
    """A reporting quarter, written as the first day of its first month (January, April, July or October)."""
    column = pl.col(data.key)
    return _column_result(data, (column.dt.day() == 1) & column.dt.month().is_in(QUARTER_FIRST_MONTHS))


@registered_check()
def financial_year_start(data: pa.PolarsData) -> pl.LazyFrame:
    """A financial year (April to March), written as its first day: 1 April."""
    column = pl.col(data.key)
    return _column_result(data, (column.dt.month() == FINANCIAL_YEAR_FIRST_MONTH) & (column.dt.day() == 1))


@registered_check("domain")
def in_domain(data: pa.PolarsData, *, domain: str) -> pl.LazyFrame:
    """A value from the named code list in `contracts.domains.DOMAINS`."""
    return _column_result(data, pl.col(data.key).is_in(list(DOMAINS[domain])))


def _comparable(data: pa.PolarsData, *columns: str) -> list[pl.Expr]:
    """The columns as expressions that compare: dates when one of them is a date, else as they are."""
    schema = data.lazyframe.collect_schema()
    exprs = [pl.col(c) for c in columns]
    if any(schema[c] == pl.Date for c in columns):
        exprs = [
            e.dt.date() if isinstance(schema[c], pl.Datetime) else e
            for e, c in zip(exprs, columns, strict=True)
        ]
    return exprs


@registered_check("other")
def not_before(data: pa.PolarsData, *, other: str) -> pl.LazyFrame:
    """A date on or after the date in column `other` of the same row (compared as dates if either is one)."""
    this, that = _comparable(data, data.key, other)
    return _column_result(data, (this >= that).fill_null(True))  # no other date: nothing to order


@registered_check("other")
def not_after(data: pa.PolarsData, *, other: str) -> pl.LazyFrame:
    """A date on or before the date in column `other` of the same row (compared as dates if either is one)."""
    this, that = _comparable(data, data.key, other)
    return _column_result(data, (this <= that).fill_null(True))


@registered_check("other", "values")
def empty_unless(data: pa.PolarsData, *, other: str, values: list[str]) -> pl.LazyFrame:
    """A value only where column `other` of the same row holds one of `values`; empty otherwise.

    For fields that apply to some records only (a perineal tear to a vaginal birth, a baby's death
    date to a live birth): a value recorded where it cannot apply is an error in the record.
    """
    return _column_result(data, pl.col(other).is_in(list(values)))


# ---------------------------------------------------------------------------------------------
# Registered dataframe checks (used in a model's Config)
# ---------------------------------------------------------------------------------------------


@registered_check("columns")
def unique_key(data: pa.PolarsData, *, columns: list[str]) -> pl.LazyFrame:
    """A natural key seen for the first time in the file; later repeats of it fail, the first passes."""
    return data.lazyframe.select(pl.struct(columns).is_first_distinct().alias("unique_key"))


@registered_check("column", "min_value", "max_value", "severity")
def plausible_range(
    data: pa.PolarsData,
    *,
    column: str,
    min_value: float | None = None,
    max_value: float | None = None,
    severity: str = Severity.MINOR,
) -> pl.LazyFrame:
    """A value inside the range real records almost always fall in; outside it is possible but rare."""
    value = pl.col(column)
    passed = pl.lit(True)
    if min_value is not None:
        passed &= value >= min_value
    if max_value is not None:
        passed &= value <= max_value
    return data.lazyframe.select(passed.fill_null(True).alias("plausible_range"))


@registered_check("column", "since", "min_days", "max_days", "severity")
def plausible_delay(
    data: pa.PolarsData,
    *,
    column: str,
    since: str,
    min_days: float | None = None,
    max_days: float | None = None,
    severity: str = Severity.MINOR,
) -> pl.LazyFrame:
    """Days from `since` to `column` inside the usual window; a delay outside it is possible but rare."""
    schema = data.lazyframe.collect_schema()
    ends = [
        pl.col(c) if isinstance(schema[c], pl.Datetime) else pl.col(c).cast(pl.Datetime("us"))
        for c in (since, column)
    ]
    days = (ends[1] - ends[0]).dt.total_seconds() / 86_400
    passed = pl.lit(True)
    if min_days is not None:
        passed &= days >= min_days
    if max_days is not None:
        passed &= days <= max_days
    return data.lazyframe.select(passed.fill_null(True).alias("plausible_delay"))


@registered_check("column", "parts", "severity")
def sums_to(
    data: pa.PolarsData, *, column: str, parts: list[str], severity: str = Severity.MAJOR
) -> pl.LazyFrame:
    """A total equal to the sum of the columns it is broken down into (responses by answer, outcomes).

    A row with any of them empty is not judged here: whether a value may be missing is each column's
    own `nullable` setting.
    """
    total = pl.sum_horizontal(pl.col(parts))
    passed = (pl.col(column) == total).fill_null(True)
    missing = pl.any_horizontal([pl.col(c).is_null() for c in (column, *parts)])
    return data.lazyframe.select(pl.when(missing).then(True).otherwise(passed).alias("sums_to"))


# ---------------------------------------------------------------------------------------------
# Cross-column row checks
# ---------------------------------------------------------------------------------------------


def row_check(column: str, *, severity: Severity = Severity.MAJOR) -> Callable[[Callable[..., Any]], Any]:
    """A dataframe check on one row's columns, reported against `column` with `severity`.

    The column and severity travel in the check's statistics, which is where landing reads them
    when it turns pandera's failure cases into quarantine rows.
    """
    return pa.dataframe_check(statistics={"column": column, "severity": str(severity)})


def each_row(data: pa.PolarsData, passed: pl.Expr) -> pl.LazyFrame:
    """One boolean per row; a rule that cannot be evaluated (a null operand) passes."""
    return data.lazyframe.select(passed.fill_null(True).alias("passed"))


# ---------------------------------------------------------------------------------------------
# Base model
# ---------------------------------------------------------------------------------------------


class ContractModel(pa.DataFrameModel):
    """Base of every source contract: exactly the agreed columns, typed, nothing extra."""

    class Config:
        strict = True
        coerce = True
        name = "contract"


def carried(model: type[ContractModel], column: str) -> Any:
    """`column` of an earlier contract version, unchanged: the same type, checks and description.

    A new version lists every column it keeps as `column: type = carried(PreviousVersion, "column")`,
    so what did not change is visibly not restated, and what did change is written out in full.
    """
    return copy.deepcopy(model.__fields__[column][1])


def failure_attribution(check: pa.Check) -> tuple[str | None, Severity]:
    """The column and severity a dataframe-level check's failures are reported under."""
    stats = check.statistics or {}
    column = stats.get("column")
    if column is None and stats.get("columns"):
        column = stats["columns"][0]  # a repeated key is reported against its first column
    return column, Severity(stats.get("severity", Severity.MAJOR))


def type_check_name(dtype: pl.DataType) -> str:
    """`type:Int64`, `type:Date`, ...: the check name of a value that is not of its column's type."""
    return f"type:{dtype.__class__.__name__}"
