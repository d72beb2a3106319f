"""`nqs regenerate [--check]`: rewrite every generated file from its source (the registry in nqs.codegen)."""

from __future__ import annotations

import argparse


def _regenerate(args: argparse.Namespace) -> int:
    from nqs.codegen import run_generators

    return run_generators(check=args.check)


def add_regenerate_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    command = subparsers.add_parser(
        "regenerate",
        help="rewrite every generated file (contract reference, dbt sources and exposures, generated seeds "
        "and docs) from its source",
    )
    command.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 listing the files that are out of date"
    )
    command.set_defaults(run=_regenerate)
    return command
