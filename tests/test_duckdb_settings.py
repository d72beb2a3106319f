"""DuckDB's memory limit, threads and spill folder come from the settings, and every connection of a
build opens with them: dbt's (the profile, fed by `Settings.dbt_env`) and the Python steps'
(`Settings.connect`). An unusable value stops the command with one line naming the variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from nqs.settings import (
    DBT_PROJECT_DIR,
    DEFAULT_MEMORY_LIMIT,
    REPO_ROOT,
    SettingsError,
    available_cores,
    get_settings,
)

DBT = str(Path(sys.executable).with_name("dbt"))
VARIABLES = (
    "NQS_DUCKDB_MEMORY_LIMIT",
    "NQS_DUCKDB_THREADS",
    "NQS_DUCKDB_TEMP_DIRECTORY",
    "NQS_RELEASES_KEPT",
    "NQS_ENGINE",
    "NQS_SPARK_DIR",
)
SETTINGS_QUERY = (
    "select current_setting('memory_limit'), current_setting('threads')::int, "
    "current_setting('temp_directory'), current_setting('preserve_insertion_order')"
)


@pytest.fixture
def settings_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The settings `get_settings` reads from a data folder in tmp_path and these variables."""

    def configure(**variables: str):
        monkeypatch.setenv("NQS_DATA_DIR", str(tmp_path / "data"))
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return get_settings()

    yield configure
    get_settings.cache_clear()


def _formatted(memory_limit: str) -> str:
    """The memory limit as DuckDB reports it (`current_setting`), e.g. 2GiB -> '2.0 GiB'."""
    with duckdb.connect(config={"memory_limit": memory_limit}) as db:
        return db.execute("select current_setting('memory_limit')").fetchall()[0][0]


def test_defaults_are_a_bounded_limit_every_core_and_a_folder_in_the_data_dir(settings_from, tmp_path):
    settings = settings_from()
    assert settings.duckdb_config() == {
        "memory_limit": DEFAULT_MEMORY_LIMIT,
        "threads": str(available_cores()),
        "temp_directory": str(tmp_path / "data" / "build" / "duckdb_tmp"),
        "preserve_insertion_order": "false",
    }


def test_python_connections_run_with_the_configured_settings_and_spill_where_told(settings_from, tmp_path):
    spill = tmp_path / "spill"
    settings = settings_from(
        NQS_DUCKDB_MEMORY_LIMIT="64MiB", NQS_DUCKDB_THREADS="1", NQS_DUCKDB_TEMP_DIRECTORY=str(spill)
    )
    with settings.connect(tmp_path / "w.duckdb") as db:
        assert db.execute(SETTINGS_QUERY).fetchall() == [(_formatted("64MiB"), 1, str(spill), False)]
        # a sort far larger than the limit finishes by spilling into the configured folder
        sorted_rows = db.execute(
            "select count(*) from (select i, md5(i::varchar) as h from range(3000000) t(i) order by h)"
        ).fetchall()
        assert sorted_rows == [(3_000_000,)]
        assert spill.is_dir()
    with settings.connect(tmp_path / "w.duckdb", read_only=True) as db:
        assert db.execute(SETTINGS_QUERY).fetchall()[0][:2] == (_formatted("64MiB"), 1)


def test_the_python_steps_read_the_build_database_with_the_settings(settings_from, tmp_path):
    from nqs.engines import open_build

    settings = settings_from(NQS_DUCKDB_MEMORY_LIMIT="2GiB", NQS_DUCKDB_THREADS="1")
    settings.build_db.parent.mkdir(parents=True)
    duckdb.connect(str(settings.build_db)).close()
    with open_build(settings) as db:
        assert db.rows(SETTINGS_QUERY) == [("2.0 GiB", 1, str(settings.duckdb_temp_dir), False)]


def test_dbt_runs_with_the_configured_settings(settings_from, tmp_path):
    """dbt's own connection, through the profile and `Settings.dbt_env` as the dbt steps pass it."""
    settings = settings_from(NQS_DUCKDB_MEMORY_LIMIT="1500MB", NQS_DUCKDB_THREADS="1")
    settings.build_db.parent.mkdir(parents=True)
    env = {**os.environ, **settings.dbt_env()}
    command = [DBT, "run-operation", "duckdb_settings", "--project-dir", str(DBT_PROJECT_DIR)]
    command += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")]
    done = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("duckdb_settings "))
    assert json.loads(line.removeprefix("duckdb_settings ")) == {
        "memory_limit": _formatted("1500MB"),
        "threads": "1",
        "temp_directory": str(settings.duckdb_temp_dir),
        "preserve_insertion_order": "false",
    }


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NQS_DUCKDB_MEMORY_LIMIT", "lots"),
        ("NQS_DUCKDB_MEMORY_LIMIT", "3"),
        ("NQS_DUCKDB_MEMORY_LIMIT", "0GB"),
        ("NQS_DUCKDB_MEMORY_LIMIT", "150%"),
        ("NQS_DUCKDB_THREADS", "0"),
        ("NQS_DUCKDB_THREADS", "two"),
        ("NQS_RELEASES_KEPT", "0"),
        ("NQS_RELEASES_KEPT", "all"),
        ("NQS_RELEASES_KEPT", "-1"),
        ("NQS_ENGINE", "postgres"),
        ("NQS_ENGINE", "databricks"),
    ],
)
def test_an_unusable_value_is_refused_naming_the_variable(settings_from, variable, value):
    with pytest.raises(SettingsError) as refused:
        settings_from(**{variable: value})
    message = str(refused.value)
    assert message.startswith(f"{variable}={value!r} is not a") and "\n" not in message


def test_the_engine_is_duckdb_unless_spark_is_asked_for(settings_from, tmp_path):
    """DuckDB by default, its folder for Spark's files in the data folder unless NQS_SPARK_DIR moves it;
    dbt's profile is given that folder."""
    default = settings_from()
    assert (default.engine, default.spark_dir) == ("duckdb", tmp_path / "data" / "spark")
    spark = settings_from(NQS_ENGINE=" Spark ", NQS_SPARK_DIR=str(tmp_path / "elsewhere"))
    assert (spark.engine, spark.spark_dir) == ("spark", tmp_path / "elsewhere")
    assert spark.dbt_env()["NQS_SPARK_DIR"] == str(tmp_path / "elsewhere")


def test_releases_kept_defaults_to_three_and_reads_the_variable(settings_from):
    assert settings_from().releases_kept == 3
    assert settings_from(NQS_RELEASES_KEPT=" 5 ").releases_kept == 5


@pytest.mark.parametrize("value", ["3GB", "2500MB", "4GiB", "25%", "1.5 GB", "512mib"])
def test_memory_limits_duckdb_reads_are_accepted(settings_from, value):
    settings = settings_from(NQS_DUCKDB_MEMORY_LIMIT=value)
    with duckdb.connect(config=settings.duckdb_config()) as db:
        assert db.execute("select current_setting('memory_limit')").fetchall() == [(_formatted(value),)]


def test_nqs_build_with_an_unusable_limit_exits_1_with_one_line_before_doing_anything(tmp_path):
    env = {**os.environ, "NQS_DATA_DIR": str(tmp_path / "data"), "NQS_DUCKDB_MEMORY_LIMIT": "lots"}
    env.pop("DAGSTER_HOME", None)
    done = subprocess.run(
        [sys.executable, "-m", "nqs.cli", "build", "--scale", "0.005"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "nqs build: error: NQS_DUCKDB_MEMORY_LIMIT='lots' is not a memory limit: give a number above 0 "
        "and a unit, e.g. 3GB, 2500MB or 4GiB, or a share of the machine's memory, e.g. 25% (default 2.5GB)"
    ]
    assert not (tmp_path / "data").exists()  # nothing generated, landed or built
