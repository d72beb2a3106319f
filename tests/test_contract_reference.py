"""The contract reference is generated from the models and cannot drift from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from contracts.sources import SOURCE_TABLES
from contracts.versions import contract_checks
from nqs.codegen.contract_reference import REFERENCE_PATH, render

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_committed_reference_is_a_fresh_rendering():
    assert REFERENCE_PATH.read_text(encoding="utf-8") == render(), "run `nqs contracts doc`"


def test_reference_names_every_table_version_column_and_check():
    text = render()
    for table in SOURCE_TABLES:
        assert f"### `{table.source}/{table.table}`" in text
        for entry in table.versions:
            section = text.split(f"#### {table.source}/{table.table} {entry.version} ")[1].split("\n#### ")[0]
            for column, spec in entry.model.to_schema().columns.items():
                assert f"| `{column}`" in section, (table.name, entry.version, column)
                assert " ".join(spec.description.split()) in section
            for check in contract_checks(entry.model):
                column = f"`{check.column}`" if check.column else "(file)"
                row = f"| {column} | `{check.name}` |"
                line = next((line for line in section.splitlines() if line.startswith(row)), None)
                assert line is not None, (table.name, entry.version, check.key)
                assert f"| {check.severity} |" in line
    assert "| minor |" in text and "Changes from v1 (breaking" in text


def test_generate_check_passes_on_the_committed_files():
    done = subprocess.run(
        [sys.executable, "-m", "nqs.cli", "contracts", "generate", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "current" in done.stdout
