"""Adding a source, as contracts/README.md describes it, needs no code outside the new contract.

Two returns of the two kinds the warehouse reads are added the way the guide says, each as a contract
module with its registry entry, both registered through NQS_CONTRACT_MODULES:

- an aggregate return, ambulance response times (`ambulance/response_times`, one row per trust per
  month: counts and mean times, no patient in it);
- a record-level audit, sepsis screening (`sepsis_audit/screenings`, one row per patient screened,
  with an NHS number hashed at landing, a date and a trust code).

Then, for each: a file with a bad row lands (the bad row quarantined with its reason, the NHS number
never landed in clear), its dbt source YAML and its contract reference are generated, and a fresh
Python process loading the Dagster definitions finds its landing asset, its quarantine asset and its
checks, and materialises it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from contracts.sources import CONTRACT_MODULES_VARIABLE, SOURCE_TABLES
from nqs.landing.land import land_source_table
from nqs.landing.paths import parquet_files
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "contracts"

#: Step 1 and 2 of the guide for an aggregate return: the contract model and its registry entry.
AMBULANCE_MODULE = '''
"""Ambulance response times: incidents and mean response times by trust and month (an aggregate return)."""

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check
from contracts.sources import SourceTable, first_version


class AmbulanceResponseTimesV1(ContractModel):
    """One row per ambulance trust per month."""

    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the ambulance trust.")
    reporting_month: date = pa.Field(
        first_of_month=(), not_in_future=(), description="The month reported, as its first day."
    )
    incidents: int = pa.Field(ge=0, description="Incidents with a face-to-face response in the month.")
    category_1_incidents: int = pa.Field(
        ge=0, description="Of them, category 1 (life-threatening) incidents."
    )
    category_1_mean_seconds: float = pa.Field(
        ge=0, nullable=True, description="Mean category 1 response time, seconds; empty with no incident."
    )

    class Config:
        name = "ambulance.response_times.v1"
        unique_key = {"columns": ["trust_code", "reporting_month"]}

    @row_check("category_1_incidents")
    def category_1_within_incidents(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Category 1 incidents are some of the incidents, never more."""
        return each_row(data, pl.col("category_1_incidents") <= pl.col("incidents"))


SOURCE_DESCRIPTIONS = {"ambulance": "Ambulance quality indicators: response times by trust."}
SOURCE_TABLES = [
    SourceTable(
        source="ambulance",
        table="response_times",
        family="capacity",
        file_glob="response_times_*.csv",
        key_columns=("trust_code", "reporting_month"),
        identifier_columns=(),
        description="Ambulance response times, one file per reporting month.",
        activity_date_column="reporting_month",
        delivery_lag_months=1,
        versions=(first_version(AmbulanceResponseTimesV1, "Incidents and category 1 mean response time."),),
    )
]
'''

#: The same steps for a record-level audit: one row per patient, the NHS number hashed at landing.
SEPSIS_MODULE = '''
"""Sepsis screening audit: one row per patient screened for sepsis (a record-level audit)."""

from datetime import date

import pandera.polars as pa

from contracts.base import ContractModel
from contracts.sources import SourceTable, first_version


class SepsisScreeningV1(ContractModel):
    """One row per patient screened; monthly files by screening month."""

    screening_id: str = pa.Field(
        str_matches=r"^SP[0-9]{8}$", description="Audit reference, `SP` and eight digits; the natural key."
    )
    nhs_number: str = pa.Field(
        nhs_number=(), description="Patient's NHS number; pseudonymised at landing (nhs_number_hash)."
    )
    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the screening trust.")
    screening_date: date = pa.Field(not_in_future=(), description="Day the patient was screened.")
    news2_score: int = pa.Field(
        in_range={"min_value": 0, "max_value": 20}, description="NEWS2 early warning score at screening."
    )
    antibiotics_within_hour: bool = pa.Field(
        description="Whether antibiotics were given within an hour of screening (source Y/N)."
    )

    class Config:
        name = "sepsis_audit.screenings.v1"
        unique_key = {"columns": ["screening_id"]}


SOURCE_DESCRIPTIONS = {"sepsis_audit": "A sepsis screening audit: one record per patient screened."}
SOURCE_TABLES = [
    SourceTable(
        source="sepsis_audit",
        table="screenings",
        family="audit",
        file_glob="screenings_*.csv",
        key_columns=("screening_id",),
        identifier_columns=("nhs_number",),
        description="Sepsis screenings, one file per screening month.",
        activity_date_column="screening_date",
        delivery_lag_months=2,
        versions=(first_version(SepsisScreeningV1, "Patient, trust, date, NEWS2 and antibiotics."),),
    )
]
'''


@dataclass(frozen=True)
class Example:
    """One return added through the guide: its module, a delivered file and what landing must make of it."""

    module: str
    text: str
    source: str
    table: str
    file: str
    content: str
    bad_row: tuple[int, str, str]  #: (row, column, check) of the one row quarantined
    kept: tuple[str, list[str]]  #: a column of the accepted rows and its values
    new_column: str  #: a column the generated dbt source must list, with its type
    data_type: str


EXAMPLES = [
    Example(
        module="ambulance_contract",
        text=AMBULANCE_MODULE,
        source="ambulance",
        table="response_times",
        file="response_times_2025-05.csv",
        content="trust_code,reporting_month,incidents,category_1_incidents,category_1_mean_seconds\n"
        "RX6,2025-05-01,5120,610,498.5\n"
        "RX7,2025-05-01,2210,2400,512.0\n"  # more category 1 incidents than incidents
        "RX8,2025-05-01,0,0,\n",
        bad_row=(2, "category_1_incidents", "category_1_within_incidents"),
        kept=("trust_code", ["RX6", "RX8"]),
        new_column="category_1_mean_seconds",
        data_type="double",
    ),
    Example(
        module="sepsis_audit_contract",
        text=SEPSIS_MODULE,
        source="sepsis_audit",
        table="screenings",
        file="screenings_2025-05.csv",
        content="screening_id,nhs_number,trust_code,screening_date,news2_score,antibiotics_within_hour\n"
        "SP00000001,9991234578,RAA,2025-05-03,7,Y\n"
        "SP00000002,9991234579,RAA,2025-05-09,5,N\n"  # check digit wrong (Modulus 11)
        "SP00000003,9991234586,RCC,2025-05-21,6,Y\n",
        bad_row=(2, "nhs_number", "nhs_number"),
        kept=("screening_id", ["SP00000001", "SP00000003"]),
        new_column="nhs_number_hash",
        data_type="string",
    ),
]
IDS = [e.source for e in EXAMPLES]
#: Ambulance trusts, added to the organisations reference of the fixtures (its trusts are hospitals).
AMBULANCE_TRUSTS = "".join(
    f"{code},{name} Ambulance Service NHS Trust,trust,ambulance,QE1,2000-04-01,,\n"
    for code, name in (("RX6", "North Oakford"), ("RX7", "Saltwick"), ("RX8", "Fenham"))
)

#: What a fresh process sees once the modules are registered: generated files, Dagster graph, a run.
PROBE = """
import json, sys
import dagster as dg
from nqs.codegen.dbt_sources import sources_yaml
from nqs.codegen.contract_reference import render
from orchestration.definitions import defs
from orchestration.defs.ingest.landing import reconcile_checks

graph = defs.resolve_asset_graph()
seen = {}
for name in sys.argv[1:]:
    source, table = name.split("/")
    landed = dg.AssetKey(["landed", source, table])
    quarantine = dg.AssetKey(["landed", "quarantine", source, table])
    reconcile = [c for c in reconcile_checks if any(k.asset_key == landed for k in c.check_keys)]
    result = dg.materialize(
        [defs.resolve_assets_def(landed), *reconcile], instance=dg.DagsterInstance.ephemeral()
    )
    seen[name] = {
        "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys() if source in k.path),
        "checks": sorted(k.name for k in graph.get_check_keys_for_assets({landed})),
        "quarantine_feeds": [
            k.to_user_string() for k in graph.get_all_asset_keys() if quarantine in graph.get(k).parent_keys
        ],
        "success": result.success,
        "check_results": {e.check_name: e.passed for e in result.get_asset_check_evaluations()},
        "materialized": sorted(
            e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
        ),
        "sources_yaml": sources_yaml(source),
        "in_reference": f"### `{name}`" in render(),
    }
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the new contract modules, and a sources folder with one month of each return."""
    root = tmp_path_factory.mktemp("extension")
    sources = root / "sources"
    shutil.copytree(FIXTURES / "organisations", sources / "organisations")
    with (sources / "organisations" / "organisations.csv").open("a", encoding="utf-8") as reference:
        reference.write(AMBULANCE_TRUSTS)
    for example in EXAMPLES:
        (root / f"{example.module}.py").write_text(textwrap.dedent(example.text), encoding="utf-8")
        (sources / example.source).mkdir()
        (sources / example.source / example.file).write_text(example.content)
    return root


def test_the_new_sources_are_registered_only_through_the_hook():
    registered = {(t.source, t.table) for t in SOURCE_TABLES}
    assert not registered & {(e.source, e.table) for e in EXAMPLES}


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_the_new_source_lands_and_its_bad_row_is_quarantined(example, extension, monkeypatch):
    monkeypatch.syspath_prepend(str(extension))
    table = __import__(example.module).SOURCE_TABLES[0]
    landed = extension / "checked" / example.source
    (result,) = land_source_table(
        table, extension / "sources", landed, pseudonym_key=SAMPLE_PSEUDONYM_KEY, today=date(2026, 4, 30)
    )
    assert result.critical_error is None
    assert result.rows_read == 3 and result.rows_accepted == 2 and result.rows_quarantined == 1
    row, column, check = example.bad_row
    assert result.quarantine.select("row_number", "column_name", "check_name", "severity").rows() == [
        (row, column, check, "major")
    ]
    accepted = pl.read_parquet(parquet_files(landed / example.source / example.table))
    column, values = example.kept
    assert sorted(accepted[column].to_list()) == values
    # direct identifiers never land in clear, accepted or quarantined
    delivered = pl.read_csv(extension / "sources" / example.source / example.file, infer_schema=False)
    for identifier in table.identifier_columns:
        clear = set(delivered[identifier])
        assert identifier not in accepted.columns and f"{identifier}_hash" in accepted.columns
        assert not clear & set(accepted[f"{identifier}_hash"])
        original = json.loads(result.quarantine["original_row"][0])
        assert original[identifier] not in clear and len(original[identifier]) == 64


@pytest.mark.slow  # a fresh process loading Dagster and dbt, then two runs: 10 to 30 s
def test_a_fresh_process_generates_their_files_and_finds_and_runs_them_in_dagster(extension):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(extension), str(REPO_ROOT)]),
        CONTRACT_MODULES_VARIABLE: ",".join(e.module for e in EXAMPLES),
        "NQS_DATA_DIR": str(extension / "data"),
        "NQS_SOURCES_DIR": str(extension / "sources"),
        "NQS_PSEUDONYM_KEY": "extension-test-key",  # its sources are not a generated sample
    }
    env.pop("DAGSTER_HOME", None)
    names = [f"{e.source}/{e.table}" for e in EXAMPLES]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *names],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    landed = extension / "data" / "landed"
    for example, name in zip(EXAMPLES, names, strict=True):
        found = seen[name]
        outputs = [f"landed/{name}", f"landed/check_results/{name}", f"landed/quarantine/{name}"]
        assert found["assets"] == sorted([*outputs, f"source_files/{name}"])
        assert {"contract", "rows_reconcile", "freshness"} <= set(found["checks"])
        assert found["quarantine_feeds"] == ["staging/stg_quarantine__failures"]  # rejects reach the mart
        assert found["success"] is True
        assert found["check_results"] == {"contract": False, "rows_reconcile": True}  # one row quarantined
        assert found["materialized"] == sorted(outputs)
        assert f"- name: {example.new_column}" in found["sources_yaml"]
        assert f"data_type: {example.data_type}" in found["sources_yaml"] and found["in_reference"]

        accepted = pl.read_parquet(parquet_files(landed / example.source / example.table))
        column, values = example.kept
        assert sorted(accepted[column].to_list()) == values
        quarantined = pl.read_parquet(parquet_files(landed / "_quarantine" / example.source / example.table))
        assert quarantined["check_name"].to_list() == [example.bad_row[2]]
