"""The catalogue for people: `nqs metrics` through the real entry point (`nqs.cli.main`), and the files
generated from the catalogue and the code lists (dbt docs, exposures, the code-list seed) follow them
(that they are current is tests/test_regenerate.py's)."""

from __future__ import annotations

import csv
import json
import re
import subprocess

import duckdb
import numpy as np
import pytest
from conftest import REPO_ROOT, run_nqs_many
from scipy import stats

from nqs.codegen import catalogue_docs as generated
from nqs.sql_functions import register_functions

CATALOGUE = REPO_ROOT / "seeds" / "metric_catalogue.csv"


def _catalogue() -> list[dict[str, str]]:
    with CATALOGUE.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _gap_metric() -> dict[str, str]:
    return next(m for m in _catalogue() if m["unit"] == "gap")


@pytest.fixture(scope="module")
def metrics_cli(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    """`nqs metrics` listings, a metric in full and an unknown one: run together in one process."""
    gap = _gap_metric()["metric_id"]
    commands = [
        ("metrics",),
        ("metrics", "--json"),
        ("metrics", gap),
        ("metrics", gap, "--json"),
        ("metrics", "no_such_metric"),
    ]
    return run_nqs_many(commands, data_dir=tmp_path_factory.mktemp("metrics_cli"))


def test_nqs_metrics_lists_every_metric(metrics_cli):
    done = metrics_cli[("metrics",)]
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["id", "title", "unit", "direction", "domains", "sources"]
    catalogue = _catalogue()
    assert [line.split()[0] for line in lines[1:]] == [m["metric_id"] for m in catalogue]
    for line, metric in zip(lines[1:], catalogue, strict=True):
        assert metric["title"] in line and metric["unit"] in line and metric["sources"] in line


def test_nqs_metrics_json_lists_every_metric_with_lists(metrics_cli):
    done = metrics_cli[("metrics", "--json")]
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    catalogue = _catalogue()
    assert [m["metric_id"] for m in listed] == [m["metric_id"] for m in catalogue]
    for shown, metric in zip(listed, catalogue, strict=True):
        assert shown["title"] == metric["title"]
        assert shown["improvement_direction"] == metric["improvement_direction"]
        assert shown["sources"] == metric["sources"].split()
        assert shown["domains"] and all(isinstance(d, str) for d in shown["domains"])


def test_nqs_metrics_shows_one_metric_in_full(metrics_cli):
    metric = _gap_metric()
    done = metrics_cli[("metrics", metric["metric_id"])]
    assert done.returncode == 0, done.stderr
    for column in ("description", "numerator_definition", "denominator_definition", "base_metric_id"):
        assert re.search(rf"^{column}\s+{re.escape(metric[column])}$", done.stdout, re.MULTILINE), column
    shown = json.loads(metrics_cli[("metrics", metric["metric_id"], "--json")].stdout)
    assert shown["description"] == metric["description"]
    assert shown["min_denominator"] == metric["min_denominator"]
    assert shown["interval_method"].startswith("Newcombe")


def test_nqs_metrics_unknown_id_is_one_clear_error(metrics_cli):
    done = metrics_cli[("metrics", "no_such_metric")]
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "no_such_metric" in done.stderr


def test_docs_and_exposures_follow_the_catalogue():
    rows = generated.load_catalogue(CATALOGUE)
    changed = [{**rows[0], "title": "A retitled metric", "description": "New words."}, *rows[1:]]
    docs = generated.catalogue_docs(changed)
    assert "A retitled metric" in docs and "New words." in docs
    assert generated.catalogue_docs(rows) != docs
    exposures = generated.catalogue_exposures(rows)
    for row in rows:
        assert f"{{% docs metric__{row['metric_id']} %}}" in generated.catalogue_docs(rows)
        assert f"  - name: {row['metric_id']}\n" in exposures


def test_every_metric_model_is_rolled_up():
    """A new int_metrics__<source> model must be added to the roll-up, or its metrics are lost."""
    models = {p.stem for p in generated.METRIC_MODELS_DIR.glob("int_metrics__*.sql")}
    rollup = (REPO_ROOT / "dbt_project/models/intermediate/rollups/int_metric_rows_rolled_up.sql").read_text()
    assert models and models == set(re.findall(r"ref\('(int_metrics__\w+)'\)", rollup))


def test_code_lists_seed_follows_the_contracts():
    from contracts.domains import DOMAINS

    text = generated.code_lists_csv()
    rows = list(csv.DictReader(text.splitlines()))
    for domain in generated.DIMENSION_DOMAINS:
        assert [r["code"] for r in rows if r["code_list"] == domain] == list(DOMAINS[domain])
    assert [r["code"] for r in rows if r["code_list"] == "imd_quintile"] == ["1", "2", "3", "4", "5"]


def test_every_model_by_ethnic_group_is_rolled_up_and_its_groups_follow_the_contracts():
    """The ethnic_categories seed maps exactly the contracts' code list, each code to one group; a
    source's int_metric_rows_by_ethnic_group__<source> must be read by the ethnicity roll-up."""
    from contracts.domains import DOMAINS

    with (REPO_ROOT / "seeds" / "ethnic_categories.csv").open(newline="") as handle:
        seed = list(csv.DictReader(handle))
    assert [r["ethnic_category"] for r in seed] == list(DOMAINS["ethnic_category"])
    groups = {r["ethnic_group"]: r["ethnic_group_sort_order"] for r in seed}
    assert len(set(groups.values())) == len(groups) == 6  # one sort order per group
    models = {p.stem for p in generated.METRIC_MODELS_DIR.glob("int_metric_rows_by_ethnic_group__*.sql")}
    rollup = (
        REPO_ROOT / "dbt_project/models/intermediate/rollups/int_metric_rows_by_ethnic_group_rolled_up.sql"
    )
    assert models and models == set(
        re.findall(r"ref\('(int_metric_rows_by_ethnic_group__\w+)'\)", rollup.read_text())
    )


@pytest.fixture()
def db() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    register_functions(connection)
    yield connection
    connection.close()


def test_sql_quantile_functions_match_scipy(db):
    ps = np.array([0.025, 0.5, 0.975])
    dfs = np.array([1.0, 7.5, 40.0])
    rows = db.execute(
        """select chi_square_quantile(p, df), student_t_quantile(p, df), binomial_quantile(p, 9, 0.5),
                  normal_quantile(p)
           from (select unnest(?::double[]) as p, unnest(?::double[]) as df)""",
        [ps.tolist(), dfs.tolist()],
    ).fetchall()
    for (chi2, t, binom, norm), p, df in zip(rows, ps, dfs, strict=True):
        assert chi2 == pytest.approx(stats.chi2.ppf(p, df), rel=1e-12)
        assert t == pytest.approx(stats.t.ppf(p, df), rel=1e-12)
        assert binom == stats.binom.ppf(p, 9, 0.5)
        assert norm == pytest.approx(stats.norm.ppf(p), rel=1e-12)


def test_sql_quantile_functions_return_null_outside_their_domain(db):
    row = db.execute(
        "select chi_square_quantile(null, 2), chi_square_quantile(0.5, 0), student_t_quantile(1.5, 3), "
        "binomial_quantile(0.5, 2.5, 0.5)"
    ).fetchone()
    assert row == (None, None, None, None)
