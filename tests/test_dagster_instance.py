"""Every Dagster instance configuration the project ships or writes: read by Dagster itself.

The embedded instance (`nqs build`, `nqs ui`, `make run`) is written by `nqs.cli.instance`; the production
instance is shipped as orchestration/deploy/dagster.yaml. Neither greets users with the new-user pop-up, nor
sends telemetry.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml
from conftest import REPO_ROOT

from nqs.cli.instance import EMBEDDED_SETTINGS, write_instance_config

SHIPPED_CONFIG = REPO_ROOT / "orchestration" / "deploy" / "dagster.yaml"


def test_the_embedded_instance_has_no_new_user_pop_up_and_sends_no_telemetry(tmp_path: Path):
    home = write_instance_config(tmp_path / "dagster_home")
    config = yaml.safe_load(home.read_text())
    assert config["nux"] == {"enabled": False} and config["telemetry"] == {"enabled": False}
    with dg.DagsterInstance.from_config(str(home.parent)) as instance:
        assert instance.nux_enabled is False
        assert instance.telemetry_enabled is False
    before = home.read_text()
    write_instance_config(home.parent)  # written again: nothing repeated
    assert home.read_text() == before and set(EMBEDDED_SETTINGS) <= set(yaml.safe_load(before))


def test_settings_already_in_the_embedded_instance_are_kept(tmp_path: Path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false")  # no final newline
    write_instance_config(home)
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config == {"telemetry": {"enabled": False}, "nux": {"enabled": False}}
    (home / "dagster.yaml").write_text("nux:\n  enabled: true\n")  # someone wants the pop-up back
    write_instance_config(home)
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config == {"nux": {"enabled": True}, "telemetry": {"enabled": False}}


def test_the_production_instance_has_no_new_user_pop_up(tmp_path: Path, monkeypatch):
    config = yaml.safe_load(SHIPPED_CONFIG.read_text())
    assert config["nux"] == {"enabled": False}
    for value in config["storage"]["postgres"]["postgres_db"].values():
        if isinstance(value, dict):
            monkeypatch.setenv(value["env"], "5432" if value["env"].endswith("PORT") else "x")
    shutil.copy(SHIPPED_CONFIG, tmp_path / "dagster.yaml")
    from dagster._core.instance.config import dagster_instance_config

    validated, _ = dagster_instance_config(str(tmp_path))  # Dagster's own schema accepts the key
    assert validated["nux"] == {"enabled": False}


class Started(Exception):
    """Raised in place of exec'ing `dagster dev`."""


def test_the_nqs_commands_starting_dagster_write_the_embedded_instance(tmp_path: Path, monkeypatch):
    """`nqs build` (through its instance) and `nqs ui` both point DAGSTER_HOME at the written instance."""
    import os

    from nqs.cli import main
    from nqs.cli.build import _use_instance
    from nqs.settings import get_settings

    monkeypatch.setenv("NQS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    get_settings.cache_clear()
    try:
        settings = get_settings()
        with _use_instance(settings) as instance:
            assert instance.nux_enabled is False
            assert Path(instance.root_directory) == settings.dagster_home
        shutil.rmtree(settings.dagster_home)

        def started(path, argv):
            raise Started(argv)

        monkeypatch.setattr(os, "execv", started)
        monkeypatch.setattr(os, "chdir", lambda _: None)
        with pytest.raises(Started) as run:
            main(["ui"])
        assert run.value.args[0][1:3] == ["dev", "-m"]
        assert os.environ["DAGSTER_HOME"] == str(settings.dagster_home)
        with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
            assert instance.nux_enabled is False
    finally:
        get_settings.cache_clear()
