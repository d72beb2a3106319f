"""Peak memory and time of landing one source table's files, in one process and in landing workers.

Lands every delivered file of `--table` (default `workforce/staff_months`, the largest) with
`land_source_table`, once per value of `--files-per-worker` (0: every file in one process; N: N files
to a worker process, which then exits: NQS_LANDING_FILES_PER_WORKER), each time in a fresh process
into an empty landed folder. Printed per mode: the peak resident memory of the whole process tree
(the landing process and its workers, summed, sampled every `--sample-interval` seconds from /proc:
`process_memory.py`), the largest single process (ru_maxrss), the wall time of the process and of
the landing alone, and the rows landed.

The delivery is generated (`nqs generate --scale S --months M`) into a temporary folder under
`--work-dir`, removed afterwards, or taken from `--sources` (a folder `nqs generate` wrote):

    .venv/bin/python benchmarks/landing_memory_benchmark.py --scale 1.0 --months 36 \
        --work-dir /var/tmp/nqs --files-per-worker 0 24 12
    .venv/bin/python benchmarks/landing_memory_benchmark.py --sources /var/tmp/nqs/sources
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from process_memory import run_sampled  # noqa: E402 - a sibling script, not a package

#: Dates in generated sources are never later than this, so "not in the future" is reproducible.
AS_OF = "2027-01-01"
RESULT = "result.json"


def _land(table_name: str, sources: Path, landed: Path, files_per_worker: int) -> None:
    """In the measured process: land the table's files; write files, rows and seconds as JSON to
    `landed`/result.json."""
    import time
    from datetime import date

    from contracts.sources import get_table
    from nqs.landing.land import land_source_table
    from nqs.landing.pseudonymise import landing_key

    start = time.perf_counter()
    results = land_source_table(
        get_table(*table_name.split("/")),
        sources,
        landed,
        pseudonym_key=landing_key(sources, None),
        today=date.fromisoformat(AS_OF),
        files_per_worker=files_per_worker,
    )
    seconds = time.perf_counter() - start
    rows = sum(r.rows_read for r in results)
    result = {"files": len(results), "rows": rows, "landing_s": seconds}
    (landed / RESULT).write_text(json.dumps(result), encoding="utf-8")


def measure(
    table: str, sources: Path, files_per_worker: int, interval: float, work_dir: Path | None = None
) -> dict:
    """Land `table` from `sources` in a fresh process, sampling its process tree; the figures. The landed
    folder is made in `work_dir` if given, else beside `sources`, and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="landed-", dir=work_dir or sources.parent) as landed:
        command = [sys.executable, __file__, "--land", table, "--sources", str(sources), "--landed", landed]
        env = dict(os.environ)
        run = run_sampled([*command, "--files-per-worker", str(files_per_worker)], env, interval)
        if run.returncode:
            raise SystemExit(f"landing {table} with {files_per_worker} files per worker failed")
        landed_now = json.loads((Path(landed) / RESULT).read_text(encoding="utf-8"))
    return {
        "files_per_worker": files_per_worker,
        "tree_peak_mib": run.tree.peak_mib,
        "max_process_mib": run.max_process_mib,
        "wall_s": run.wall_s,
        **landed_now,
    }


def _generate(scale: float, months: int, seed: int, out: Path) -> None:
    command = [sys.executable, "-m", "nqs.cli", "generate", "--scale", str(scale), "--seed", str(seed)]
    generated = run_sampled([*command, "--months", str(months), "--out", str(out)], dict(os.environ))
    if generated.returncode:
        raise SystemExit(f"generate failed at scale {scale}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--table", default="workforce/staff_months", help="source/table to land")
    parser.add_argument("--sources", type=Path, help="a generated delivery (default: generate one)")
    parser.add_argument("--scale", type=float, default=0.3)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="where to generate and land (default: the system's temp; with --sources, beside them)",
    )
    parser.add_argument(
        "--files-per-worker", type=int, nargs="+", default=[0, 24], help="modes to measure (0: one process)"
    )
    parser.add_argument("--sample-interval", type=float, default=0.25, help="seconds between samples")
    parser.add_argument("--json", action="store_true", help="print one JSON object per mode")
    parser.add_argument("--land", help=argparse.SUPPRESS)  # in the measured process
    parser.add_argument("--landed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.land:
        _land(args.land, args.sources, args.landed, args.files_per_worker[0])
        return
    work = None
    if args.sources is None:
        if args.work_dir:
            args.work_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="nqs-landing-bench-", dir=args.work_dir))
        args.sources = work / "sources"
        print(f"generating scale {args.scale:g}, {args.months} months...", file=sys.stderr, flush=True)
        _generate(args.scale, args.months, args.seed, args.sources)
    try:
        for files_per_worker in args.files_per_worker:
            result = measure(
                args.table, args.sources.resolve(), files_per_worker, args.sample_interval, args.work_dir
            )
            if args.json:
                print(json.dumps(result), flush=True)
                continue
            mode = f"{files_per_worker} files per worker" if files_per_worker else "one process"
            print(
                f"{args.table} {mode:>20}: {result['files']} files, {result['rows']:,} rows; peak RSS "
                f"process tree {result['tree_peak_mib']:,.0f} MiB, largest process "
                f"{result['max_process_mib']:,.0f} MiB; wall {result['wall_s']:.1f} s "
                f"(landing {result['landing_s']:.1f} s)",
                flush=True,
            )
    finally:
        if work is not None:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
