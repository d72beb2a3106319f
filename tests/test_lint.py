"""Python is ruff clean and every dbt model is sqlfluff clean (dbt templater, DuckDB dialect)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)


def test_python_is_ruff_clean():
    done = _run(str(BIN / "ruff"), "check", ".")
    assert done.returncode == 0, done.stdout


@pytest.mark.slow
def test_dbt_models_are_sqlfluff_clean():
    done = _run(str(BIN / "sqlfluff"), "lint", "dbt_project/models", "--disable-progress-bar", "--nocolor")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
