"""The four places the warehouse relies on a library's internals, pinned so an upgrade fails here.

- pandera 0.35.0: registered checks are added to `Check.REGISTERED_CUSTOM_CHECKS`
  (`contracts.base._add_to_check_namespace`), because the public `register_check_method` needs pandas.
- dagster-dbt 0.29.27: `orchestration.lib.dbt.WarehouseDbtCliResource` overrides the private
  `_initialize_dbt_core_adapter`, because no public setting skips the adapter.
- dagster 1.13.27: `priority_contract_health` (orchestration/defs/metrics/assets.py) passes
  `multi_asset`'s hidden `allow_arbitrary_check_specs` (the parameter dagster-dbt's own `dbt_assets`
  uses), so the step declares checks on priorities it does not materialise and runs even when a
  refused source skips them; a separate `multi_asset_check` would wait on the skipped priorities.
- pyspark 4.3.0: `nqs.spark_session.stop_session` ends the session's Java process through
  `SparkContext._gateway.proc` (the `Popen` pyspark keeps there), closing its standard input, and waits
  for it, so the local catalogue's Derby database is free when the next step of a build opens it.

When a test here fails, read the comment at the pinned place: the library may now have a public way.
"""

from __future__ import annotations

import importlib.util
import inspect

import pandera.polars as pa
import pytest
from pandera.extensions import register_check_method

from contracts.base import REGISTERED_CHECKS, ContractModel, registered_check


def test_pandera_public_registration_still_needs_pandas():
    """If this fails, `register_check_method` may work for polars now: consider switching to it."""
    assert importlib.util.find_spec("pandas") is None, "pandas is installed: see contracts.base"

    def _pinned_probe_check(data):  # never registered: the public API fails before it registers
        return data

    with pytest.raises(ModuleNotFoundError, match="pandas"):
        register_check_method(statistics=[])(_pinned_probe_check)
    assert not hasattr(pa.Check, "_pinned_probe_check")


def test_pandera_registry_is_the_one_its_public_api_writes_and_reads():
    assert isinstance(pa.Check.REGISTERED_CUSTOM_CHECKS, dict)
    assert "Check.REGISTERED_CUSTOM_CHECKS[" in inspect.getsource(register_check_method)
    assert set(REGISTERED_CHECKS) <= set(pa.Check.REGISTERED_CUSTOM_CHECKS)


def test_registered_checks_work_as_field_and_config_keywords():
    @registered_check("limit", "severity")
    def pinned_at_most(data: pa.PolarsData, *, limit: int, severity: str = "minor"):
        """At most `limit`."""
        import polars as pl

        return data.lazyframe.select(pl.col(data.key) <= limit)

    try:
        check = pa.Check.pinned_at_most(3)
        assert (check.name, check.error) == ("pinned_at_most", None)
        assert check.statistics == {"limit": 3, "severity": "minor"}  # defaults on record

        class Probe(ContractModel):
            a: int = pa.Field(pinned_at_most={"limit": 3})

            class Config:
                unique_key = {"columns": ["a"]}

        schema = Probe.to_schema()
        assert [c.name for c in schema.columns["a"].checks] == ["pinned_at_most"]
        assert [c.name for c in schema.checks] == ["unique_key"]
    finally:
        del pa.Check.REGISTERED_CUSTOM_CHECKS["pinned_at_most"]
        del REGISTERED_CHECKS["pinned_at_most"]


def test_dagster_dbt_adapter_hook_is_still_the_method_cli_calls():
    from dagster_dbt import DbtCliResource

    from orchestration.lib.dbt import WarehouseDbtCliResource

    name = "_initialize_dbt_core_adapter"
    original = getattr(DbtCliResource, name, None)
    assert callable(original), f"dagster-dbt no longer defines DbtCliResource.{name}"
    override = WarehouseDbtCliResource.__dict__[name]
    assert list(inspect.signature(override).parameters) == list(inspect.signature(original).parameters)
    assert f"self.{name}(" in inspect.getsource(DbtCliResource.cli)


def test_dagster_multi_asset_still_takes_arbitrary_check_specs():
    """If this fails, dagster dropped the hidden parameter: see orchestration/defs/metrics/assets.py."""
    import dagster as dg

    @dg.multi_asset(
        specs=[dg.AssetSpec("pinned_probe")],
        check_specs=[dg.AssetCheckSpec("probe", asset="elsewhere")],
        allow_arbitrary_check_specs=True,
    )
    def pinned_probe():
        yield dg.MaterializeResult(asset_key="pinned_probe")
        yield dg.AssetCheckResult(asset_key="elsewhere", check_name="probe", passed=True)

    keys = {key.asset_key for key in pinned_probe.check_keys}
    assert keys == {dg.AssetKey("elsewhere")}
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.multi_asset(
            specs=[dg.AssetSpec("pinned_probe_2")],
            check_specs=[dg.AssetCheckSpec("probe", asset="elsewhere")],
        )(lambda: None)


def test_pyspark_still_keeps_the_java_process_on_the_gateway():
    """`launch_gateway` stores the Java process as `gateway.proc`, with a pipe to its standard input
    (the process exits when it closes) and SparkContext keeps the gateway in `_gateway`."""
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway

    source = inspect.getsource(launch_gateway)
    assert "gateway.proc = proc" in source
    assert 'popen_kwargs["stdin"] = PIPE' in source
    assert "_gateway" in vars(SparkContext)
