"""No silent key: without NQS_PSEUDONYM_KEY only sources marked synthetic are landed (with the sample
key); any other sources are refused, before a file is landed, with one line saying what to set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from contracts.sources import SOURCES_MANIFEST, get_table
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY, MissingPseudonymKey, sources_are_synthetic
from nqs.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "contracts"


def _delivered(tmp_path: Path, manifest: dict | None = None) -> Path:
    """A sources folder of delivered files (the contract fixtures), with `manifest` if given."""
    sources = tmp_path / "sources"
    shutil.copytree(FIXTURES, sources)
    if manifest is not None:
        (sources / SOURCES_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return sources


@pytest.fixture
def settings_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The settings `get_settings` reads for a sources folder and a key (None: unset)."""

    def configure(sources: Path, key: str | None):
        monkeypatch.setenv("NQS_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("NQS_SOURCES_DIR", str(sources))
        if key is None:
            monkeypatch.delenv("NQS_PSEUDONYM_KEY", raising=False)
        else:
            monkeypatch.setenv("NQS_PSEUDONYM_KEY", key)
        get_settings.cache_clear()
        return get_settings()

    yield configure
    get_settings.cache_clear()


@pytest.mark.parametrize("manifest", [None, {"generated_by": "nqs generate"}, {"synthetic": "yes"}])
def test_sources_not_marked_synthetic_are_refused_without_a_key(settings_for, tmp_path, manifest):
    settings = settings_for(_delivered(tmp_path, manifest), None)
    with pytest.raises(MissingPseudonymKey) as refused:
        settings.landing_key()
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("NQS_PSEUDONYM_KEY is not set: set NQS_PSEUDONYM_KEY")


def test_synthetic_sources_use_the_sample_key_without_a_key(settings_for, tmp_path):
    settings = settings_for(_delivered(tmp_path, {"synthetic": True}), None)
    assert settings.landing_key() == SAMPLE_PSEUDONYM_KEY
    assert settings.uses_sample_key


@pytest.mark.parametrize("manifest", [None, {"synthetic": True}])
def test_a_configured_key_is_used_for_any_sources(settings_for, tmp_path, manifest):
    settings = settings_for(_delivered(tmp_path, manifest), "a-real-key")
    assert settings.landing_key() == b"a-real-key"
    assert not settings.uses_sample_key


def test_generated_sources_are_marked_synthetic(tmp_path):
    from nqs.generate import generate_sources

    manifest = generate_sources(tmp_path, scale=0.001, months=1, end="2025-05")
    assert manifest["synthetic"] is True
    assert sources_are_synthetic(tmp_path)


def test_build_refuses_delivered_sources_without_a_key_and_publishes_nothing(tmp_path):
    sources = _delivered(tmp_path / "data")
    before = sorted(p.relative_to(sources) for p in sources.rglob("*"))
    env = {**os.environ, "NQS_DATA_DIR": str(tmp_path / "data")}
    for name in ("NQS_PSEUDONYM_KEY", "NQS_SOURCES_DIR", "DAGSTER_HOME"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "nqs.cli", "build"], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("nqs build: error: NQS_PSEUDONYM_KEY is not set: set NQS_PSEUDONYM_KEY")
    assert sorted(p.relative_to(sources) for p in sources.rglob("*")) == before  # not generated over
    assert not (tmp_path / "data" / "landed").exists()
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


def test_the_landing_asset_refuses_delivered_sources_without_a_key(settings_for, tmp_path):
    import dagster as dg

    from orchestration.defs.ingest.landing import landing_assets
    from orchestration.lib.dbt import landed_asset_key

    settings = settings_for(_delivered(tmp_path), None)
    key = landed_asset_key("incidents", "events")
    asset = next(a for a in landing_assets if key in a.keys)
    result = dg.materialize([asset], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    error = failure.step_failure_data.error
    while error.cause is not None:  # the root cause, not Dagster's wrapper
        error = error.cause
    assert error.message.startswith(
        "nqs.landing.pseudonymise.MissingPseudonymKey: NQS_PSEUDONYM_KEY is not set"
    )
    assert not settings.landed_dir.exists()


def test_validate_needs_no_key_and_never_uses_the_sample_key(tmp_path, monkeypatch):
    import nqs.landing.file
    from nqs.cli.validate import validate

    keys = []
    land_file = nqs.landing.file.land_file

    def spy(*args, pseudonym_key: bytes, **kwargs):
        keys.append(pseudonym_key)
        return land_file(*args, pseudonym_key=pseudonym_key, **kwargs)

    monkeypatch.setattr(nqs.landing.file, "land_file", spy)
    monkeypatch.delenv("NQS_PSEUDONYM_KEY", raising=False)
    sources = _delivered(tmp_path)
    path = sources / "incidents" / "events_2025-05.csv"
    report = validate("incidents", path, today=date(2026, 4, 30))
    assert report["loadable"] and report["rows_read"] > 0
    assert keys and SAMPLE_PSEUDONYM_KEY not in keys
    header = path.read_text().splitlines()[0].split(",")  # the version the file is written under
    assert report["contract"] == get_table("incidents", "events").contract_for_header(header).model.__name__
