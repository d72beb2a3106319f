"""The embedded Dagster instance `nqs build` and `nqs ui` share: SQLite under `$NQS_DATA_DIR/dagster_home`.

Its `dagster.yaml` is written here, so every command that starts Dagster on it reads the same settings.
A setting someone has put in the file is kept; only those missing are added.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

#: Settings of the embedded instance, as they are written into its dagster.yaml. `nux` is the new-user
#: pop-up the Dagster UI greets every user with (community and newsletter); `telemetry` the usage data
#: Dagster sends out by default. Both off, as in the production instance (orchestration/deploy/dagster.yaml).
EMBEDDED_SETTINGS = {
    "nux": "# no new-user pop-up in the Dagster UI\nnux:\n  enabled: false\n",
    "telemetry": "# nothing sent to Dagster's telemetry\ntelemetry:\n  enabled: false\n",
}


def write_instance_config(home: Path) -> Path:
    """`home/dagster.yaml` holding every setting of EMBEDDED_SETTINGS (added at its end if missing)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    present = yaml.safe_load(text) or {}
    missing = [block for key, block in EMBEDDED_SETTINGS.items() if key not in present]
    if missing or not path.exists():
        separator = "\n" if text.strip() and not text.endswith("\n") else ""
        path.write_text(text + separator + "".join(missing), encoding="utf-8")
    return path


def use_dagster_home(home: Path) -> Path:
    """Point Dagster (DAGSTER_HOME) at the embedded instance, its configuration written first."""
    write_instance_config(home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
