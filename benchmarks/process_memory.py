"""The resident memory of a process tree, sampled from /proc: what the benchmarks report as peak RSS.

`run_sampled` runs a command and samples the summed RSS of it and every process under it (dbt, a
landing worker) every `interval` seconds; `Run.max_process_mib` is the largest single process
(ru_maxrss, from wait4). Linux only. Shared by the benchmark scripts beside it, which import it as a
sibling script (`sys.path` holds this folder), not as a package.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


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


def run_sampled(command: list[str], env: dict[str, str], interval: float = 0.5) -> Run:
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
