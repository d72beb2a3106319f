"""The contract reference (contracts/REFERENCE.md), written from the contract models and the registry.

Nothing in it is typed by hand: columns, types, nullability and descriptions come from the pandera
models, checks from `contracts.versions.contract_checks` (the same list the check tests fire), their
categories from `nqs.landing.check_results`, versions and keys from `contracts.sources`. `nqs regenerate`
writes it; a test fails when the committed file differs from a fresh rendering.
"""

from __future__ import annotations

from pathlib import Path

from contracts.base import REGISTERED_CHECKS, Severity, first_line
from contracts.domains import DOMAINS
from contracts.sources import SOURCE_TABLES, SourceTable, source_description, sources, tables_for_source
from contracts.versions import (
    ContractCheck,
    ContractVersion,
    column_dtype,
    contract_checks,
    diff_report,
    dtype_name,
)
from nqs.codegen import header
from nqs.landing.check_results import category
from nqs.settings import REPO_ROOT

REFERENCE_PATH = REPO_ROOT / "contracts" / "REFERENCE.md"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _params(check: ContractCheck) -> str:
    if check.name == "in_domain":
        domain = check.parameters["domain"]
        return f"`{domain}`: {', '.join(DOMAINS[domain])}"
    return ", ".join(f"{k}={v}" for k, v in check.parameters.items())


def _checks_by_column(checks: list[ContractCheck]) -> dict[str | None, list[ContractCheck]]:
    grouped: dict[str | None, list[ContractCheck]] = {}
    for check in checks:
        grouped.setdefault(check.column, []).append(check)
    return grouped


def _column_rows(table: SourceTable, entry: ContractVersion, checks: list[ContractCheck]) -> list[str]:
    schema = entry.model.to_schema()
    by_column = _checks_by_column(checks)
    rows = [
        "| column | type | required | description | checks |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, column in schema.columns.items():
        landed = f" → `{name}_hash`" if name in table.identifier_columns else ""
        names = [
            f"`{c.name}`" + (" (minor)" if c.severity == Severity.MINOR else "")
            for c in by_column.get(name, [])
            if c.kind in ("column", "table")
        ]
        rows.append(
            f"| `{name}`{landed} | {dtype_name(column_dtype(entry.model, name))} | "
            f"{'no' if column.nullable else 'yes'} | {_cell(column.description or '')} | {', '.join(names)} |"
        )
    return rows


def _check_rows(checks: list[ContractCheck]) -> list[str]:
    rows = [
        "| column | check | parameters | severity | category | what it asks |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for check in checks:
        rows.append(
            f"| {f'`{check.column}`' if check.column else '(file)'} | `{check.name}` | "
            f"{_cell(_params(check))} | {check.severity} | {category(check.name)} | "
            f"{_cell(check.description)} |"
        )
    return rows


def _diff_rows(table: SourceTable, old: ContractVersion, new: ContractVersion) -> list[str]:
    report = diff_report(f"{table.source}/{table.table}", old, new)
    verdict = "breaking" if report["breaking"] else "not breaking"
    rows = [
        f"Changes from {old.version} ({verdict}; `nqs contracts diff {report['table']} {old.version} "
        f"{new.version}`):",
        "",
        "| change | column | detail | breaking |",
        "| --- | --- | --- | --- |",
    ]
    for change in report["changes"]:
        column = f"`{change['column']}`" if change["column"] else ""
        rows.append(
            f"| {change['kind']} | {column} | {_cell(change['detail'])} | "
            f"{'yes' if change['breaking'] else 'no'} |"
        )
    return rows


def _table_section(table: SourceTable) -> list[str]:
    lines = [
        f"### `{table.source}/{table.table}`",
        "",
        _cell(table.description),
        "",
        f"- files: `{table.source}/{table.file_glob}`; landed to `landed/{table.source}/{table.table}/`, "
        f"staged as `stg_{table.name}`",
        f"- natural key: {', '.join(f'`{c}`' for c in table.key_columns)} (unique within a file)",
        "- direct identifiers: "
        + (
            ", ".join(f"`{c}` (landed as `{c}_hash`)" for c in table.identifier_columns)
            if table.identifier_columns
            else "none"
        ),
        "- organisation codes checked at: "
        + (
            f"`{table.activity_date_column}`"
            if table.activity_date_column
            else "no activity date (known codes only)"
        ),
        "",
        "| version | contract | valid from | change |",
        "| --- | --- | --- | --- |",
    ]
    for entry in table.versions:
        valid_from = entry.valid_from.isoformat() if entry.valid_from else ""
        lines.append(f"| {entry.version} | `{entry.model.__name__}` | {valid_from} | {_cell(entry.change)} |")
    for index, entry in reversed(list(enumerate(table.versions))):
        checks = contract_checks(entry.model)
        lines += [
            "",
            f"#### {table.source}/{table.table} {entry.version} (`{entry.model.__name__}`)",
            "",
            _cell(first_line(entry.model.__doc__) or ""),
            "",
            *_column_rows(table, entry, checks),
            "",
            *_check_rows(checks),
        ]
        if index > 0:
            lines += ["", *_diff_rows(table, table.versions[index - 1], entry)]
    return lines


def _registered_checks() -> list[str]:
    rows = ["| check | what it asks |", "| --- | --- |"]
    for name, fn in sorted(REGISTERED_CHECKS.items()):
        rows.append(f"| `{name}` | {_cell(first_line(fn.__doc__) or '')} |")
    return rows


def render() -> str:
    """The whole reference as markdown."""
    lines = [
        "# Source contract reference",
        "",
        f"<!-- {header('the contract models (contracts/)')} -->",
        "",
        "Every source table the warehouse lands, every contract version it accepts, every column and every",
        "check, as the code applies them. How to change a contract: [README.md](README.md).",
        "",
        "Severities: **critical** fails the whole file (nothing from it is accepted); **major** quarantines",
        "the row; **minor** records a finding and accepts the row. Categories follow the Kahn framework",
        "(conformance, completeness, plausibility). Organisation-code checks (`known_*`, `open_*`,",
        "`site_of_trust`) run against the organisations reference at the row's activity date.",
        "",
        "## Registered checks",
        "",
        "Used by name in any contract: `pa.Field(<name>=...)` for a column, `Config.<name> = {...}` for a",
        "table.",
        "",
        *_registered_checks(),
        "",
        "## Source tables",
        "",
        "| source | table | family | versions | natural key |",
        "| --- | --- | --- | --- | --- |",
    ]
    for table in SOURCE_TABLES:
        lines.append(
            f"| `{table.source}` | [`{table.table}`](#{table.source}{table.table}) | {table.family} | "
            f"{', '.join(v.version for v in table.versions)} | {', '.join(table.key_columns)} |"
        )
    for source in sources():
        lines += ["", f"## `{source}`", "", _cell(source_description(source))]
        for table in tables_for_source(source):
            lines += ["", *_table_section(table)]
    return "\n".join(lines) + "\n"


def generated_files() -> dict[Path, str]:
    return {REFERENCE_PATH: render()}
