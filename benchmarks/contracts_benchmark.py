"""Time the source contracts (landing) per source table at given scales and print the figures.

For each scale: generate the sources once into a temporary folder (`nqs generate`), then land every
source table `--repeat` times, each time in a fresh process running `land_source_table` (the
warehouse load's own function: read, check, quarantine, pseudonymise, write parquet). Prints, per
table, the rows read, the median landing time (wall and CPU: on a shared machine CPU time is the
steadier figure), rows per second (wall) and the median peak resident memory of that process (its
imports included; the first line says how much the imports alone take).

    .venv/bin/python benchmarks/contracts_benchmark.py --scales 0.1 --repeat 3
    .venv/bin/python benchmarks/contracts_benchmark.py --scales 1.0 --repeat 1   # one national year
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Dates in generated sources are never later than this, so "not in the future" is reproducible.
AS_OF = "2027-01-01"


def _child(command: list[str]) -> tuple[dict, float]:
    """Run one measurement process; (its JSON result, its peak RSS in MiB, as it measured itself)."""
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"measurement failed: {' '.join(command[2:])}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result, result.pop("peak_mib")


def _land_one(table_name: str, sources: Path, landed: Path) -> None:
    """In the child: land one table and print rows, seconds and this process's peak RSS."""
    import resource
    from datetime import date

    from contracts.sources import get_table
    from nqs.landing.land import land_source_table
    from nqs.landing.reference import load_reference, needs_reference

    table = get_table(*table_name.split("/"))
    today = date.fromisoformat(AS_OF)
    reference = load_reference(sources, today=today) if needs_reference(table) else None
    start, cpu_start = time.perf_counter(), time.process_time()
    key = b"benchmark"
    results = land_source_table(table, sources, landed, pseudonym_key=key, today=today, reference=reference)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        json.dumps(
            {
                "rows": sum(r.rows_read for r in results),
                "accepted": sum(r.rows_accepted for r in results),
                "files": len(results),
                "seconds": seconds,
                "cpu_seconds": cpu,
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def _imports_only() -> None:
    import resource

    import nqs.landing.land  # noqa: F401 - the point is the memory the imports take

    print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def bench(scale: float, months: int, repeat: int, seed: int) -> dict:
    from contracts.sources import SOURCE_TABLES

    python = [sys.executable, __file__]
    with tempfile.TemporaryDirectory(prefix=f"nqs-contracts-{scale}-") as tmp:
        sources, landed = Path(tmp) / "sources", Path(tmp) / "landed"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "nqs.cli", "generate", "--scale", str(scale), "--seed", str(seed)]
            + ["--months", str(months), "--out", str(sources)],
            cwd=REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        generate_s = time.perf_counter() - start
        imports_mib = _child([*python, "--imports-only"])[1]
        tables = {}
        for table in SOURCE_TABLES:
            name = f"{table.source}/{table.table}"
            runs = [_child([*python, "--land", name, str(sources), str(landed)]) for _ in range(repeat)]
            seconds = statistics.median(r["seconds"] for r, _ in runs)
            rows = runs[0][0]["rows"]
            tables[name] = {
                "rows": rows,
                "files": runs[0][0]["files"],
                "seconds_median": seconds,
                "cpu_seconds_median": statistics.median(r["cpu_seconds"] for r, _ in runs),
                "rows_per_s": rows / seconds if seconds else None,
                "peak_mib_median": statistics.median(peak for _, peak in runs),
            }
    total_rows = sum(t["rows"] for t in tables.values())
    total_s = sum(t["seconds_median"] for t in tables.values())
    return {
        "scale": scale,
        "months": months,
        "repeat": repeat,
        "generate_s": generate_s,
        "imports_peak_mib": imports_mib,
        "rows": total_rows,
        "landing_s": total_s,
        "rows_per_s_overall": total_rows / total_s,
        "tables": tables,
    }


def main() -> None:
    if sys.argv[1:2] == ["--land"]:
        _land_one(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    if sys.argv[1:2] == ["--imports-only"]:
        _imports_only()
        return
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1])
    parser.add_argument("--months", type=int, default=12, help="12 = one national year at scale 1.0")
    parser.add_argument("--repeat", type=int, default=3, help="landings per table (median reported)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print one JSON object per scale")
    args = parser.parse_args()
    for scale in args.scales:
        result = bench(scale, args.months, args.repeat, args.seed)
        if args.json:
            print(json.dumps(result))
            continue
        print(
            f"scale {scale:g} ({args.months} months): {result['rows']:,} rows landed in "
            f"{result['landing_s']:.1f} s ({result['rows_per_s_overall']:,.0f} rows/s), median of "
            f"{args.repeat}; generate {result['generate_s']:.1f} s; "
            f"imports alone {result['imports_peak_mib']:.0f} MiB"
        )
        header = f"{'table':32} {'rows':>11} {'files':>5} {'seconds':>8} {'CPU s':>7} {'rows/s':>11}"
        print(f"    {header} {'peak MiB':>9}")
        for name, t in result["tables"].items():
            print(
                f"    {name:32} {t['rows']:>11,} {t['files']:>5} {t['seconds_median']:>8.2f} "
                f"{t['cpu_seconds_median']:>7.2f} "
                f"{t['rows_per_s']:>11,.0f} {t['peak_mib_median']:>9,.0f}"
            )


if __name__ == "__main__":
    main()
