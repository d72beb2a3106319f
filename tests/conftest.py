"""Shared fixtures: one real end-to-end build of a small generated sample per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
E2E_SCALE = "0.005"


@dataclass
class Build:
    data_dir: Path
    exit_code: int
    output: str

    @property
    def manifest(self) -> dict:
        return json.loads((self.data_dir / "sources" / "_manifest.json").read_text())

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as db:
            return db.execute(sql, params or []).fetchall()


def run_nqs(
    *args: str, data_dir: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "NQS_DATA_DIR": str(data_dir), **(extra_env or {})}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "nqs.cli", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """`nqs build` of a 0.5% sample through real Dagster, dbt and DuckDB into a temporary folder."""
    data_dir = tmp_path_factory.mktemp("warehouse")
    done = run_nqs("build", "--scale", E2E_SCALE, data_dir=data_dir)
    return Build(data_dir=data_dir, exit_code=done.returncode, output=done.stdout + done.stderr)
