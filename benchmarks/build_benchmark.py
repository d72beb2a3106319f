"""Time the whole warehouse build at given scales against the raw-scan floor, and print the figures.

For each scale: generate `--months` months of sources plus one more month, held back, into a
temporary data folder; measure the raw-scan floor of the `--months` months (`floor_benchmark.py`:
DuckDB copying every CSV of the delivery to Parquet once, with the build's DuckDB settings); run a
full build (`nqs build --full-refresh`) in a fresh process `--repeat` times; then deliver the held-back
month and run `nqs build` once more, which lands that month alone and builds incrementally, as a
national team's monthly run does. Printed: the floor, the full build's median wall time, their
ratio, the new month's build and its ratio to the full build, landing throughput (rows per second
per source table, from the Dagster step timings), and memory: the peak resident memory of the build's
whole process tree (the RSS of every process in it, summed, sampled every `--sample-interval`
seconds from /proc), the peak of its largest single process (ru_maxrss), and the tree's peak during
each Dagster step (each sample attributed to the steps running when it was taken, from the run's
step stats). `--no-new-month` leaves the new month out (a ten-year backfill: `--months 120`).

The DuckDB settings come from the environment as for any build (NQS_DUCKDB_MEMORY_LIMIT,
NQS_DUCKDB_THREADS, NQS_DUCKDB_TEMP_DIRECTORY; see README.md).

    .venv/bin/python benchmarks/build_benchmark.py --scales 0.1 1.0 --months 24
    .venv/bin/python benchmarks/build_benchmark.py --scales 1.0 --months 120 --no-new-month \
        --work-dir /var/tmp/nqs

`--work-dir` keeps each scale's data folder (a failed ten-year run's Dagster logs among it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from process_memory import MIB, Run, run_sampled  # noqa: E402 - a sibling script, not a package

FLOOR_SCRIPT = Path(__file__).with_name("floor_benchmark.py")
#: samples taken outside every step (start-up, between steps, the summary after the run)
OUTSIDE_STEPS = "(outside any step)"


def _floor(sources: Path, out: Path, env: dict[str, str]) -> dict:
    """The raw-scan floor of the delivery, in its own process (floor_benchmark.py)."""
    command = [sys.executable, str(FLOOR_SCRIPT), "--sources", str(sources), "--out", str(out), "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"raw-scan floor failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _step_peaks(data_dir: Path, samples: list[tuple[float, int, int]]) -> dict[str, dict[str, float]]:
    """Per Dagster step of the last run: seconds, the process tree's peak RSS (MiB) while it ran, and of
    that peak, the part of the build's own process (the rest is its children: dbt)."""
    os.environ["DAGSTER_HOME"] = str(data_dir / "dagster_home")
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        spans = {
            s.step_key: (s.start_time, s.end_time)
            for s in instance.get_run_step_stats(run.run_id)
            if s.start_time and s.end_time
        }
    empty = {"seconds": 0.0, "peak_mib": 0.0, "build_process_mib": 0.0}
    peaks = {step: {**empty, "seconds": end - start} for step, (start, end) in spans.items()}
    peaks[OUTSIDE_STEPS] = dict(empty)
    for at, total, root in samples:
        running = [step for step, (start, end) in spans.items() if start <= at <= end] or [OUTSIDE_STEPS]
        for step in running:
            if total / MIB > peaks[step]["peak_mib"]:
                peaks[step] |= {"peak_mib": total / MIB, "build_process_mib": root / MIB}
    return peaks


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


def _generate(scale: float, months: int, seed: int, out: Path, env: dict[str, str]) -> Run:
    command = [sys.executable, "-m", "nqs.cli", "generate", "--scale", str(scale), "--seed", str(seed)]
    generated = run_sampled([*command, "--months", str(months), "--out", str(out)], env)
    if generated.returncode:
        raise SystemExit(f"generate failed at scale {scale}")
    return generated


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link where the file system allows one (a ten-year delivery is tens of GB), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _deliver(generated: Path, sources: Path, *, held_back: str | None) -> tuple[int, list[Path]]:
    """Copy the generated delivery into the sources folder, except the files of month `held_back`
    (returned, to deliver later); the manifest lists the files delivered. Returns (rows, held back)."""
    manifest = json.loads((generated / "_manifest.json").read_text())
    later = [name for name in manifest["files"] if held_back and name.endswith(f"_{held_back}.csv")]
    sources.mkdir(parents=True)
    for name in manifest["files"]:
        if name not in later:
            (sources / name).parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(generated / name, sources / name)
    manifest["files"] = {name: rows for name, rows in manifest["files"].items() if name not in later}
    (sources / "_manifest.json").write_text(json.dumps(manifest, indent=1))
    return sum(manifest["files"].values()), [generated / name for name in later]


def _build(data_dir: Path, env: dict[str, str], interval: float, scale: float, *args: str) -> Run:
    build = run_sampled([sys.executable, "-m", "nqs.cli", "build", *args], env, interval)
    if build.returncode:
        peaks = _step_peaks(data_dir, build.tree.samples)
        worst = sorted(peaks.items(), key=lambda item: -item[1]["peak_mib"])[:5]
        raise SystemExit(
            f"build {' '.join(args)} failed at scale {scale} after {build.wall_s:.0f} s; process tree "
            f"peak {build.tree.peak_mib:,.0f} MiB; by step: "
            + ", ".join(f"{step} {f['peak_mib']:,.0f} MiB" for step, f in worst)
            + _errors_logged(data_dir)
        )
    return build


def _errors_logged(data_dir: Path, lines: int = 30) -> str:
    """The last error lines of the failed run's console log (dbt's and Dagster's), so the cause is
    printed before the data folder is removed."""
    log = data_dir / "build" / "last_run.log"
    if not log.exists():
        return ""
    errors = [line for line in log.read_text(errors="replace").splitlines() if "error" in line.lower()]
    return "\nerrors in " + str(log) + ":\n" + "\n".join(line[:400] for line in errors[-lines:])


@contextlib.contextmanager
def _data_folder(scale: float, work_dir: Path | None) -> Iterator[Path]:
    """A temporary folder, removed afterwards; or, given `work_dir`, a new folder in it that is kept
    (its generated sources, landed data and Dagster run logs), so a long run that fails can be read."""
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix=f"nqs-bench-{scale}-") as tmp:
            yield Path(tmp)
        return
    work_dir.mkdir(parents=True, exist_ok=True)
    yield Path(tempfile.mkdtemp(prefix=f"nqs-bench-{scale}-", dir=work_dir))


def bench(
    scale: float,
    months: int,
    repeat: int,
    seed: int,
    interval: float = 0.5,
    new_month: bool = True,
    work_dir: Path | None = None,
) -> dict:
    with _data_folder(scale, work_dir) as data_dir:
        env = {**os.environ, "NQS_DATA_DIR": str(data_dir)}
        generated_dir, sources = data_dir / "generated", data_dir / "sources"
        generated = _generate(scale, months + new_month, seed, generated_dir, env)
        held_back = json.loads((generated_dir / "_manifest.json").read_text())["end"] if new_month else None
        total_rows, later = _deliver(generated_dir, sources, held_back=held_back)
        floor = _floor(sources, data_dir / "floor_parquet", env)
        # at once, so a build stopped before the end still leaves the floor on record
        print(
            f"scale {scale:g} ({months} months): raw-scan floor {floor['floor_s']:.1f} s for "
            f"{floor['rows']:,} rows in {floor['files']} files; building...",
            file=sys.stderr,
            flush=True,
        )
        builds, throughputs, steps = [], [], []
        for _ in range(repeat):
            builds.append(_build(data_dir, env, interval, scale, "--full-refresh"))
            throughputs.append(_landing_throughput(data_dir))
            steps.append(_step_peaks(data_dir, builds[-1].tree.samples))
        tables = sorted(throughputs[0])
        walls = [b.wall_s for b in builds]
        median_build = statistics.median(walls)
        # the per-step figures of the run whose wall time is the median (the lower middle one)
        middle = sorted(range(len(builds)), key=lambda i: walls[i])[(len(builds) - 1) // 2]
        result = {
            "scale": scale,
            "months": months,
            "source_rows": total_rows,
            "duckdb_config": floor["duckdb_config"],
            "generate_s": generated.wall_s,
            "generate_peak_mib": generated.max_process_mib,
            "floor_s": floor["floor_s"],
            "floor_files_read_as_text": floor["files_read_as_text"],
            "build_s_median": median_build,
            "build_s_runs": walls,
            "build_to_floor": median_build / floor["floor_s"],
            "build_tree_peak_mib_median": statistics.median(b.tree.peak_mib for b in builds),
            "build_max_process_mib_median": statistics.median(b.max_process_mib for b in builds),
            "rows_per_s_overall": total_rows / median_build,
            "landing_rows_per_s": {t: statistics.median(x[t] for x in throughputs) for t in tables},
            "step_peaks": steps[middle],
        }
        if later:
            for path in later:
                _link_or_copy(path, sources / path.relative_to(generated_dir))
            incremental = _build(data_dir, env, interval, scale)
            result |= {
                "new_month": held_back,
                "new_month_rows": sum(len(path.read_bytes().splitlines()) - 1 for path in later),
                "new_month_s": incremental.wall_s,
                "new_month_to_build": incremental.wall_s / median_build,
                "new_month_tree_peak_mib": incremental.tree.peak_mib,
                "new_month_step_peaks": _step_peaks(data_dir, incremental.tree.samples),
            }
        return result


def _print_step_kinds(title: str, peaks: dict[str, dict[str, float]], wall_s: float) -> None:
    """Where a run's time goes: the Dagster steps' seconds summed by kind (landing a source table, a
    dbt invocation, the Python steps after dbt), against the run's wall time. A dbt step's seconds
    include dbt's own start-up (parsing the manifest, opening DuckDB), whatever its models do."""
    kinds: dict[str, list[float]] = {"landing": [], "dbt": [], "other": []}
    for step, figures in peaks.items():
        if step == OUTSIDE_STEPS:
            continue
        kind = "landing" if step.startswith("land_") else "dbt" if step.startswith("dbt_") else "other"
        kinds[kind].append(figures["seconds"])
    parts = [
        f"{kind} {sum(seconds):,.1f} s in {len(seconds)} steps"
        + (f" (shortest {min(seconds):.1f} s)" if seconds else "")
        for kind, seconds in kinds.items()
    ]
    total = sum(sum(seconds) for seconds in kinds.values())
    print(f"    {title}: {total:,.1f} s of step time in {wall_s:,.1f} s wall; " + "; ".join(parts))


def _print_steps(title: str, peaks: dict[str, dict[str, float]], top: int) -> None:
    print(f"    {title} (top {top}; of which the build's own process, the rest dbt; the step's seconds):")
    ranked = sorted(peaks.items(), key=lambda item: -item[1]["peak_mib"])
    for step, f in ranked[:top]:
        print(
            f"      {step:44} {f['peak_mib']:>8,.0f} MiB (own {f['build_process_mib']:>6,.0f}) "
            f"{f['seconds']:>8.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=float, nargs="+", default=[0.01, 0.1])
    parser.add_argument("--months", type=int, default=24, help="months of history (12 = one national year)")
    parser.add_argument("--repeat", type=int, default=3, help="builds per scale (median reported)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--sample-interval", type=float, default=0.5, help="seconds between memory samples of the build"
    )
    parser.add_argument("--steps", type=int, default=12, help="steps to list by peak memory (0: none)")
    parser.add_argument(
        "--no-new-month",
        action="store_true",
        help="do not deliver and build one more month after the full builds",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="keep each scale's data folder (sources, landed data, Dagster logs) in this folder "
        "instead of removing it",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per scale")
    args = parser.parse_args()
    for scale in args.scales:
        repeat = 1 if scale >= 1 else args.repeat
        result = bench(
            scale, args.months, repeat, args.seed, args.sample_interval, not args.no_new_month, args.work_dir
        )
        if args.json:
            print(json.dumps(result))
            continue
        config = result["duckdb_config"]
        print(
            f"scale {scale:g} ({args.months} months): {result['source_rows']:,} source rows; "
            f"DuckDB memory_limit {config['memory_limit']}, threads {config['threads']}; "
            f"generate {result['generate_s']:.1f} s\n"
            f"    raw-scan floor {result['floor_s']:.1f} s; build median {result['build_s_median']:.1f} s "
            f"of {len(result['build_s_runs'])} ({result['rows_per_s_overall']:,.0f} rows/s overall); "
            f"build / floor {result['build_to_floor']:.1f}x\n"
            f"    peak RSS: process tree {result['build_tree_peak_mib_median']:,.0f} MiB, "
            f"largest process {result['build_max_process_mib_median']:,.0f} MiB"
        )
        for table, rate in result["landing_rows_per_s"].items():
            print(f"    landing {table:36} {rate:>12,.0f} rows/s")
        if "new_month" in result:
            print(
                f"    new month {result['new_month']} ({result['new_month_rows']:,} rows) landed and built "
                f"incrementally: {result['new_month_s']:.1f} s, {result['new_month_to_build']:.1%} of the "
                f"full build; peak RSS {result['new_month_tree_peak_mib']:,.0f} MiB"
            )
        _print_step_kinds("step time by kind, full build", result["step_peaks"], result["build_s_median"])
        if "new_month" in result:
            _print_step_kinds("the same, new month", result["new_month_step_peaks"], result["new_month_s"])
        if args.steps:
            _print_steps(
                "peak RSS of the process tree by Dagster step, full build", result["step_peaks"], args.steps
            )
            if "new_month" in result:
                _print_steps("the same, new month", result["new_month_step_peaks"], args.steps)


if __name__ == "__main__":
    main()
