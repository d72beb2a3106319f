"""The contract reference is generated from the models: every table, version, column and check is in it.

That the committed file is current is tests/test_regenerate.py's.
"""

from __future__ import annotations

from contracts.sources import SOURCE_TABLES
from contracts.versions import contract_checks
from nqs.codegen.contract_reference import render


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
