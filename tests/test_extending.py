"""Adding a source, as contracts/README.md describes it, needs no code outside the new contract.

A small patient-experience return (the Friends and Family Test) is written as a contract module with
its registry entry, registered through NQS_CONTRACT_MODULES, and then: its dbt source YAML and its
contract reference are generated, a file with a bad row lands (the bad row quarantined with its
reason), and a fresh Python process loading the Dagster definitions finds its landing asset, its
quarantine asset and its checks, and materialises it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
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
MODULE = "friends_and_family_contract"

#: Step 1 and 2 of the guide: the contract model and its registry entry, in a module of its own.
CONTRACT_MODULE = '''
"""Friends and Family Test: monthly responses by trust and service (a patient-experience return)."""

from datetime import date

import pandera.polars as pa
import polars as pl

from contracts.base import ContractModel, each_row, row_check
from contracts.sources import SourceTable, first_version

SERVICES = ["inpatient", "emergency_department", "maternity", "community"]


class FriendsAndFamilyV1(ContractModel):
    """One row per trust per month per service."""

    trust_code: str = pa.Field(ods_trust_code=(), description="ODS code of the trust.")
    reporting_month: date = pa.Field(
        first_of_month=(), not_in_future=(), description="The month reported, as its first day."
    )
    service: str = pa.Field(isin=SERVICES, description="Service whose patients answered.")
    responses: int = pa.Field(ge=0, description="Responses received in the month.")
    positive_responses: int = pa.Field(ge=0, description="Responses rating the service good or very good.")

    class Config:
        name = "patient_experience.friends_and_family.v1"
        unique_key = {"columns": ["trust_code", "reporting_month", "service"]}

    @row_check("positive_responses")
    def positive_within_responses(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Positive responses are some of the responses, never more."""
        return each_row(data, pl.col("positive_responses") <= pl.col("responses"))


SOURCE_DESCRIPTIONS = {"patient_experience": "Patient-experience returns: the Friends and Family Test."}
SOURCE_TABLES = [
    SourceTable(
        source="patient_experience",
        table="friends_and_family",
        family="experience",
        file_glob="friends_and_family_*.csv",
        key_columns=("trust_code", "reporting_month", "service"),
        identifier_columns=(),
        description="Friends and Family Test responses, one file per reporting month.",
        activity_date_column="reporting_month",
        versions=(first_version(FriendsAndFamilyV1, "Responses and positive responses by service."),),
    )
]
'''

SOURCE_FILE = """trust_code,reporting_month,service,responses,positive_responses
RAA,2025-05-01,inpatient,420,391
RAA,2025-05-01,maternity,88,95
RCC,2025-05-01,community,57,52
"""

#: What a fresh process sees once the module is registered: generated files, Dagster graph, a run.
PROBE = """
import json
import dagster as dg
from nqs.codegen.dbt_sources import sources_yaml
from nqs.codegen.contract_reference import render
from contracts.sources import get_table
from orchestration.definitions import defs
from orchestration.defs.ingest.landing import reconcile_checks

table = get_table("patient_experience", "friends_and_family")
graph = defs.resolve_asset_graph()
landed = dg.AssetKey(["landed", "patient_experience", "friends_and_family"])
quarantine = dg.AssetKey(["landed", "quarantine", "patient_experience", "friends_and_family"])
reconcile = [c for c in reconcile_checks if any(k.asset_key == landed for k in c.check_keys)]
result = dg.materialize(
    [defs.resolve_assets_def(landed), *reconcile], instance=dg.DagsterInstance.ephemeral()
)
print(json.dumps({
    "assets": sorted(
        k.to_user_string() for k in graph.get_all_asset_keys() if "patient_experience" in k.path
    ),
    "checks": sorted(k.name for k in graph.get_check_keys_for_assets({landed})),
    "quarantine_feeds": [
        k.to_user_string() for k in graph.get_all_asset_keys()
        if quarantine in graph.get(k).parent_keys
    ],
    "success": result.success,
    "check_results": {e.check_name: e.passed for e in result.get_asset_check_evaluations()},
    "materialized": sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events()),
    "sources_yaml": sources_yaml("patient_experience"),
    "in_reference": "### `patient_experience/friends_and_family`" in render(),
}))
"""


@pytest.fixture(scope="module")
def extension(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the new contract module, and a sources folder with one month of the return."""
    root = tmp_path_factory.mktemp("extension")
    (root / f"{MODULE}.py").write_text(textwrap.dedent(CONTRACT_MODULE), encoding="utf-8")
    sources = root / "sources"
    shutil.copytree(FIXTURES / "organisations", sources / "organisations")
    (sources / "patient_experience").mkdir()
    (sources / "patient_experience" / "friends_and_family_2025-05.csv").write_text(SOURCE_FILE)
    return root


def test_the_new_source_is_registered_only_through_the_hook():
    assert "patient_experience" not in {t.source for t in SOURCE_TABLES}


def test_the_new_source_lands_and_its_bad_row_is_quarantined(extension, monkeypatch):
    monkeypatch.syspath_prepend(str(extension))
    table = __import__(MODULE).SOURCE_TABLES[0]
    results = land_source_table(
        table,
        extension / "sources",
        extension / "checked",
        pseudonym_key=SAMPLE_PSEUDONYM_KEY,
        today=date(2026, 4, 30),
    )
    (result,) = results
    assert result.critical_error is None
    assert result.rows_read == 3 and result.rows_accepted == 2 and result.rows_quarantined == 1
    assert result.quarantine.select("row_number", "column_name", "check_name", "severity").rows() == [
        (2, "positive_responses", "positive_within_responses", "major")
    ]
    assert json.loads(result.quarantine["original_row"][0])["service"] == "maternity"


@pytest.mark.slow  # a fresh process loading Dagster and dbt, then a run: 7 to 20 s
def test_a_fresh_process_generates_its_files_and_finds_and_runs_it_in_dagster(extension):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(extension), str(REPO_ROOT)]),
        CONTRACT_MODULES_VARIABLE: MODULE,
        "NQS_DATA_DIR": str(extension / "data"),
        "NQS_SOURCES_DIR": str(extension / "sources"),
        "NQS_PSEUDONYM_KEY": "extension-test-key",  # its sources are not a generated sample
    }
    env.pop("DAGSTER_HOME", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["assets"] == [
        "landed/check_results/patient_experience/friends_and_family",
        "landed/patient_experience/friends_and_family",
        "landed/quarantine/patient_experience/friends_and_family",
        "source_files/patient_experience/friends_and_family",
    ]
    assert {"contract", "rows_reconcile"} <= set(seen["checks"])
    assert seen["quarantine_feeds"] == ["staging/stg_quarantine__failures"]  # its rejects reach the mart
    assert seen["success"] is True
    assert seen["check_results"] == {"contract": False, "rows_reconcile": True}  # one row quarantined
    assert seen["materialized"] == [
        "landed/check_results/patient_experience/friends_and_family",
        "landed/patient_experience/friends_and_family",
        "landed/quarantine/patient_experience/friends_and_family",
    ]
    assert "- name: positive_responses" in seen["sources_yaml"]
    assert "data_type: bigint" in seen["sources_yaml"] and seen["in_reference"]

    landed = extension / "data" / "landed"
    accepted = pl.read_parquet(parquet_files(landed / "patient_experience" / "friends_and_family"))
    assert accepted["service"].to_list() == ["inpatient", "community"]
    quarantined = pl.read_parquet(
        parquet_files(landed / "_quarantine" / "patient_experience" / "friends_and_family")
    )
    assert quarantined["check_name"].to_list() == ["positive_within_responses"]
