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
import shutil
import sys
from pathlib import Path
from typing import Any

from nqs.settings import DBT_PROJECT_DIR, get_settings
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


def start_session(target: str = SPARK_TARGET) -> Any:
    """The Spark session dbt-spark will find, with the profile's settings and the functions.

    dbt-spark asks for Hive support; the profile's `spark.sql.catalogImplementation` decides, since
    the session exists before dbt-spark asks.
    """
    from pyspark.sql import SparkSession

    # Spark's Python workers run this interpreter, which has scipy and this package.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    parameters = spark_parameters(target)
    if parameters.get("spark.sql.catalogImplementation") == "in-memory":
        # A catalogue in memory forgets the tables of an earlier run, whose files would stop Spark
        # creating them again: every run builds every table afresh.
        shutil.rmtree(parameters["spark.sql.warehouse.dir"], ignore_errors=True)
    builder = SparkSession.builder
    for name, value in parameters.items():
        builder = builder.config(name, value)
    session = builder.getOrCreate()
    register_spark_functions(session)
    return session


def run_dbt(args: list[str]) -> bool:
    """Runs one dbt command (its arguments, `--target spark` included) on the session; True on success."""
    from dbt.cli.main import dbtRunner

    target = args[args.index("--target") + 1] if "--target" in args else SPARK_TARGET
    start_session(target)
    return dbtRunner().invoke(args).success


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    cwd = Path.cwd()
    if "--project-dir" not in args:
        args += ["--project-dir", str(DBT_PROJECT_DIR)]
    if "--profiles-dir" not in args:
        args += ["--profiles-dir", str(DBT_PROJECT_DIR)]
    if "--target" not in args:
        args += ["--target", SPARK_TARGET]
    # The build's paths, absolute (Spark resolves a table's path from its own folders), unless set.
    settings = get_settings()
    for name, value in settings.dbt_env().items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("NQS_SPARK_DIR", str(settings.data_dir / "spark"))
    # dbt's files of the Spark build apart from the DuckDB build's (target/manifest.json is theirs).
    spark_dir = Path(os.environ["NQS_SPARK_DIR"])
    if "--target-path" not in args:
        args += ["--target-path", str(spark_dir / "dbt_target")]
    if "--log-path" not in args:
        args += ["--log-path", str(spark_dir / "dbt_logs")]
    os.chdir(DBT_PROJECT_DIR)
    try:
        return 0 if run_dbt(args) else 1
    finally:
        os.chdir(cwd)


if __name__ == "__main__":
    sys.exit(main())
