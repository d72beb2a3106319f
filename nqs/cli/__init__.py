"""`nqs`: the warehouse's front door for analysts and data engineers."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nqs.cli.charts import add_chart_parser
from nqs.cli.contracts import add_contracts_parser
from nqs.cli.metrics import add_metrics_parser
from nqs.cli.regenerate import add_regenerate_parser
from nqs.cli.report import add_report_parser
from nqs.cli.stats import add_funnel_parser, add_spc_parser
from nqs.cli.validate import add_validate_parser


def _generate(args: argparse.Namespace) -> int:
    from nqs.generate import generate_sources

    manifest = generate_sources(
        Path(args.out),
        scale=args.scale,
        seed=args.seed,
        months=args.months,
        end=args.end,
        bad_row_share=args.bad_row_share,
    )
    rows = sum(manifest["files"].values())
    print(f"wrote {len(manifest['files'])} files, {rows:,} rows, to {Path(args.out).resolve()}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from nqs.cli.build import build_warehouse

    return build_warehouse(
        scale=args.scale,
        seed=args.seed,
        months=args.months,
        regenerate=args.regenerate,
        full_refresh=args.full_refresh,
    )


def _summary(args: argparse.Namespace) -> int:
    from nqs.cli.build import print_summary

    return print_summary()


def _lineage(args: argparse.Namespace) -> int:
    import json

    from nqs import lineage

    if args.generate or args.check:  # the lineage part of `nqs regenerate`
        from nqs.codegen import run_generators

        return run_generators(["source-tables", "priority-exposures"], check=args.check)
    named = {"source": args.source, "priority": args.priority, "metric": args.metric}
    kind, name = next(((k, v) for k, v in named.items() if v), (None, None))
    if kind is None:
        print("nqs lineage: name one of --source, --priority or --metric (or --generate)", file=sys.stderr)
        return 2
    try:
        index = lineage.build_index(args.strategy_version)
        result = getattr(lineage, f"for_{kind}")(index, name)
    except (lineage.UnknownName, ValueError) as exc:
        print(f"nqs lineage: {exc.args[0]}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else lineage.render_tree(lineage.to_tree(kind, result)))
    return 0


def _ui(args: argparse.Namespace) -> int:
    from nqs.cli.instance import use_dagster_home
    from nqs.settings import REPO_ROOT, get_settings

    use_dagster_home(get_settings().dagster_home)
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-m", "orchestration.definitions", "-p", str(args.port)]
    os.chdir(REPO_ROOT)
    os.execv(command[0], command)
    return 0  # not reached


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="nqs", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write synthetic national source files")
    generate.add_argument(
        "--scale", type=float, default=0.01, help="share of one national year (1.0 = real volume)"
    )
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--out", default="data/sources", help="folder to write one folder per source into")
    generate.add_argument("--months", type=int, default=24, help="months of history (default 24)")
    generate.add_argument("--end", default="2026-03", help="last month, YYYY-MM (default 2026-03)")
    generate.add_argument("--bad-row-share", type=float, default=0.002, help="share of planted bad rows")
    generate.set_defaults(run=_generate)

    build = commands.add_parser(
        "build",
        help="land the source files new or changed since the last build, rebuild what depends on them, "
        "and summarise",
    )
    build.add_argument(
        "--scale", type=float, default=0.01, help="scale of the sample generated if none exists"
    )
    build.add_argument("--seed", type=int, default=42)
    build.add_argument("--months", type=int, default=24)
    build.add_argument("--regenerate", action="store_true", help="regenerate the sample sources first")
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="land every source file again and rebuild every model (dbt --full-refresh)",
    )
    build.set_defaults(run=_build)

    summary = commands.add_parser("summary", help="summarise the published warehouse and the last build")
    summary.set_defaults(run=_summary)

    add_validate_parser(commands)
    add_metrics_parser(commands)
    add_spc_parser(commands)
    add_funnel_parser(commands)
    add_contracts_parser(commands)
    add_chart_parser(commands)
    add_report_parser(commands)
    add_regenerate_parser(commands)

    lineage = commands.add_parser(
        "lineage",
        help="what depends on a source, and what a priority or metric depends on (from the definitions)",
    )
    target = lineage.add_mutually_exclusive_group()
    target.add_argument("--source", help="a source folder (incidents), a family (incident) or source/table")
    target.add_argument("--priority", help="a priority id of the strategy version")
    target.add_argument("--metric", help="a metric id of the catalogue")
    target.add_argument(
        "--generate",
        action="store_true",
        help="rewrite seeds/source_tables.csv and the dbt exposures (part of `nqs regenerate`)",
    )
    target.add_argument("--check", action="store_true", help="exit 1 if a generated file is out of date")
    lineage.add_argument(
        "--strategy-version", help="strategy version to read (default: the active one)", default=None
    )
    lineage.add_argument("--json", action="store_true", help="print JSON instead of a tree")
    lineage.set_defaults(run=_lineage)

    ui = commands.add_parser("ui", help="open the Dagster UI on this warehouse's runs")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(run=_ui)
    return top


def main(argv: list[str] | None = None) -> int:
    from nqs.settings import SettingsError

    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except SettingsError as unusable:  # an environment variable the warehouse cannot use
        print(f"nqs {args.command}: error: {unusable}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
