"""Retries of the steps that land files and run dbt, for transient failures only.

A step fails transiently when what it needs is briefly unavailable: the DuckDB build file locked by
another process (DuckDB lets one process at a time open a file for writing), a disk or network
filesystem that answered with an I/O error, a busy device. Run again a little later, the same step
succeeds. Everything else is permanent and must fail at once, however often it is run: a file
refused by its contract, a dbt test that failed, a missing pseudonymisation key, an error in the SQL.

Dagster retries every exception of a step that has a `RetryPolicy`, except a `Failure` raised with
`allow_retries=False`; `transient_only` turns each permanent error into such a failure, so the
policy (`TRANSIENT_RETRY_POLICY`, with exponential backoff) applies to transient errors alone.
Run-level retries (a run whose process died) are the instance's `run_retries`
(orchestration/deploy/dagster.yaml).
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable, Iterator

import dagster as dg
import duckdb

#: Up to three more attempts, after 5, 15 and 35 seconds (Dagster's exponential backoff, each give or
#: take 5 s so two steps waiting on the same lock do not retry in step): about a minute in all, for
#: another process's write to the build file to end.
TRANSIENT_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

#: Words of an error (DuckDB's own, or dbt's report of it) that name a transient condition.
TRANSIENT_MESSAGES = (
    "could not set lock on file",  # DuckDB: another process holds the database open for writing
    "conflicting lock is held",
    "resource temporarily unavailable",
    "input/output error",
    "device or resource busy",
    "stale file handle",
    "connection timed out",
)
#: Words that make an error permanent even when a transient one is also reported (dbt runs many
#: nodes; one failed test is reason enough to stop).
PERMANENT_MESSAGES = (
    "failure in test",
    "compilation error",
    "parsing error",
    "not a valid duckdb database",
)
#: OSError numbers of conditions that pass by themselves.
TRANSIENT_ERRNOS = frozenset(
    {errno.EAGAIN, errno.EBUSY, errno.EIO, errno.ETIMEDOUT, errno.ESTALE, errno.EINTR, errno.ECONNRESET}
)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and the errors it was raised from or during, each once."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _text(error: BaseException) -> str:
    description = error.description if isinstance(error, dg.Failure) else None
    return f"{error} {description or ''}".lower()


def is_transient(error: BaseException) -> bool:
    """Whether the step that raised `error` may succeed if simply run again."""
    errors = list(_chain(error))
    texts = [_text(e) for e in errors]
    if any(marker in text for text in texts for marker in PERMANENT_MESSAGES):
        return False
    for current, text in zip(errors, texts, strict=True):
        if isinstance(current, OSError) and current.errno in TRANSIENT_ERRNOS:
            return True
        if isinstance(current, duckdb.IOException | dg.Failure | OSError) and any(
            marker in text for marker in TRANSIENT_MESSAGES
        ):
            return True
    return False


def transient_only(compute: Callable[..., Iterator]) -> Callable[..., Iterator]:
    """A step's compute function (a generator) whose permanent errors bypass its retry policy.

    A permanent `Failure` (dagster-dbt's failed dbt command) is raised as it is, marked not to be
    retried; any other permanent error is raised as a `Failure` with the same message, from it.
    """

    @functools.wraps(compute)
    def _compute(*args, **kwargs):
        try:
            yield from compute(*args, **kwargs)
        except (dg.RetryRequested, dg.DagsterError):
            raise
        except dg.Failure as failure:
            if not is_transient(failure):
                failure.allow_retries = False
            raise
        except Exception as error:
            if is_transient(error):
                raise
            raise dg.Failure(
                description=f"{type(error).__name__}: {error} (permanent: not retried)",
                allow_retries=False,
            ) from error

    return _compute
