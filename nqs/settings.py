"""Where the warehouse keeps its files, read once from the environment.

Every path can be moved with one environment variable so tests, benchmarks and CI build into
temporary folders while `make run` uses `data/` in the checkout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nqs.landing.pseudonymise import KEY_VARIABLE, landing_key
from nqs.landing.pseudonymise import SAMPLE_PSEUDONYM_KEY as SAMPLE_KEY

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = REPO_ROOT / "seeds"

#: Used only when NQS_PSEUDONYM_KEY is unset and the sources are synthetic (see `Settings.landing_key`).
SAMPLE_PSEUDONYM_KEY = SAMPLE_KEY.decode()


@dataclass(frozen=True)
class Settings:
    """Paths and secrets for one warehouse build."""

    data_dir: Path
    sources_dir: Path
    pseudonym_key: str | None  #: NQS_PSEUDONYM_KEY; None when unset

    @property
    def landed_dir(self) -> Path:
        return self.data_dir / "landed"

    @property
    def build_db(self) -> Path:
        """The database dbt builds into; never read by BI users."""
        return self.data_dir / "build" / "warehouse.duckdb"

    @property
    def published_db(self) -> Path:
        """The serving copy BI users read; replaced only by a complete, tested build."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @property
    def uses_sample_key(self) -> bool:
        """No key configured: landing uses the sample key, and only for synthetic sources."""
        return not self.pseudonym_key or self.pseudonym_key == SAMPLE_PSEUDONYM_KEY

    def landing_key(self) -> bytes:
        """The key landing pseudonymises identifiers with: NQS_PSEUDONYM_KEY, or the sample key when the
        sources are synthetic. Raises `nqs.landing.pseudonymise.MissingPseudonymKey` (one line saying
        what to set) for any other sources, so nothing is landed with a key meant for samples."""
        return landing_key(self.sources_dir, self.pseudonym_key)

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt's profile and source definitions read."""
        return {"NQS_BUILD_DB": str(self.build_db), "NQS_LANDED_DIR": str(self.landed_dir)}


@cache
def get_settings() -> Settings:
    """Settings from NQS_DATA_DIR, NQS_SOURCES_DIR and NQS_PSEUDONYM_KEY."""
    data_dir = Path(os.environ.get("NQS_DATA_DIR", REPO_ROOT / "data")).resolve()
    sources_dir = Path(os.environ.get("NQS_SOURCES_DIR", data_dir / "sources")).resolve()
    key = os.environ.get(KEY_VARIABLE) or None
    return Settings(data_dir=data_dir, sources_dir=sources_dir, pseudonym_key=key)
