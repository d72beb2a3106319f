"""`nqs contracts`: list the source contracts, diff their versions, generate their docs and dbt sources.

`generate` (or `doc` and `dbt-sources` alone) writes the files that are derived from the contracts:
contracts/REFERENCE.md and dbt_project/models/staging/<source>/_<source>__sources.yml. They are
part of `nqs regenerate`, which writes every generated file; these commands run its generators for
the contracts only. With `--check` nothing is written and the exit code says whether the files are
current.
"""

from __future__ import annotations

import argparse
import json
import sys


def _list(args: argparse.Namespace) -> int:
    from contracts.sources import SOURCE_TABLES

    for table in SOURCE_TABLES:
        versions = ", ".join(
            f"{v.version} {v.model.__name__}" + (f" from {v.valid_from.isoformat()}" if v.valid_from else "")
            for v in table.versions
        )
        print(f"{table.source}/{table.table}  {table.file_glob}  {versions}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from contracts.sources import get_table
    from contracts.versions import diff_report, format_diff

    try:
        source, _, table_name = args.table.partition("/")
        table = get_table(source, table_name)
        old, new = table.version_entry(args.old), table.version_entry(args.new)
    except KeyError as exc:
        print(f"nqs contracts diff: {exc.args[0]}", file=sys.stderr)
        return 2
    report = diff_report(f"{table.source}/{table.table}", old, new)
    print(json.dumps(report, indent=2) if args.json else format_diff(report))
    return 0


#: The generators of nqs.codegen each `nqs contracts` writing command runs (`nqs regenerate` runs all).
GENERATORS_OF = {
    "doc": ["contract-reference"],
    "dbt-sources": ["dbt-sources"],
    "all": ["contract-reference", "dbt-sources"],
}


def _write(which: str, check: bool) -> int:
    from nqs.codegen import run_generators

    return run_generators(GENERATORS_OF[which], check=check)


def add_contracts_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    contracts = subparsers.add_parser(
        "contracts", help="source contracts: list, diff versions, generate reference and dbt sources"
    )
    commands = contracts.add_subparsers(dest="contracts_command", required=True)

    listing = commands.add_parser("list", help="every source table and its contract versions")
    listing.set_defaults(run=_list)

    diff = commands.add_parser("diff", help="what changed between two contract versions, and if it breaks")
    diff.add_argument("table", help="source/table, e.g. incidents/events")
    diff.add_argument("old", help="older version, e.g. v1")
    diff.add_argument("new", help="newer version, e.g. v2")
    diff.add_argument("--json", action="store_true", help="one JSON object instead of text")
    diff.set_defaults(run=_diff)

    for name, which, help_text in (
        ("doc", "doc", "write contracts/REFERENCE.md from the contract models"),
        ("dbt-sources", "dbt-sources", "write the dbt source YAML of every source from the registry"),
        ("generate", "all", "write both: the contract reference and the dbt sources"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--check", action="store_true", help="write nothing; exit 1 if the files are out of date"
        )
        command.set_defaults(run=lambda args, which=which: _write(which, args.check))
    return contracts
