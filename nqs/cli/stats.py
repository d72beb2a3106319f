"""`nqs spc` and `nqs funnel`: the statistics from the command line, CSV (or Parquet) in, CSV out.

Register them on the top-level parser with `add_spc_parser(subparsers)` and `add_funnel_parser(subparsers)`;
each sets `run` to a function taking the parsed arguments and returning the exit code. Bad input gives a
one-line error on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import polars as pl

from nqs.stats._common import StatsInputError

EXIT_BAD_INPUT = 2


def add_spc_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    spc = subparsers.add_parser(
        "spc",
        help="XmR (statistical process control) chart data with Making Data Count signals and icons",
        description="Write one row per point: mean, process limits, 2-sigma band, special-cause signals, "
        "and the variation and assurance icons of each series.",
    )
    spc.add_argument("--input", required=True, metavar="F", help="CSV or Parquet file, one row per point")
    spc.add_argument("--date", required=True, metavar="COL", help="date column (YYYY-MM-DD)")
    spc.add_argument("--value", required=True, metavar="COL", help="value column")
    spc.add_argument("--facet", metavar="COL", help="column naming the series (one chart per value)")
    spc.add_argument(
        "--improvement",
        choices=("increase", "decrease", "neutral"),
        default="increase",
        help="direction that is an improvement (default increase)",
    )
    spc.add_argument("--target", type=float, metavar="X", help="target, for the assurance icon")
    spc.add_argument(
        "--rebase", nargs="+", default=[], metavar="DATE", help="dates at which new limits start"
    )
    spc.add_argument(
        "--fix-after", type=int, metavar="N", help="fix the limits after the first N points (N >= 12)"
    )
    spc.add_argument(
        "--no-screen-outliers",
        dest="screen_outliers",
        action="store_false",
        help="keep large moving ranges in the limits",
    )
    spc.add_argument(
        "--lower-bound", type=float, metavar="X", help="lowest value the measure can take (0 for a rate)"
    )
    spc.add_argument(
        "--upper-bound", type=float, metavar="X", help="highest value the measure can take (1 for a share)"
    )
    spc.add_argument("--output", required=True, metavar="OUT.csv", help="CSV file to write")
    spc.set_defaults(run=run_spc)
    return spc


def add_funnel_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    funnel = subparsers.add_parser(
        "funnel",
        help="funnel-plot limits and outliers (95%% alert, 99.8%% alarm) with an overdispersion adjustment",
        description="Write one row per unit: value, z-score, 95% and 99.8% limits around the target, "
        "outlier status, and the dispersion ratio phi and between-unit variance tau2.",
    )
    funnel.add_argument("--input", required=True, metavar="F", help="CSV or Parquet file")
    funnel.add_argument(
        "--numerator", metavar="COL", help="numerator (observed; for a mean, the sum of observations) column"
    )
    funnel.add_argument(
        "--denominator",
        required=True,
        metavar="COL",
        help="denominator (expected; for a mean or median, the number of observations) column",
    )
    funnel.add_argument("--value", metavar="COL", help="each unit's median (--type median, one row per unit)")
    funnel.add_argument("--group", required=True, metavar="COL", help="unit column; rows are summed per unit")
    funnel.add_argument(
        "--type",
        required=True,
        dest="data_type",
        choices=("proportion", "ratio", "rate", "standardised-ratio", "mean", "median"),
        help="what numerator / denominator (or value) is",
    )
    funnel.add_argument(
        "--sd",
        type=float,
        metavar="X",
        help="mean or median: standard deviation of one observation (a median's: 1 / (2 f(median)))",
    )
    funnel.add_argument(
        "--target",
        type=float,
        metavar="X",
        help="mean or median: the national value (a median's is required)",
    )
    funnel.add_argument(
        "--method",
        choices=("shmi", "spiegelhalter"),
        default="spiegelhalter",
        help="trim the z-scores by winsorising (spiegelhalter, default) or truncating (shmi)",
    )
    funnel.add_argument(
        "--trim", type=float, default=0.1, help="share trimmed at each end before estimating overdispersion"
    )
    funnel.add_argument(
        "--tau2-method",
        choices=("dersimonian-laird", "paule-mandel"),
        default="dersimonian-laird",
        help="between-unit variance: DerSimonian-Laird from the trimmed phi (FunnelPlotR's, default) or "
        "Paule-Mandel on the trimmed z-scores (consistent; the warehouse's)",
    )
    funnel.add_argument(
        "--no-overdispersion",
        dest="overdispersion",
        action="store_false",
        help="unadjusted limits (exact Poisson for standardised ratios)",
    )
    funnel.add_argument("--output", required=True, metavar="OUT.csv", help="CSV file to write")
    funnel.set_defaults(run=run_funnel)
    return funnel


def _read(path: str) -> pl.DataFrame:
    source = Path(path)
    if not source.is_file():
        raise StatsInputError(f"input file not found: {path}")
    try:
        if source.suffix.lower() == ".parquet":
            return pl.read_parquet(source)
        # everything as text, so that a bad value is reported with its row rather than guessed at
        return pl.read_csv(source, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StatsInputError(f"cannot read {path}: {first_line}") from None


def _write(result: pl.DataFrame, path: str) -> None:
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        result.write_csv(target)
    except OSError as error:
        raise StatsInputError(f"cannot write {path}: {error.strerror or error}") from None


def _fail(command: str, message: str) -> int:
    print(f"nqs {command}: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run_spc(args: argparse.Namespace) -> int:
    from nqs.stats.spc import spc

    try:
        frame = _read(args.input)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = spc(
                frame,
                date=args.date,
                value=args.value,
                facet=args.facet,
                improvement=args.improvement,
                target=args.target,
                rebase=args.rebase,
                fix_after=args.fix_after,
                screen_outliers=args.screen_outliers,
                bounds=(args.lower_bound, args.upper_bound),
            )
        _write(result, args.output)
    except StatsInputError as error:
        return _fail("spc", str(error))
    for warning in caught:
        print(f"nqs spc: warning: {warning.message}", file=sys.stderr)
    series = result.select("facet").n_unique() if result.height else 0
    print(f"wrote {result.height:,} points in {series:,} series to {args.output}")
    if result.height and result["short_group_warning"].any():
        print(
            "nqs spc: warning: some segments have fewer than 13 points; their limits are trial limits",
            file=sys.stderr,
        )
    return 0


def run_funnel(args: argparse.Namespace) -> int:
    from nqs.stats.funnel import funnel

    try:
        frame = _read(args.input)
        result = funnel(
            frame,
            numerator=args.numerator,
            denominator=args.denominator,
            group=args.group,
            data_type=args.data_type,
            method=args.method,
            trim=args.trim,
            overdispersion=args.overdispersion,
            value=args.value,
            target=args.target,
            sd=args.sd,
            tau2_method=args.tau2_method,
        )
        _write(result, args.output)
    except StatsInputError as error:
        return _fail("funnel", str(error))
    alarms = result.filter(pl.col("outlier_status").str.starts_with("alarm")).height
    alerts = result.filter(pl.col("outlier_status").str.starts_with("alert")).height
    adjusted = "overdispersion-adjusted" if result["adjusted"][0] else "unadjusted"
    print(
        f"wrote {result.height:,} units to {args.output}: {alarms} beyond 99.8% (alarm), "
        f"{alerts} more beyond 95% (alert), {adjusted} limits, phi {result['phi'][0]:.4g}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run `spc` or `funnel` on their own (the same as `nqs spc ...` / `nqs funnel ...`)."""
    top = argparse.ArgumentParser(prog="nqs", description="SPC and funnel-plot statistics")
    commands = top.add_subparsers(dest="command", required=True)
    add_spc_parser(commands)
    add_funnel_parser(commands)
    args = top.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
