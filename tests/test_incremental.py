"""An incremental dbt build gives the same warehouse as a full one, cell by cell.

From the sample build's data folder: the latest month of incidents and an old month of stroke
admissions are first held back and everything is built in full (the warehouse as it stood). Then the
incidents month arrives, old months are resubmitted corrected (staff records, hip fracture episodes,
which move the national rates of the standardised ratio, joint revisions, whose follow-up reaches back
a year, and a waiting times return, whose medians are interpolated from bands), a vacancy return and
a stroke month are withdrawn, and the changed tables are landed again.
That state is built incrementally (`changed_months`) into the old warehouse and in full
(`--full-refresh`) into a copy of it, side by side; every mart and every aggregated intermediate table
must hold the same cells, and a metric value of a period nothing changed must be left as it stood (the
marts are recomputed only in the periods the roll-ups recomputed).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from conftest import REPO_ROOT, Build, copy_data

from contracts.sources import get_table
from nqs.landing.land import land_source_table
from nqs.landing.pseudonymise import landing_key

DBT = Path(sys.executable).with_name("dbt")
DBT_PROJECT = REPO_ROOT / "dbt_project"

#: the aggregated intermediate tables compared as well as the marts (the observation table holds one
#: row per observation, equal keys in any order, so it is compared through its roll-up)
INTERMEDIATE_TABLES = (
    "int_staff_cohorts_followed_up",
    "int_metrics__workforce",
    "int_metrics__incidents",
    "int_metrics__stroke_audit",
    "int_metrics__hip_fracture_audit",
    "int_metrics__joint_registry",
    "int_metrics__referral_to_treatment",
    "int_metrics__adult_social_care",
    "int_metrics__personalised_care",
    "int_metric_rows_rolled_up",
    "int_metric_observations_rolled_up",
    "int_metric_bands_rolled_up",
    "int_metric_values_computed",
)
#: the models recording the periods they recomputed for their readers: every roll-up of rows,
#: observations or bands (their post-hook `delete_emptied_periods`), and the metric values they feed
PERIOD_RECORDERS = {
    path.stem
    for path in (REPO_ROOT / "dbt_project/models/intermediate/rollups").glob("*.sql")
    if "delete_emptied_periods()" in path.read_text()
} | {"int_metric_values_computed"}


UNTOUCHED_CELL = (
    "where metric_id = ? and org_level = ? and org_view = 'as_recorded' and period_type = 'month'"
    " and period_start = ?"
)
UNTOUCHED_VALUE = f"select value from marts.metric_values {UNTOUCHED_CELL}"
PENDING_TABLES = (
    "select table_name from information_schema.tables where suffix(table_name, '__periods_pending')"
)


def _compiled(data_dir: Path, model: str) -> str:
    """The SQL the incremental run ran for a model."""
    compiled = data_dir / "build" / "target_incremental" / "compiled" / "nqs" / "models"
    (path,) = compiled.rglob(f"{model}.sql")
    return path.read_text()


def _compare():
    spec = importlib.util.spec_from_file_location(
        "compare_warehouses", REPO_ROOT / "benchmarks" / "compare_warehouses.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compare


def _file(sources: Path, source: str, table: str, month: str) -> Path:
    return sources / source / f"{table}_{month}.csv"


def _months(sources: Path, source: str, table: str) -> list[str]:
    return sorted(p.stem.rsplit("_", 1)[1] for p in (sources / source).glob(f"{table}_*.csv"))


def _land(data_dir: Path, *tables: tuple[str, str]) -> None:
    sources = data_dir / "sources"
    for source, table in tables:
        land_source_table(
            get_table(source, table),
            sources,
            data_dir / "landed",
            pseudonym_key=landing_key(sources, None),
            today=date.today(),
        )


def _drop_rows(path: Path, every: int) -> None:
    """A corrected resubmission: the same file with every `every`-th row gone."""
    frame = pl.read_csv(path, infer_schema=False)
    frame.filter(pl.int_range(pl.len()) % every != 0).write_csv(path)


def _dbt(data_dir: Path, db: Path, name: str, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "NQS_BUILD_DB": str(db),
        "NQS_LANDED_DIR": str(data_dir / "landed"),
        "NQS_DUCKDB_TEMP_DIRECTORY": str(data_dir / "build" / f"spill_{name}"),
    }
    target = data_dir / "build" / f"target_{name}"
    return subprocess.Popen(
        [str(DBT), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)]
        + ["--target-path", str(target), "--log-path", str(target)],
        cwd=DBT_PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen) -> None:
    output, _ = process.communicate()
    assert process.returncode == 0, output[-5000:]


def test_incremental_build_equals_full_build(sample_build: Build, tmp_path: Path):
    data = copy_data(sample_build, tmp_path / "data")
    sources, db = data / "sources", data / "build" / "warehouse.duckdb"
    incidents_months = _months(sources, "incidents", "events")
    new_month, late_month, withdrawn_month = incidents_months[-1], incidents_months[7], incidents_months[12]
    new_file = _file(sources, "incidents", "events", new_month)
    late_file = _file(sources, "stroke_audit", "admissions", late_month)
    new_file.rename(tmp_path / new_file.name)
    late_file.rename(tmp_path / late_file.name)
    _land(data, ("incidents", "events"), ("stroke_audit", "admissions"))
    _finish(_dbt(data, db, "before", "run", "--full-refresh"))

    # the next delivery: a new month, a late old month, corrected resubmissions, withdrawn files
    (tmp_path / new_file.name).rename(new_file)
    (tmp_path / late_file.name).rename(late_file)
    staff_month = _months(sources, "workforce", "staff_months")[5]
    hip_month = _months(sources, "hip_fracture_audit", "episodes")[9]
    revision_month = _months(sources, "joint_registry", "revisions")[-4]
    waits_month = _months(sources, "referral_to_treatment", "pathways")[15]
    vacancy_month = _months(sources, "workforce", "vacancies")[2]
    _drop_rows(_file(sources, "workforce", "staff_months", staff_month), 9)
    _drop_rows(_file(sources, "hip_fracture_audit", "episodes", hip_month), 4)
    _drop_rows(_file(sources, "joint_registry", "revisions", revision_month), 2)
    _drop_rows(_file(sources, "referral_to_treatment", "pathways", waits_month), 3)
    _file(sources, "workforce", "vacancies", vacancy_month).unlink()
    _file(sources, "stroke_audit", "admissions", withdrawn_month).unlink()
    _land(
        data,
        ("incidents", "events"),
        ("workforce", "staff_months"),
        ("workforce", "vacancies"),
        ("hip_fracture_audit", "episodes"),
        ("joint_registry", "revisions"),
        ("stroke_audit", "admissions"),
        ("referral_to_treatment", "pathways"),
    )
    delivered = (new_month, late_month, withdrawn_month, staff_month, hip_month, revision_month, waits_month)
    changed = sorted({f"{month}-01" for month in (*delivered, vacancy_month)})
    full_db = data / "build" / "full.duckdb"
    full_db.write_bytes(db.read_bytes())
    # a cell of a period nothing changed: the incremental run must leave it as it stands
    untouched = ("incident_reporting_rate", "england", f"{incidents_months[1]}-01")
    with duckdb.connect(str(db)) as con:
        (untouched_value,) = con.execute(UNTOUCHED_VALUE, untouched).fetchone()
        con.execute(f"update marts.metric_values set value = -1 {UNTOUCHED_CELL}", untouched)
    incremental = _dbt(data, db, "incremental", "run", "--vars", json.dumps({"changed_months": changed}))
    full = _dbt(data, full_db, "full", "run", "--full-refresh")
    _finish(incremental)
    _finish(full)

    # the incremental run did recompute only the changed months' windows
    compiled = (
        data / "build" / "target_incremental" / "compiled" / "nqs" / "models" / "intermediate" / "metrics"
    )
    incidents_sql = (compiled / "int_metrics__incidents.sql").read_text()
    assert f"reported_month_date >= date '{new_month}-01'" in incidents_sql
    assert f"reported_month_date >= date '{incidents_months[0]}-01'" not in incidents_sql
    with duckdb.connect(str(db), read_only=True) as con:
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = 'intermediate'"
            ).fetchall()
        )
    assert {kinds[table] for table in INTERMEDIATE_TABLES} == {"BASE TABLE"}, kinds

    # the marts were recomputed only in the periods whose roll-ups changed, every pending period taken
    for name in ("int_metric_values_computed", "metric_values", "metric_values_by_deprivation"):
        assert "periods_recomputed" in _compiled(data, name), name
    with duckdb.connect(str(db)) as con:
        assert con.execute(UNTOUCHED_VALUE, untouched).fetchone() == (-1,)
        restore = f"update marts.metric_values set value = ? {UNTOUCHED_CELL}"
        con.execute(restore, [untouched_value, *untouched])
        pending = con.execute(PENDING_TABLES).fetchall()
        assert {table for (table,) in pending} == {f"{m}__periods_pending" for m in PERIOD_RECORDERS}
        for (table,) in pending:
            assert con.execute(f"select count(*) from intermediate.{table}").fetchone() == (0,), table

    compare = _compare()
    assert compare(full_db, db, "marts") == []
    differences = compare(full_db, db, "intermediate")
    tables = {line: line.split(":")[0].removeprefix("intermediate.") for line in differences}
    assert [line for line, table in tables.items() if table in INTERMEDIATE_TABLES] == []
    # and the changes reached the marts: the held-back month is there now, the withdrawn one is not
    with duckdb.connect(str(db), read_only=True) as con:
        months = {
            metric: {
                m.strftime("%Y-%m")
                for (m,) in con.execute(
                    "select distinct period_start from marts.metric_values "
                    "where metric_id = ? and period_type = 'month' and numerator is not null",
                    [metric],
                ).fetchall()
            }
            for metric in ("incident_reporting_rate", "stroke_thrombolysis_rate")
        }
    assert new_month in months["incident_reporting_rate"]
    assert late_month in months["stroke_thrombolysis_rate"]
    assert withdrawn_month not in months["stroke_thrombolysis_rate"]


def test_staging_tests_read_only_the_changed_months(sample_build: Build, tmp_path: Path):
    """An incremental build tests only the landed months that changed; a full one tests them all.

    A staff record is landed twice into one month's partition: the uniqueness test of the staging
    view fails when that month is among the changed months, and when every month is tested, but not
    when only another month changed (its rows were tested when they were landed).
    """
    data = copy_data(sample_build, tmp_path / "data")
    db = data / "build" / "warehouse.duckdb"
    partitions = sorted((data / "landed" / "workforce" / "staff_months").glob("month=*"))
    planted, other = partitions[3], partitions[4]
    (landed,) = planted.glob("*.parquet")
    with duckdb.connect() as con:
        con.execute(f"copy (from read_parquet('{landed}') limit 1) to '{planted / 'repeated.parquet'}'")
    _finish(_dbt(data, db, "views", "run", "--select", "stg_workforce__staff_months"))

    def month(partition: Path) -> str:
        return partition.name.removeprefix("month=")

    outcomes = {}
    for name, args in {  # one at a time: dbt test opens the build file for writing
        "planted_month": ["--vars", json.dumps({"changed_months": [f"{month(planted)}-01"]})],
        "other_month": ["--vars", json.dumps({"changed_months": [f"{month(other)}-01"]})],
        "every_month": [],
    }.items():
        run = _dbt(data, db, name, "test", "--select", "stg_workforce__staff_months", *args)
        outcomes[name] = (run.communicate()[0], run.returncode)
    for name in ("planted_month", "every_month"):
        output, code = outcomes[name]
        assert code == 1 and "FAIL 1 unique_combination_of_columns_stg_workforce" in output, output[-3000:]
    output, code = outcomes["other_month"]
    assert code == 0, output[-3000:]
    (compiled,) = (data / "build" / "target_other_month" / "compiled").rglob(
        "not_null_stg_workforce__staff_months_staff_id_hash.sql"
    )
    assert f"where landed_month in ('{month(other)}')" in compiled.read_text()


def test_full_refresh_in_windows_equals_one_full_refresh(sample_build: Build, tmp_path: Path):
    """A long history's full refresh is built a window of financial years at a time (the first
    window `--full-refresh` to its last month, each later one incrementally): the warehouse is the
    one a single full refresh builds, cell by cell, and every dbt test passes in every window."""
    from nqs.settings import Settings
    from orchestration.defs.transform.dbt import DbtStepConfig, build_invocations

    data = copy_data(sample_build, tmp_path / "data")
    one_go = data / "build" / "warehouse.duckdb"
    windowed = data / "build" / "windowed.duckdb"
    settings = Settings(
        data_dir=data, sources_dir=data / "sources", pseudonym_key=None, rebuild_window_months=12
    )
    invocations = build_invocations(DbtStepConfig(full_refresh=True), settings)
    months = sorted(p.name.removeprefix("month=") for p in (data / "landed/workforce/staff_months").iterdir())
    years = len(months) // 12
    assert len(invocations) == years >= 2, invocations
    first, *later = invocations
    assert json.loads(first[first.index("--vars") + 1]) == {"rebuild_through": f"{months[11]}-01"}
    assert "--full-refresh" in first and not any("--full-refresh" in args for args in later)
    for number, args in enumerate(invocations):
        _finish(_dbt(data, windowed, f"window_{number}", *args))
        # every reader took the periods pending for it, those of the first window's full refresh too
        # (else the next incremental run would recompute every period of every metric)
        with duckdb.connect(str(windowed), read_only=True) as con:
            pending = con.execute(PENDING_TABLES).fetchall()
            assert {table for (table,) in pending} == {f"{m}__periods_pending" for m in PERIOD_RECORDERS}
            for (table,) in pending:
                assert con.execute(f"select count(*) from intermediate.{table}").fetchone() == (0,), table

    # the first window built only its own year: the later windows added theirs incrementally
    compiled = (data / "build" / "target_window_0").rglob("int_staff_cohorts_followed_up.sql")
    assert any(f"<= date '{months[11]}-01'" in path.read_text() for path in compiled)
    compare = _compare()
    # the sample build's file also holds the marts its Python steps wrote (SPC, funnels, alerts)
    models = {path.stem for path in (DBT_PROJECT / "models").rglob("*.sql")}
    differences = compare(one_go, windowed, "marts")
    python_marts = {line.split(":")[0] for line in differences if line.endswith(": only before")}
    assert python_marts and not {table.removeprefix("marts.") for table in python_marts} & models
    assert [line for line in differences if line.split(":")[0] not in python_marts] == []
    differences = compare(one_go, windowed, "intermediate")
    tables = {line: line.split(":")[0].removeprefix("intermediate.") for line in differences}
    assert [line for line, table in tables.items() if table in INTERMEDIATE_TABLES] == []
