"""Time the whole warehouse build at given scales and print the figures.

For each scale: generate the sources once into a temporary data folder, then run `nqs build` in a
fresh process `--repeat` times, and print medians of wall time, landing throughput (rows per second
per source table, from the Dagster step timings) and peak resident memory of the build process tree.

    .venv/bin/python benchmarks/build_benchmark.py --scales 0.01 0.1 1.0 --months 12
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) of the process tree, exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if process.returncode:
        sys.stderr.write(process.stderr.read().decode()[-3000:])
    return wall, usage.ru_maxrss / 1024, process.returncode


def _landing_throughput(data_dir: Path) -> dict[str, float]:
    """Rows per second per source table from the last run's landing steps."""
    os.environ["DAGSTER_HOME"] = str(data_dir / "dagster_home")
    from dagster import DagsterEventType, DagsterInstance

    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        durations = {
            s.step_key: (s.end_time or 0) - (s.start_time or 0)
            for s in instance.get_run_step_stats(run.run_id)
        }
        rows: dict[str, int] = {}
        for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
            m = record.dagster_event.step_materialization_data.materialization
            if m.asset_key.path[0] == "landed" and "rows_read" in m.metadata:  # accepted rows only
                rows[record.dagster_event.step_key] = m.metadata["rows_read"].value
    return {step.removeprefix("land_"): rows[step] / durations[step] for step in rows if durations.get(step)}


def bench(scale: float, months: int, repeat: int, seed: int) -> dict:
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix=f"nqs-bench-{scale}-") as tmp:
        data_dir = Path(tmp)
        env = {**os.environ, "NQS_DATA_DIR": str(data_dir)}
        sources = data_dir / "sources"
        gen_wall, gen_rss, code = _run(
            [
                python,
                "-m",
                "nqs.cli",
                "generate",
                "--scale",
                str(scale),
                "--seed",
                str(seed),
                "--months",
                str(months),
                "--out",
                str(sources),
            ],
            env,
        )
        if code:
            raise SystemExit(f"generate failed at scale {scale}")
        manifest = json.loads((sources / "_manifest.json").read_text())
        total_rows = sum(manifest["files"].values())
        walls, peaks, throughputs = [], [], []
        for _ in range(repeat):
            wall, peak, code = _run([python, "-m", "nqs.cli", "build"], env)
            if code:
                raise SystemExit(f"build failed at scale {scale}")
            walls.append(wall)
            peaks.append(peak)
            throughputs.append(_landing_throughput(data_dir))
        tables = sorted(throughputs[0])
        return {
            "scale": scale,
            "months": months,
            "source_rows": total_rows,
            "generate_s": gen_wall,
            "generate_peak_mib": gen_rss,
            "build_s_median": statistics.median(walls),
            "build_s_runs": walls,
            "build_peak_mib_median": statistics.median(peaks),
            "rows_per_s_overall": total_rows / statistics.median(walls),
            "landing_rows_per_s": {t: statistics.median(x[t] for x in throughputs) for t in tables},
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=float, nargs="+", default=[0.01, 0.1])
    parser.add_argument("--months", type=int, default=12, help="12 = one national year at scale 1.0")
    parser.add_argument("--repeat", type=int, default=3, help="builds per scale (median reported)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print one JSON object per scale")
    args = parser.parse_args()
    for scale in args.scales:
        result = bench(scale, args.months, 1 if scale >= 1 else args.repeat, args.seed)
        if args.json:
            print(json.dumps(result))
            continue
        print(
            f"scale {scale:g} ({args.months} months): {result['source_rows']:,} source rows; "
            f"generate {result['generate_s']:.1f} s; build median {result['build_s_median']:.1f} s "
            f"of {len(result['build_s_runs'])} ({result['rows_per_s_overall']:,.0f} rows/s overall), "
            f"peak {result['build_peak_mib_median']:,.0f} MiB"
        )
        for table, rate in result["landing_rows_per_s"].items():
            print(f"    landing {table:36} {rate:>12,.0f} rows/s")


if __name__ == "__main__":
    main()
