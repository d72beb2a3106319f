"""dbt's source definitions describe exactly what landing writes, so the two cannot drift apart."""

import json

from contracts.landing import META_SCHEMA
from contracts.sources import SOURCE_TABLES
from orchestration.lib.dbt import RECORD_SOURCES, dbt_project


def _manifest_sources() -> dict[tuple[str, str], list[str]]:
    manifest = json.loads(dbt_project.manifest_path.read_text())
    return {
        (node["source_name"], node["name"]): list(node["columns"])
        for node in manifest["sources"].values()
        if node["source_name"] not in RECORD_SOURCES
    }


def test_every_landed_table_is_a_dbt_source_with_the_contract_columns():
    sources = _manifest_sources()
    assert set(sources) == {(t.source, t.table) for t in SOURCE_TABLES}
    for table in SOURCE_TABLES:
        expected = [*table.landed_columns, *META_SCHEMA]
        assert sources[(table.source, table.table)] == expected, f"{table.source}.{table.table}"
