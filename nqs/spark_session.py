"""dbt's `spark` target, run on a local Spark session that has the project's quantile functions.

dbt-spark's `session` method runs Spark SQL on the Spark session of dbt's own process
(`SparkSession.builder.getOrCreate()`). The confidence intervals call the chi-square, Student t,
binomial and normal quantiles (nqs/sql_functions.py), which Spark SQL lacks; a Spark function
written in Python lives in one session only, so this module starts that session first, with the
profile's `server_side_parameters`, registers the functions on it, then runs dbt in the same
process, where dbt-spark finds the session and the functions:

    python -m nqs.spark_session build --target spark

takes every argument of the `dbt` command. Run plain `dbt --target spark`, the models computing
intervals fail for want of the functions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nqs.settings import DBT_PROJECT_DIR, Settings, get_settings
from nqs.sql_functions import register_spark_functions

#: The dbt target of the Spark build (dbt_project/profiles.yml).
SPARK_TARGET = "spark"


def spark_parameters(target: str = SPARK_TARGET) -> dict[str, str]:
    """The Spark settings (`server_side_parameters`) of a target of the dbt profile, rendered."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    set_from_args(_Args(), {})
    set_invocation_context(dict(os.environ))
    raw = read_profile(str(DBT_PROJECT_DIR))
    profile = Profile.from_raw_profiles(raw, "nqs", ProfileRenderer({}), target_override=target)
    return {str(k): str(v) for k, v in profile.credentials.server_side_parameters.items()}


class _Args:
    """The least dbt's global flags need to render a profile outside a dbt command."""

    def __getattr__(self, name: str) -> Any:
        return None


def start_session(settings: Settings | None = None, target: str = SPARK_TARGET) -> Any:
    """The Spark session dbt-spark will find, with the profile's settings and the functions.

    The profile reads the build's paths (the landed files, Spark's folder) from the environment, set
    here from `settings` as absolute paths: Spark resolves a table's path from its own folders.
    dbt-spark asks for Hive support; the profile's `spark.sql.catalogImplementation` decides, since
    the session exists before dbt-spark asks.
    """
    from pyspark.sql import SparkSession

    settings = settings or get_settings()
    os.environ.update(settings.dbt_env())
    settings.spark_dir.mkdir(parents=True, exist_ok=True)
    # Spark's Python workers run this interpreter, which has scipy and this package.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for name, value in spark_parameters(target).items():
        builder = builder.config(name, value)
    session = builder.getOrCreate()
    register_spark_functions(session)
    return session


def stop_session(session: Any) -> None:
    """Stops the session and waits for its Java process to exit.

    The local catalogue's Derby database admits one process at a time, and the next step of a build
    may open it as soon as this one returns: a Java process left to notice on its own that Python
    has gone (it does, a moment later) would still hold the database then.
    """
    from pyspark import SparkContext

    gateway = SparkContext._gateway  # noqa: SLF001 - pyspark keeps the Java process only here
    session.stop()
    if gateway is None:
        return
    gateway.shutdown()
    process = getattr(gateway, "proc", None)
    if process is not None:
        process.stdin.close()  # Spark's gateway exits when its standard input closes
        process.wait(timeout=120)
    SparkContext._gateway = None  # noqa: SLF001
    SparkContext._jvm = None  # noqa: SLF001


@contextmanager
def spark_session(settings: Settings | None = None, target: str = SPARK_TARGET) -> Iterator[Any]:
    """`start_session`, stopped (its Java process ended) on leaving."""
    session = start_session(settings, target)
    try:
        yield session
    finally:
        stop_session(session)


def run_dbt(args: list[str]) -> bool:
    """Runs one dbt command (its arguments, `--target spark` included) on the session; True on success."""
    from dbt.cli.main import dbtRunner

    target = args[args.index("--target") + 1] if "--target" in args else SPARK_TARGET
    with spark_session(target=target):
        return dbtRunner().invoke(args).success


def main(argv: list[str] | None = None) -> int:
    """`dbt` on the Spark target: the arguments are dbt's; the project, profile and Spark target are
    this project's unless given. dbt's own files go to the Spark folder (`dbt_target/`, `dbt_logs/`),
    apart from the DuckDB build's, unless given as arguments or as DBT_TARGET_PATH and DBT_LOG_PATH
    (which the Dagster build sets)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # dagster-dbt asks, once, before running dbt
        from dbt.version import __version__

        print(f"Core:\n  - installed: {__version__}")
        return 0
    cwd = Path.cwd()
    # dagster-dbt may run dbt on a copy of the project, named by DBT_PROJECT_DIR
    project_dir = Path(os.environ.get("DBT_PROJECT_DIR") or DBT_PROJECT_DIR)
    if "--project-dir" in args:
        project_dir = Path(args[args.index("--project-dir") + 1])
    else:
        args += ["--project-dir", str(project_dir)]
    if "--profiles-dir" not in args and "DBT_PROFILES_DIR" not in os.environ:
        args += ["--profiles-dir", str(project_dir)]
    if "--target" not in args:
        args += ["--target", SPARK_TARGET]
    spark_dir = get_settings().spark_dir
    if "--target-path" not in args and "DBT_TARGET_PATH" not in os.environ:
        args += ["--target-path", str(spark_dir / "dbt_target")]
    if "--log-path" not in args and "DBT_LOG_PATH" not in os.environ:
        args += ["--log-path", str(spark_dir / "dbt_logs")]
    os.chdir(project_dir)
    try:
        return 0 if run_dbt(args) else 1
    finally:
        os.chdir(cwd)


if __name__ == "__main__":
    sys.exit(main())
