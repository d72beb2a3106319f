"""The packages import only downward, and no package escapes the layers.

import-linter (`[tool.importlinter]` in pyproject.toml) fails on a cycle or an upward import between
the layers it lists; these tests run it, prove it catches a planted upward import, and check that
every package of `nqs` is in some layer, so a new package cannot slip past the contract unlisted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contracts() -> list[dict]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["contracts"]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, env={"PATH": ""}
    )


def test_every_layer_contract_is_kept():
    done = _lint_imports(REPO_ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout
    assert done.stdout.count("KEPT") == len(_contracts())


def test_every_package_of_nqs_is_in_a_layer():
    top = next(c for c in _contracts() if not c.get("containers"))
    listed = {name.strip() for layer in top["layers"] for name in layer.split("|")}
    packages = {
        f"nqs.{path.stem if path.is_file() else path.name}"
        for path in (REPO_ROOT / "nqs").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert packages, "nqs has no packages"
    assert packages - listed == set(), "add these to a layer in pyproject.toml's [tool.importlinter]"
    assert {"contracts", "orchestration"} <= listed


def test_an_upward_import_breaks_the_contract(tmp_path: Path):
    """A copy of the code in which landing imports the CLI must fail the lint."""
    for name in ("contracts", "nqs", "orchestration"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    reading = tmp_path / "nqs" / "landing" / "reading.py"
    text = reading.read_text()
    text = re.sub(
        r"^import polars as pl$", "import polars as pl\n\nimport nqs.cli", text, count=1, flags=re.M
    )
    reading.write_text(text)
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "", "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode != 0
    assert "nqs.landing.reading -> nqs.cli" in done.stdout
