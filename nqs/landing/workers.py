"""Running part of a landing in a fresh process, so the memory it took goes back to the system.

Landing a file leaves some native memory behind (polars' and Arrow's allocators keep what they
reached), about 27 MiB per national monthly file of `workforce/staff_months`, so a ten-year backfill
landed in one process grew past 4 GB. `run_in_worker` runs one call in a new process and returns its
result; the process exits after that one call, taking its memory with it.

The process is spawned, never forked: the caller may hold DuckDB's and polars' thread pools, which a
fork would copy half-made. A spawned process imports what it runs afresh (its arguments and result
are pickled), with the caller's `sys.path` and environment, so contract modules registered through
NQS_CONTRACT_MODULES are found there too. An exception raised in the worker is raised again in the
caller, the worker's traceback as its cause; a worker that dies without answering (killed by the
out-of-memory killer, or crashed) raises `WorkerDied`, naming what it was doing and its exit code.
"""

from __future__ import annotations

import multiprocessing
import pickle
import signal
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


class WorkerDied(RuntimeError):
    """A worker process ended without returning a result or an exception (the message is one line)."""


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker, attached as that exception's cause."""

    def __str__(self) -> str:
        return f"\n\n(in the worker process)\n{self.args[0]}"


class WorkerError(RuntimeError):
    """An exception from a worker that could not be passed back as itself; the message is its text."""


def run_in_worker(function: Callable[..., T], *args: Any, doing: str) -> T:
    """`function(*args)` in a new spawned process, which then exits; `doing` says what it does, for
    the error raised if the process dies (e.g. "landing workforce/staff_months files a.csv to b.csv").

    `function` must be importable by name (a module-level function) and its arguments and result must
    pickle.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_serve, args=(sender, function, args), daemon=True)
    process.start()
    sender.close()  # the worker holds the only sending end: its exit ends the wait below
    try:
        try:
            outcome = receiver.recv()
        except EOFError:
            outcome = None
        except Exception as exc:  # the answer came but does not unpickle here
            raise WorkerError(f"{doing}: the worker's answer could not be read: {exc}") from exc
        process.join()
    finally:
        receiver.close()
        if process.is_alive():  # the caller was interrupted: the worker goes too
            process.terminate()
            process.join()
    if outcome is None:
        raise WorkerDied(f"{doing}: the worker process ended without finishing ({_exit(process.exitcode)})")
    ok, value, remote = outcome
    if ok:
        return value
    raise value from WorkerTraceback(remote)


def _exit(code: int | None) -> str:
    """An exit code in words: a negative one is the signal that killed the process."""
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        why = "; the out-of-memory killer sends it" if -code == signal.SIGKILL else ""
        return f"killed by signal {-code}, {name}{why}"
    return f"exit code {code}"


def _serve(sender: Connection, function: Callable[..., Any], args: tuple) -> None:
    """In the worker: send back (True, result, None) or (False, exception, its traceback text)."""
    try:
        sender.send((True, function(*args), None))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
        remote = "".join(traceback.format_exception(exc))
        sender.send((False, exc if _round_trips(exc) else WorkerError(_text(exc)), remote))
    sender.close()


def _round_trips(exc: BaseException) -> bool:
    """Whether `exc` comes back from pickle as an exception of its own type and message."""
    try:
        again = pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any failure means it does not
        return False
    return type(again) is type(exc) and str(again) == str(exc)


def _text(exc: BaseException) -> str:
    """The exception's type, message and notes, as one message."""
    return "\n".join([f"{type(exc).__name__}: {exc}", *getattr(exc, "__notes__", [])])
