"""dbt loads the seeds from a copy of the dbt project, as dagster-dbt runs a large step.

dagster-dbt runs a step whose selection names more than 200 nodes (the step of models reading no
landed data does) from a temporary copy of `dbt_project/`. The seeds live in `seeds/` beside it, and
`dbt_project/seeds` is a link to them, so the copy holds them too and dbt writes nothing outside its
target folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from nqs.settings import SEEDS_DIR, Settings

DBT = str(Path(sys.executable).with_name("dbt"))
DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


def _seed_hashes() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(SEEDS_DIR.iterdir())}


@pytest.mark.slow  # dbt parses the whole project: 15 to 50 s
def test_a_copy_of_the_dbt_project_loads_the_seeds(tmp_path: Path):
    copy = tmp_path / "copy"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))  # as dagster-dbt
    assert (copy / "seeds").is_dir() and not (copy / "seeds").is_symlink()
    settings = Settings(data_dir=tmp_path / "data", sources_dir=tmp_path / "sources", pseudonym_key=None)
    settings.build_db.parent.mkdir(parents=True)
    before = _seed_hashes()
    command = [DBT, "seed", "--select", "coverage_statuses", "--project-dir", str(copy)]
    command += ["--profiles-dir", str(copy), "--target-path", str(tmp_path / "target")]
    env = {**os.environ, **settings.dbt_env()}
    done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _seed_hashes() == before
    with duckdb.connect(str(settings.build_db), read_only=True) as db:
        loaded = db.execute("select count(*) from seeds.coverage_statuses").fetchone()[0]
    assert loaded == len((SEEDS_DIR / "coverage_statuses.csv").read_text().splitlines()) - 1
