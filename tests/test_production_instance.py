"""The shipped production instance (orchestration/deploy/dagster.yaml) against a real PostgreSQL server.

The test starts Debian's PostgreSQL server (package `postgresql`, which `make test` installs where it
is missing) on a free loopback port, in a temporary cluster owned by an unprivileged user, points
DAGSTER_HOME at the shipped configuration, materialises one landing partition and reads the run and
its materialisation back from Postgres with SQL.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from conftest import REPO_ROOT, run_nqs

SHIPPED_CONFIG = REPO_ROOT / "orchestration" / "deploy" / "dagster.yaml"
SERVER_GLOB = "/usr/lib/postgresql/*/bin/postgres"
TABLE = "landed/incidents/events"
MONTH = "2025-05"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def env(self) -> dict[str, str]:
        """The variables the shipped dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": self.database,
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
        }

    def engine(self) -> sa.Engine:
        url = sa.URL.create(
            "postgresql+psycopg2", self.user, self.password, self.host, self.port, self.database
        )
        return sa.create_engine(url)


def _server_bin() -> Path:
    """The newest installed server's bin folder; fails in CI or as root (where `make test` installs
    it), skips otherwise."""
    found = sorted(glob.glob(SERVER_GLOB), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    message = (
        f"PostgreSQL server not installed ({SERVER_GLOB} absent): `make test` installs Debian's "
        "`postgresql` when run as root"
    )
    if os.environ.get("CI") == "true" or os.geteuid() == 0:
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Server]:
    """A PostgreSQL server in a temporary cluster, run as an unprivileged user when the tests run as
    root (the server refuses to run as root)."""
    bin_dir = _server_bin()
    folder = Path(tempfile.mkdtemp(prefix="nqs-postgres-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        name = "postgres" if _user_exists("postgres") else "nobody"
        account = pwd.getpwnam(name)
        os.chown(folder, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", name, "--"]
    cluster, port = folder / "cluster", _free_port()
    server = Server("127.0.0.1", port, "nqs", "nqs", "dagster")

    def run(*command: str) -> None:
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, cwd=folder)
        assert done.returncode == 0, f"{command[0]} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}"

    run(str(bin_dir / "initdb"), "-D", str(cluster), "-U", server.user, "--auth=trust", "--no-sync",
        "-E", "UTF8", "--locale=C")  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(cluster), "-l", str(folder / "server.log"), "-o", options,
        "-w", "-t", "60", "start")  # fmt: skip
    try:
        admin = sa.create_engine(
            sa.URL.create("postgresql+psycopg2", server.user, server.password, server.host, port, "postgres"),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as connection:
            connection.execute(sa.text(f"create database {server.database}"))
        admin.dispose()
        yield server
    finally:
        with contextlib.suppress(AssertionError):
            run(str(bin_dir / "pg_ctl"), "-D", str(cluster), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


#: Materialises one asset (one partition when the asset is partitioned) on the instance DAGSTER_HOME
#: names, and prints what the test checks: the run, the partition, the instance's classes and settings.
_MATERIALISE = """
import json, sys
import dagster as dg
from orchestration.definitions import defs

key, month = dg.AssetKey(sys.argv[1].split("/")), sys.argv[2]
assets_def = defs.resolve_assets_def(key)
partitions = assets_def.partitions_def
partition_key = None
if partitions is not None:
    partition_key = next(k for k in partitions.get_partition_keys() if k.startswith(month))
with dg.DagsterInstance.get() as instance:
    result = dg.materialize([assets_def], instance=instance, partition_key=partition_key)
    queue = instance.run_coordinator.get_run_queue_config()
    print(json.dumps({
        "success": result.success,
        "run_id": result.run_id,
        "partition_key": partition_key,
        "storage": [type(s).__name__ for s in
                    (instance.run_storage, instance.event_log_storage, instance.schedule_storage)],
        "run_coordinator": type(instance.run_coordinator).__name__,
        "tag_limits": [dict(limit) for limit in queue.tag_concurrency_limits],
        "run_retries": [instance.run_retries_enabled, instance.run_retries_max_retries,
                        instance.run_retries_retry_on_asset_or_op_failure],
        "telemetry": instance.telemetry_enabled,
        "refresh_tags": dict(defs.resolve_job_def("refresh_warehouse").tags),
    }))
"""


@pytest.mark.slow
def test_a_landing_partition_materialised_on_the_shipped_instance_is_stored_in_postgres(
    postgres: Server, tmp_path: Path
):
    data_dir = tmp_path / "data"
    generated = run_nqs(
        "generate", "--scale", "0.001", "--seed", "1", "--months", "2", "--end", MONTH,
        "--out", str(data_dir / "sources"), data_dir=data_dir,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr[-3000:]
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").symlink_to(SHIPPED_CONFIG)
    env = {**os.environ, **postgres.env, "DAGSTER_HOME": str(home), "NQS_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-c", _MATERIALISE, TABLE, MONTH],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-5000:]
    run = json.loads(done.stdout.strip().splitlines()[-1])
    assert run["success"]
    assert run["storage"] == ["PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage"]
    assert run["run_coordinator"] == "QueuedRunCoordinator"
    # one run at a time among those writing the warehouse, which is what the refresh job is tagged as
    [limit] = run["tag_limits"]
    assert run["refresh_tags"][limit["key"]] == limit["value"] and limit["limit"] == 1
    assert run["run_retries"] == [True, 1, False]
    assert run["telemetry"] is False

    key = json.dumps(TABLE.split("/"))  # how Dagster stores an asset key
    with postgres.engine().connect() as db:
        status = db.execute(sa.text("select status from runs where run_id = :r"), {"r": run["run_id"]})
        assert status.scalar_one() == "SUCCESS"
        materialisations = (
            db.execute(
                sa.text(
                    "select partition from event_logs where run_id = :r "
                    "and dagster_event_type = 'ASSET_MATERIALIZATION' and asset_key = :k"
                ),
                {"r": run["run_id"], "k": key},
            )
            .scalars()
            .all()
        )
    assert materialisations == [run["partition_key"]]
    if run["partition_key"] is not None:
        assert run["partition_key"].startswith(MONTH)


def test_the_shipped_configuration_is_a_valid_instance_read_from_variables(tmp_path, monkeypatch):
    """Dagster's own schema accepts the file, and every connection setting comes from a variable."""
    from dagster._core.instance.config import dagster_instance_config

    config = yaml.safe_load(SHIPPED_CONFIG.read_text())
    database = {k: v for k, v in config["storage"]["postgres"]["postgres_db"].items() if k != "scheme"}
    assert all(set(value) == {"env"} for value in database.values()), "no connection setting in the file"
    for variable in {value["env"] for value in database.values()}:
        monkeypatch.setenv(variable, "5432" if variable.endswith("PORT") else "x")
    shutil.copy(SHIPPED_CONFIG, tmp_path / "dagster.yaml")
    validated, _ = dagster_instance_config(str(tmp_path))
    assert validated["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert validated["run_retries"] == {
        "enabled": True,
        "max_retries": 1,
        "retry_on_asset_or_op_failure": False,
    }
