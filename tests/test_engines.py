"""The build's tables read and written through Arrow (nqs.engines), on a real DuckDB file.

The Spark side runs in the Spark build (tests/test_spark_build.py), whose statistics and release are
written and read through the same interface.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from nqs.engines import Comments, open_build, spark_literal
from nqs.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", sources_dir=tmp_path / "sources", pseudonym_key=None)
    settings.build_db.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.build_db)) as db:
        db.execute("create schema marts")
        db.execute(
            "create table marts.metric_values as "
            "select range as n, 'row ' || range as label from range(2500000)"
        )
        db.execute("comment on table marts.metric_values is 'Values.'")
        db.execute("comment on column marts.metric_values.n is 'A number.'")
        db.execute("create view marts.small as select * from marts.metric_values where n < 3")
    return settings


def test_reads_come_as_arrow_and_name_tables_views_and_comments(settings):
    with open_build(settings) as db:
        assert db.engine == "duckdb"
        assert db.arrow("select count(*) as n from marts.small").to_pylist() == [{"n": 3}]
        assert db.rows("select n, label from marts.small order by n") == [
            (0, "row 0"),
            (1, "row 1"),
            (2, "row 2"),
        ]
        assert db.tables("marts") == ["metric_values", "small"]
        assert sorted(db.comments("marts"), key=str) == [
            ("metric_values", "n", "A number."),
            ("metric_values", None, "Values."),
        ]


def test_a_stream_read_in_part_leaves_the_connection_free(settings):
    """The release copies tables as streams; one left unfinished must not block the next query."""
    with open_build(settings) as db:
        stream = db.batches("select * from marts.metric_values")
        first = stream.read_next_batch()
        assert 0 < first.num_rows < 2_500_000
        assert db.rows("select count(*) from marts.metric_values") == [(2_500_000,)]
        stream.close()


def test_replace_writes_every_table_with_its_comments_or_none(settings):
    tables = {"spc_points": pa.table({"metric_id": ["a", "b"], "value": [1.0, None]})}
    comments = {"spc_points": Comments(table="It's SPC.", columns={"metric_id": "The metric's id."})}
    with open_build(settings, write=True) as db:
        db.replace("marts", tables, comments)
        assert db.rows("select * from marts.spc_points order by metric_id") == [("a", 1.0), ("b", None)]
        assert ("spc_points", "metric_id", "The metric's id.") in db.comments("marts")
        assert ("spc_points", None, "It's SPC.") in db.comments("marts")
        # a failure part way (a comment on a column the table lacks) replaces nothing
        broken = {"spc_points": pa.table({"metric_id": ["c"]}), "funnel_points": pa.table({"x": [1]})}
        with pytest.raises(duckdb.Error):
            db.replace("marts", broken, {"funnel_points": Comments(columns={"missing": "No such column."})})
        assert db.rows("select count(*) from marts.spc_points") == [(2,)]
        assert "funnel_points" not in db.tables("marts")


def test_the_build_opens_read_only_unless_written(settings):
    with open_build(settings) as db, pytest.raises(duckdb.Error, match="read-only"):
        db.replace("marts", {"t": pa.table({"x": [1]})}, {})


def test_spark_literals_escape_quotes_and_backslashes():
    assert spark_literal("it's a \\ path") == "'it\\'s a \\\\ path'"
