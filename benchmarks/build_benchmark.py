"""Time the whole warehouse build at given scales against the raw-scan floor, and print the figures.

For each scale: generate the sources once into a temporary data folder; measure the raw-scan floor
(`floor_benchmark.py`: DuckDB copying every CSV of the delivery to Parquet once, with the build's
DuckDB settings); then run `nqs build --full-refresh` in a fresh process `--repeat` times. Printed:
the floor, the build's median wall time, their ratio, landing throughput (rows per second per source
table, from the Dagster step timings), and memory: the peak resident memory of the build's whole process tree
(the RSS of every process in it, summed, sampled every `--sample-interval` seconds from /proc), the
peak of its largest single process (ru_maxrss), and the tree's peak during each Dagster step (each
sample attributed to the steps running when it was taken, from the run's step stats).

The DuckDB settings come from the environment as for any build (NQS_DUCKDB_MEMORY_LIMIT,
NQS_DUCKDB_THREADS, NQS_DUCKDB_TEMP_DIRECTORY; see README.md).

    .venv/bin/python benchmarks/build_benchmark.py --scales 0.01 0.1 1.0 --months 24
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

FLOOR_SCRIPT = Path(__file__).with_name("floor_benchmark.py")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
#: samples taken outside every step (start-up, between steps, the summary after the run)
OUTSIDE_STEPS = "(outside any step)"


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                # the command name is in parentheses and may hold spaces: the fields follow the last ')'
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError):
        return 0


@dataclass
class TreeSampler:
    """Samples the summed RSS of a process and all its descendants every `interval` seconds."""

    root: int
    interval: float = 0.5
    #: (epoch seconds, bytes summed over the tree, bytes of the root process alone)
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        children = _children()
        tree, pending = [], [self.root]
        while pending:
            pid = pending.pop()
            tree.append(pid)
            pending.extend(children.get(pid, []))
        sizes = [_rss(pid) for pid in tree]
        self.samples.append((time.time(), sum(sizes), sizes[0]))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return max((total for _, total, _ in self.samples), default=0) / MIB


@dataclass
class Run:
    wall_s: float
    #: ru_maxrss: the largest single process of the tree
    max_process_mib: float
    returncode: int
    #: the whole tree's summed RSS, sampled
    tree: TreeSampler
    stderr: str = ""


def _run(command: list[str], env: dict[str, str], interval: float = 0.5) -> Run:
    """Run `command`, sampling its process tree's memory."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with TreeSampler(process.pid, interval) as tree:
        # stderr is read by a thread, so a chatty child never blocks on a full pipe
        captured: list[bytes] = []
        reader = threading.Thread(target=lambda: captured.append(process.stderr.read()), daemon=True)
        reader.start()
        _, status, usage = os.wait4(process.pid, 0)
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    stderr = b"".join(captured).decode(errors="replace")
    if process.returncode:
        sys.stderr.write(stderr[-3000:])
    return Run(wall, usage.ru_maxrss / 1024, process.returncode, tree, stderr)


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


def bench(scale: float, months: int, repeat: int, seed: int, interval: float = 0.5) -> dict:
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix=f"nqs-bench-{scale}-") as tmp:
        data_dir = Path(tmp)
        env = {**os.environ, "NQS_DATA_DIR": str(data_dir)}
        sources = data_dir / "sources"
        generated = _run(
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
        if generated.returncode:
            raise SystemExit(f"generate failed at scale {scale}")
        manifest = json.loads((sources / "_manifest.json").read_text())
        total_rows = sum(manifest["files"].values())
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
            # a full build each time: with nothing changed, `nqs build` would start no run
            build = _run([python, "-m", "nqs.cli", "build", "--full-refresh"], env, interval)
            if build.returncode:
                peaks = _step_peaks(data_dir, build.tree.samples)
                worst = sorted(peaks.items(), key=lambda item: -item[1]["peak_mib"])[:5]
                raise SystemExit(
                    f"build failed at scale {scale} after {build.wall_s:.0f} s; process tree peak "
                    f"{build.tree.peak_mib:,.0f} MiB; by step: "
                    + ", ".join(f"{step} {f['peak_mib']:,.0f} MiB" for step, f in worst)
                )
            builds.append(build)
            throughputs.append(_landing_throughput(data_dir))
            steps.append(_step_peaks(data_dir, build.tree.samples))
        tables = sorted(throughputs[0])
        walls = [b.wall_s for b in builds]
        median_build = statistics.median(walls)
        # the per-step figures of the run whose wall time is the median (the lower middle one)
        middle = sorted(range(len(builds)), key=lambda i: walls[i])[(len(builds) - 1) // 2]
        return {
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
    parser.add_argument("--json", action="store_true", help="print one JSON object per scale")
    args = parser.parse_args()
    for scale in args.scales:
        result = bench(scale, args.months, 1 if scale >= 1 else args.repeat, args.seed, args.sample_interval)
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
        if args.steps:
            print(
                f"    peak RSS of the process tree by Dagster step (top {args.steps}; of which the build's "
                "own process, the rest dbt; the step's seconds):"
            )
            ranked = sorted(result["step_peaks"].items(), key=lambda item: -item[1]["peak_mib"])
            for step, f in ranked[: args.steps]:
                print(
                    f"      {step:44} {f['peak_mib']:>8,.0f} MiB (own {f['build_process_mib']:>6,.0f}) "
                    f"{f['seconds']:>8.1f} s"
                )


if __name__ == "__main__":
    main()
