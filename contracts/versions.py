"""Contract versions side by side, what each one checks, and what changed between two of them.

A source table keeps every contract version data has been accepted under (`ContractVersion`, newest
last). A file is read under the version its header matches, so history delivered under v1 stays
valid after v2 is agreed. `contract_checks` lists every check a version applies, in the words the
quarantine uses (check name, column, severity); `diff` compares two versions and says which changes
break a file or a reader written for the older one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from contracts.base import REGISTERED_CHECKS, ContractModel, Severity, failure_attribution, type_check_name
from contracts.domains import DOMAINS
from contracts.reference_checks import CHECK_DESCRIPTIONS as MEMBERSHIP_DESCRIPTIONS
from contracts.reference_checks import MEMBERSHIP_CHECKS


@dataclass(frozen=True)
class ContractVersion:
    """One version of a source table's contract: its model, when it applies and what it changed."""

    version: str  #: "v1", "v2", ...
    model: type[ContractModel]
    valid_from: date | None  #: first month files may arrive under this version
    change: str  #: one line: what this version changed (for v1: what it is)
    #: (old column, new column) for columns carried over under a new name
    renamed: tuple[tuple[str, str], ...] = ()
    #: (old column, (new columns)) for a column whose content is now recorded in several
    split: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.model.to_schema().columns)


@dataclass(frozen=True)
class ContractCheck:
    """One check a contract applies: as named in the quarantine and in the data-quality results."""

    name: str
    column: str | None
    severity: str
    kind: str  #: type, completeness, column, table (a dataframe check) or reference
    parameters: dict[str, Any]
    description: str

    @property
    def key(self) -> tuple[str, str | None]:
        return self.name, self.column


def column_dtype(model: type[ContractModel], column: str) -> pl.DataType:
    """The polars type a contract column is cast to."""
    dtype = model.to_schema().columns[column].dtype.type
    return dtype() if isinstance(dtype, type) else dtype


def dtype_name(dtype: pl.DataType) -> str:
    return dtype.__class__.__name__


def _builtin_description(name: str, stats: dict[str, Any]) -> str:
    phrases = {
        "str_matches": lambda s: f"Matches the pattern `{s.get('pattern')}`.",
        "in_range": lambda s: f"Between {s.get('min_value')} and {s.get('max_value')} inclusive.",
        "greater_than_or_equal_to": lambda s: f"At least {s.get('min_value')}.",
        "less_than_or_equal_to": lambda s: f"At most {s.get('max_value')}.",
        "greater_than": lambda s: f"More than {s.get('min_value')}.",
        "less_than": lambda s: f"Less than {s.get('max_value')}.",
        "isin": lambda s: f"One of {', '.join(map(str, s.get('allowed_values', [])))}.",
    }
    return phrases[name](stats) if name in phrases else f"pandera check {name}."


def _parameters(stats: dict[str, Any] | None) -> dict[str, Any]:
    hidden = {"column", "severity"}
    return {k: v for k, v in (stats or {}).items() if k not in hidden and v is not None}


def _check_description(check: Any) -> str:
    if check.name in REGISTERED_CHECKS or check.description:
        text = check.description or check.name
        return " ".join(str(text).split())
    return _builtin_description(check.name, check.statistics or {})


def contract_checks(model: type[ContractModel], *, with_reference: bool = True) -> list[ContractCheck]:
    """Every check `model` applies, in landing's order: types, required values, column, table checks.

    With `with_reference`, the organisation checks landing adds for trust and site codes are listed
    too. Names and columns are those the quarantine records, so a test can aim a failing row at each.
    """
    schema = model.to_schema()
    major = str(Severity.MAJOR)
    checks: list[ContractCheck] = []
    for name, column in schema.columns.items():
        dtype = column_dtype(model, name)
        if dtype != pl.String:
            checks.append(
                ContractCheck(
                    type_check_name(dtype),
                    name,
                    major,
                    "type",
                    {},
                    f"Reads as {dtype_name(dtype)}.",
                )
            )
        if not column.nullable:
            checks.append(
                ContractCheck("not_nullable", name, major, "completeness", {}, "A value is required.")
            )
        for check in column.checks:
            checks.append(
                ContractCheck(
                    check.name,
                    name,
                    major,
                    "column",
                    _parameters(check.statistics),
                    _check_description(check),
                )
            )
    for check in schema.checks:
        column, severity = failure_attribution(check)
        checks.append(
            ContractCheck(
                check.name,
                column,
                str(severity),
                "table",
                _parameters(check.statistics),
                _check_description(check),
            )
        )
    if with_reference:
        checks += [
            ContractCheck(name, column, major, "reference", {}, MEMBERSHIP_DESCRIPTIONS[name])
            for column, names in MEMBERSHIP_CHECKS.items()
            if column in schema.columns
            for name in names
        ]
    return checks


def code_list(model: type[ContractModel], column: str) -> tuple[str, ...] | None:
    """The code list a column is checked against (`in_domain` or `isin`), if any."""
    for check in model.to_schema().columns[column].checks:
        stats = check.statistics or {}
        if check.name == "in_domain":
            return DOMAINS[stats["domain"]]
        if check.name == "isin":
            return tuple(stats["allowed_values"])
    return None


# ---------------------------------------------------------------------------------------------
# Differences between two versions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two contract versions."""

    kind: str  #: added, removed, renamed, split, type, nullability, codes, check_added, check_removed, ...
    column: str | None
    detail: str
    breaking: bool

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "detail": self.detail, "breaking": self.breaking}


def _column_counterparts(old: ContractVersion, new: ContractVersion) -> dict[str, str]:
    """new column -> the old column it continues (itself, or the column it was renamed from)."""
    mapping = {c: c for c in new.columns if c in old.columns}
    mapping.update({after: before for before, after in new.renamed})
    return mapping


def _codes_change(column: str, before: tuple[str, ...] | None, after: tuple[str, ...] | None) -> list[Change]:
    if before is None or after is None or before == after:
        return []
    gone = [c for c in before if c not in after]
    added = [c for c in after if c not in before]
    parts = []
    if added:
        parts.append("codes added: " + ", ".join(added))
    if gone:
        parts.append("codes removed: " + ", ".join(gone))
    if not parts:
        parts.append("codes reordered")
    # a removed code rejects rows an old file could hold; an added one is new to every reader
    return [Change("codes", column, "; ".join(parts), breaking=bool(gone) or bool(added))]


def _checks_by_key(model: type[ContractModel]) -> dict[tuple[str, str | None], ContractCheck]:
    return {
        c.key: c
        for c in contract_checks(model, with_reference=False)
        if c.kind not in ("type", "completeness")
    }


def _describe_check(check: ContractCheck) -> str:
    params = ", ".join(f"{k}={v}" for k, v in check.parameters.items())
    return f"{check.name}({params}) [{check.severity}]" if params else f"{check.name} [{check.severity}]"


def diff(old: ContractVersion, new: ContractVersion) -> list[Change]:
    """What changed from `old` to `new`; a change is breaking when a file or a reader made for `old`
    no longer works unchanged: a column gone, renamed, split or newly required, a type changed, a code
    list changed, or a check added or tightened that can reject a row (minor checks never do)."""
    changes: list[Change] = []
    counterpart = _column_counterparts(old, new)
    split_from = {after: before for before, afters in new.split for after in afters}
    split_sources = {before for before, _ in new.split}
    renamed_from = {before for before, _ in new.renamed}

    for before, after in new.renamed:
        changes.append(Change("renamed", after, f"{before} -> {after}", breaking=True))
    for before, afters in new.split:
        changes.append(Change("split", before, f"{before} -> {', '.join(afters)}", breaking=True))
    for column in old.columns:
        if column not in new.columns and column not in renamed_from and column not in split_sources:
            changes.append(Change("removed", column, f"{column} is no longer delivered", breaking=True))
    for column in new.columns:
        if column in counterpart:
            continue
        schema_column = new.model.to_schema().columns[column]
        required = "required" if not schema_column.nullable else "optional"
        origin = f", from {split_from[column]}" if column in split_from else ""
        codes = code_list(new.model, column)
        listed = f"; codes: {', '.join(codes)}" if codes else ""
        changes.append(
            Change(
                "added",
                column,
                f"{column} ({dtype_name(column_dtype(new.model, column))}, {required}{origin}){listed}",
                breaking=not schema_column.nullable,
            )
        )

    old_checks, new_checks = _checks_by_key(old.model), _checks_by_key(new.model)
    for column, before in counterpart.items():
        old_type, new_type = column_dtype(old.model, before), column_dtype(new.model, column)
        if old_type != new_type:
            changes.append(
                Change("type", column, f"{dtype_name(old_type)} -> {dtype_name(new_type)}", breaking=True)
            )
        was_nullable = old.model.to_schema().columns[before].nullable
        is_nullable = new.model.to_schema().columns[column].nullable
        if was_nullable != is_nullable:
            changes.append(
                Change(
                    "nullability",
                    column,
                    "now required" if was_nullable else "now optional",
                    breaking=was_nullable,
                )
            )
        codes = _codes_change(column, code_list(old.model, before), code_list(new.model, column))
        changes += codes
        if before != column and not codes and code_list(new.model, column):
            changes.append(Change("codes", column, f"same codes as {before}", breaking=False))

    rename = {before: after for before, after in new.renamed}
    old_keyed = {(name, rename.get(col, col)): check for (name, col), check in old_checks.items()}
    new_columns = set(new.columns)
    for key, check in new_checks.items():
        previous = old_keyed.get(key)
        if key[0] == "in_domain" and previous is not None:
            continue  # reported as a code-list change
        if previous is None:
            if key[1] in counterpart or key[1] is None:
                changes.append(
                    Change(
                        "check_added",
                        check.column,
                        _describe_check(check),
                        breaking=check.severity != Severity.MINOR,
                    )
                )
        elif previous.parameters != check.parameters or previous.severity != check.severity:
            changes.append(
                Change(
                    "check_changed",
                    check.column,
                    f"{_describe_check(previous)} -> {_describe_check(check)}",
                    breaking=check.severity != Severity.MINOR,
                )
            )
    for key, check in old_keyed.items():
        if key not in new_checks and (key[1] in new_columns or key[1] is None):
            changes.append(Change("check_removed", check.column, _describe_check(check), breaking=False))

    old_key = _natural_key(old.model)
    new_key = _natural_key(new.model)
    if [rename.get(c, c) for c in old_key] != new_key:
        changes.append(Change("natural_key", None, f"{old_key} -> {new_key}", breaking=True))
    return changes


def _natural_key(model: type[ContractModel]) -> list[str]:
    for check in model.to_schema().checks:
        if check.name == "unique_key":
            return list(check.statistics["columns"])
    return []


def diff_report(table_name: str, old: ContractVersion, new: ContractVersion) -> dict[str, Any]:
    """The diff as one JSON-ready object."""
    changes = diff(old, new)
    return {
        "table": table_name,
        "from": old.version,
        "to": new.version,
        "valid_from": new.valid_from.isoformat() if new.valid_from else None,
        "change": new.change,
        "breaking": any(c.breaking for c in changes),
        "changes": [c.as_dict() for c in changes],
    }


def format_diff(report: dict[str, Any]) -> str:
    """The diff as text a person reads top to bottom."""
    verdict = "BREAKING" if report["breaking"] else "not breaking"
    lines = [
        f"{report['table']} {report['from']} -> {report['to']}: {verdict}",
        f"  {report['to']}: {report['change']}"
        + (f" (from {report['valid_from']})" if report["valid_from"] else ""),
    ]
    if not report["changes"]:
        lines.append("  no changes")
    width = max((len(c["kind"]) for c in report["changes"]), default=0)
    for change in report["changes"]:
        mark = "breaking" if change["breaking"] else "compatible"
        lines.append(f"  {change['kind']:<{width}}  {change['detail']}  [{mark}]")
    return "\n".join(lines)


def union_columns(versions: Iterable[ContractVersion]) -> list[str]:
    """Every column of any version: the newest version's order, then older columns it dropped."""
    ordered = list(versions)[::-1]
    seen: list[str] = []
    for version in ordered:
        seen += [c for c in version.columns if c not in seen]
    return seen
