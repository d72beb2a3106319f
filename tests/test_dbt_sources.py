"""dbt's source definitions are generated from the contract registry and describe what landing writes."""

from contracts.sources import SOURCE_TABLES, sources
from nqs.codegen.dbt_sources import PARTITION_COLUMNS, generated_sources, landed_column_docs, sources_path
from nqs.dbt_manifest import RECORD_SOURCES, load_manifest
from nqs.landing.outputs import META_SCHEMA
from nqs.landing.paths import is_monthly
from nqs.settings import DBT_PROJECT_DIR


def _manifest_sources() -> dict[tuple[str, str], dict]:
    manifest = load_manifest()
    return {
        (node["source_name"], node["name"]): node
        for node in manifest["sources"].values()
        if node["source_name"] not in RECORD_SOURCES
    }


def test_every_source_file_but_landing_records_is_generated_from_the_registry():
    """One generated file per source folder (that each is current is tests/test_regenerate.py's)."""
    generated = generated_sources(DBT_PROJECT_DIR)
    assert set(generated) == {sources_path(DBT_PROJECT_DIR, s) for s in sources()}
    on_disk = {p for p in (DBT_PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml")}
    hand_written = on_disk - set(generated)
    assert {p.parent.name for p in hand_written} == set(RECORD_SOURCES)  # landing records, not source tables


def test_every_landed_table_is_a_dbt_source_with_every_version_columns():
    found = _manifest_sources()
    assert set(found) == {(t.source, t.table) for t in SOURCE_TABLES}
    for table in SOURCE_TABLES:
        columns = list(found[(table.source, table.table)]["columns"])
        partitions = PARTITION_COLUMNS if is_monthly(table) else {}  # a monthly table's Hive partition
        expected = [*table.all_landed_columns, *META_SCHEMA, *partitions]
        assert columns == expected, f"{table.source}.{table.table}"


def test_column_types_and_descriptions_come_from_the_contracts():
    found = _manifest_sources()
    for table in SOURCE_TABLES:
        columns = found[(table.source, table.table)]["columns"]
        for column, dtype, description in landed_column_docs(table):
            assert columns[column]["data_type"] == dtype
            assert columns[column]["description"] == " ".join(description.split())


def test_files_of_different_versions_are_read_by_column_name():
    for table in SOURCE_TABLES:
        location = _manifest_sources()[(table.source, table.table)]["config"]["meta"]["external_location"]
        assert "union_by_name = true" in location
