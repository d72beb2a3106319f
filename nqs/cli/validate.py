"""`nqs validate`: a pre-flight check of one delivered file against its contract, writing nothing.

It calls `nqs.landing.file.land_file`, the function the warehouse load runs for every file, so a file
this command passes is a file the load accepts, with the same rows quarantined for the same reasons.
Organisation codes are checked against an organisations reference when one is found: `--reference`,
else the `organisations` folder beside the file's source folder, else the configured sources folder.

It needs no pseudonymisation key: it writes nothing and reports no identifier or hash, so it hashes
with a random key used once (never the sample key, which is for synthetic sources only).

Exit codes: 0 the file is loadable (quarantined rows included); 1 it is not (a critical failure,
one line on stderr); 2 the command was misused (unknown source, no such file).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

EXIT_LOADABLE, EXIT_NOT_LOADABLE, EXIT_BAD_USAGE = 0, 1, 2
#: Row numbers listed per check in the report.
SAMPLE_ROWS = 10


class UsageError(Exception):
    """The command cannot run as asked (the message is one line)."""


@dataclass(frozen=True)
class Reference:
    codes: object | None  #: nqs.landing.membership.ReferenceCodes
    note: str  #: where it came from, or why codes are not checked


def resolve_table(source: str, path: Path):
    """The registered table for `--source` (`incidents` or `incidents/events`) and the file's name."""
    from contracts.sources import SOURCE_TABLES, get_table, tables_for_source
    from nqs.landing.paths import is_file_of

    if "/" in source:
        try:
            return get_table(*source.split("/", 1))
        except KeyError as error:
            raise UsageError(str(error.args[0])) from None
    tables = tables_for_source(source)
    if not tables:
        known = ", ".join(sorted({t.source for t in SOURCE_TABLES}))
        raise UsageError(f"no source '{source}'; registered sources: {known}")
    if len(tables) == 1:
        return tables[0]
    matching = [t for t in tables if is_file_of(t, path)]
    if len(matching) == 1:
        return matching[0]
    globs = ", ".join(t.file_glob for t in tables)
    raise UsageError(
        f"cannot tell which table of '{source}' {path.name} belongs to: its name matches none of {globs}; "
        f"name the table, e.g. --source {source}/{tables[0].table}"
    )


def find_reference(table, path: Path, explicit: Path | None, today: date) -> Reference:
    """The organisations reference to check codes against, if the table has codes and one is found."""
    from nqs.landing.reference import load_reference_file, needs_reference, reference_path

    if not needs_reference(table):
        return Reference(None, "no organisation codes in this table")
    candidates = [explicit] if explicit else [reference_path(path.resolve().parent.parent), _configured()]
    for candidate in candidates:
        if candidate is None or not candidate.exists():
            continue
        try:
            return Reference(
                load_reference_file(candidate, today=today), f"codes checked against {candidate}"
            )
        except (OSError, ValueError) as error:
            if explicit:
                raise UsageError(str(error)) from None
    if explicit:
        raise UsageError(f"organisations reference {explicit} not found")
    return Reference(None, "organisation codes not checked against a reference: none found (--reference)")


def _configured() -> Path | None:
    from nqs.landing.reference import reference_path

    data_dir = Path(os.environ.get("NQS_DATA_DIR", "data"))
    sources_dir = Path(os.environ.get("NQS_SOURCES_DIR", data_dir / "sources"))
    return reference_path(sources_dir)


def validate(source: str, file: Path, *, reference: Path | None = None, today: date | None = None) -> dict:
    """Land `file` in memory against its contract and report what the load would do."""
    from nqs.landing.check_results import category
    from nqs.landing.file import land_file

    path = Path(file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    today = today or date.today()
    table = resolve_table(source, path)
    found = find_reference(table, path, reference, today)
    # Nothing is written and no identifier or hash is reported, so no key is needed: a random one,
    # used once, keeps the sample key off files that may be real.
    key = secrets.token_bytes(32)
    result = land_file(table, path, pseudonym_key=key, today=today, reference=found.codes)
    failed = result.checks.filter(pl.col("rows_failed") > 0).sort("severity", "check_name", "column_name")
    by_check = []
    for row in failed.iter_rows(named=True):
        cases = result.quarantine.filter(
            (pl.col("check_name") == row["check_name"])
            & pl.col("column_name").eq_missing(row["column_name"])
            & (pl.col("severity") == row["severity"])
        )
        by_check.append(
            {
                "check_name": row["check_name"],
                "column_name": row["column_name"],
                "severity": row["severity"],
                "category": category(row["check_name"]),
                "rows_failed": row["rows_failed"],
                "rows": cases["row_number"].drop_nulls().unique().sort().head(SAMPLE_ROWS).to_list(),
                "reason": cases["reason"].drop_nulls().mode().sort().first() if cases.height else None,
            }
        )
    return {
        "source": table.source,
        "table": table.table,
        "file": result.source_file,
        # the version the file was judged under, chosen from its header (`contract_for_header`)
        "contract": result.table.model.__name__,
        "contract_version": result.table.version,
        "encoding": result.encoding,
        "loadable": result.critical_error is None,
        "rows_read": result.rows_read,
        "rows_accepted": result.rows_accepted,
        "rows_quarantined": result.rows_quarantined,
        "rows_with_minor_findings": result.rows_with_minor_findings,
        "errors": [result.critical_error] if result.critical_error else [],
        "failures_by_check": by_check,
        "reference": found.note,
    }


def _print_text(report: dict) -> None:
    print(
        f"{report['source']}/{report['table']}: {report['file']} against {report['contract']} "
        f"({report['contract_version']}), {report['encoding']}"
    )
    print(
        f"rows read {report['rows_read']:,}, accepted {report['rows_accepted']:,}, "
        f"quarantined {report['rows_quarantined']:,} (rows with minor findings: "
        f"{report['rows_with_minor_findings']:,})"
    )
    print(report["reference"])
    if report["failures_by_check"]:
        print("failures by check:")
    for failure in report["failures_by_check"]:
        rows = ", ".join(str(r) for r in failure["rows"])
        more = ", ..." if failure["rows_failed"] > len(failure["rows"]) else ""
        column = failure["column_name"] or "-"
        print(
            f"  {failure['severity']:<8} {failure['check_name']:<28} {column:<24} "
            f"{failure['rows_failed']:>8,} row{'s' if failure['rows_failed'] != 1 else ''} "
            f"({rows}{more}): {failure['reason']}"
        )
    if report["loadable"]:
        print("loadable: yes" + (", with quarantined rows" if report["rows_quarantined"] else ""))


def run(args: argparse.Namespace) -> int:
    try:
        today = date.fromisoformat(args.as_of) if args.as_of else None
        report = validate(
            args.source,
            Path(args.file),
            reference=Path(args.reference) if args.reference else None,
            today=today,
        )
    except (UsageError, ValueError) as error:
        message = str(error).strip().splitlines()[0]
        if args.json:
            print(json.dumps({"loadable": False, "errors": [message]}))
        print(f"nqs validate: error: {message}", file=sys.stderr)
        return EXIT_BAD_USAGE
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print_text(report)
    if not report["loadable"]:
        print(f"nqs validate: not loadable: {report['errors'][0]}", file=sys.stderr)
        return EXIT_NOT_LOADABLE
    return EXIT_LOADABLE


def add_validate_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    validate_parser = subparsers.add_parser(
        "validate", help="check one source file against its contract without loading it"
    )
    validate_parser.add_argument(
        "--source", required=True, help="source (incidents) or source/table (joint_registry/proms)"
    )
    validate_parser.add_argument("file", help="the delivered file")
    validate_parser.add_argument("--json", action="store_true", help="print one JSON object")
    validate_parser.add_argument(
        "--reference", help="organisations CSV to check trust and site codes against (default: found)"
    )
    validate_parser.add_argument("--as-of", help="validate as on this date, YYYY-MM-DD (default: today)")
    validate_parser.set_defaults(run=run)
    return validate_parser
