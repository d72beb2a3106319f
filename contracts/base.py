"""What every source contract shares: base configuration, severity tiers and the registered checks.

Checks that several collections need (NHS number, ODS codes, dates not in the future, code lists,
natural keys) are registered once with pandera's extension API and then used by name, in a
`Field(...)` for column checks or in a model's `Config` for dataframe checks. Cross-column rules that
belong to one table are `row_check` methods on that table's model; they return one boolean per row
so every failure maps back to the row (and the column named in the decorator) it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.checks import Check
from pandera.extensions import register_check_method

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


def _register_in_check_namespace(fn: Callable[..., Any], statistics: list[str]) -> None:
    """Add `fn` to pandera's registry of custom checks exactly as `register_check_method` would.

    pandera 0.35's `register_check_method` imports its pandas data-generation strategies first, so
    it raises ModuleNotFoundError where only the polars backend is installed (as here). The check
    it would register is the same: a `Check` named after the function, statistics bound, reachable
    as `Check.<name>(...)` and as a `Field`/`Config` keyword.
    """

    def method(cls: type[Check], *args: Any, **kwargs: Any) -> Check:
        stats = dict(zip(statistics, args, strict=False))
        stats.update({k: v for k, v in kwargs.items() if k in statistics})
        options = {k: v for k, v in kwargs.items() if k not in statistics}
        return cls(partial(fn, **stats), name=fn.__name__, statistics=stats, **options)

    Check.REGISTERED_CUSTOM_CHECKS[fn.__name__] = partial(method, Check)


def registered_check(*statistics: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a vectorised polars check once, under its function name."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        try:
            register_check_method(fn, statistics=list(statistics))
        except ModuleNotFoundError:
            _register_in_check_namespace(fn, list(statistics))
        return fn

    return decorate


def _column_result(data: pa.PolarsData, passed: pl.Expr) -> pl.LazyFrame:
    """One boolean per row; a null cell passes (nullability is the `nullable` setting's job)."""
    column = pl.col(data.key)
    return data.lazyframe.select(pl.when(column.is_null()).then(None).otherwise(passed.fill_null(False)))


# ---------------------------------------------------------------------------------------------
# Registered column checks
# ---------------------------------------------------------------------------------------------


def nhs_number_is_valid(column: pl.Expr) -> pl.Expr:
    """Ten digits whose last is the Modulus 11 check digit of the first nine (10 never issued)."""
    digits = [column.str.slice(i, 1).cast(pl.Int64, strict=False) for i in range(10)]
    weighted = pl.sum_horizontal([digit * (10 - i) for i, digit in enumerate(digits[:9])])
    check = 11 - weighted % 11
    check = pl.when(check == 11).then(0).otherwise(check)
    return column.str.contains(NHS_NUMBER_PATTERN) & (check != 10) & (check == digits[9])


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


@registered_check("domain")
def in_domain(data: pa.PolarsData, *, domain: str) -> pl.LazyFrame:
    """A value from the named code list in `contracts.domains.DOMAINS`."""
    return _column_result(data, pl.col(data.key).is_in(list(DOMAINS[domain])))


# ---------------------------------------------------------------------------------------------
# Registered dataframe checks (used in a model's Config)
# ---------------------------------------------------------------------------------------------


@registered_check("columns")
def unique_key(data: pa.PolarsData, *, columns: list[str]) -> pl.LazyFrame:
    """A natural key seen for the first time in the file; later repeats of it fail, the first passes."""
    return data.lazyframe.select(pl.struct(columns).is_first_distinct().alias("unique_key"))


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


def failure_attribution(check: Check) -> tuple[str | None, Severity]:
    """The column and severity a dataframe-level check's failures are reported under."""
    stats = check.statistics or {}
    column = stats.get("column")
    if column is None and stats.get("columns"):
        column = stats["columns"][0]  # a repeated key is reported against its first column
    return column, Severity(stats.get("severity", Severity.MAJOR))
