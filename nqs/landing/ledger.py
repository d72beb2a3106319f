"""The landing ledger: what each delivered file was when it was landed, and when it was last built.

One small JSON file per source table under the landed zone (`_ledger/<source>/<table>.json`), so
landing steps running side by side never write the same file. For every delivered file it keeps:

- `landed`: its sha256 when it was landed, the month it covers, its output stem, the contract
  version it was landed under, its row counts and any whole-file failure, and the fingerprint of
  what landing read besides the file (contracts, landing code, the organisations reference, the
  pseudonym key);
- `built`: its sha256 as of the last *successful* build (`mark_built`), so a file landed by a build
  that then failed stays pending (`TableLedger.pending_months`) until a build succeeds.

Whether a file changed is decided by its content hash, never by its modification time. Beside the
tables, `_ledger/_build.json` records the fingerprints the last successful build ran with; a build
whose fingerprints differ (seeds, dbt code, contracts, the organisations reference changed) is a
full refresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from contracts.sources import SourceTable

LEDGER_DIR = "_ledger"
BUILD_FILE = "_build.json"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's content, read in chunks (delivered files can be gigabytes)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(
    folders: Iterable[Path], extra: Mapping[str, str] | None = None, *, suffixes: tuple[str, ...] = ()
) -> str:
    """One sha256 over every file under `folders` (names and contents, in a stable order) and `extra`.

    With `suffixes`, only files ending so count (`.py`: code, not its docs). Files under `target/`,
    `logs/` or `__pycache__/` folders, and hidden files, are left out: they are outputs, not inputs.
    """
    digest = hashlib.sha256()
    skip = {"target", "logs", "__pycache__", "dbt_packages"}
    for folder in sorted({Path(f).resolve() for f in folders}):
        files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        for path in files:
            relative = path.relative_to(folder.parent)
            if (
                skip & set(relative.parts)
                or path.name.startswith(".")
                or not path.name.endswith(suffixes or "")
            ):
                continue
            digest.update(relative.as_posix().encode() + b"\0" + sha256_file(path).encode() + b"\0")
    for name, value in sorted((extra or {}).items()):
        digest.update(f"{name}={value}\0".encode())
    return digest.hexdigest()


def ledger_path(table: SourceTable, landed_dir: Path) -> Path:
    return Path(landed_dir) / LEDGER_DIR / table.source / f"{table.table}.json"


@dataclass
class TableLedger:
    """One table's ledger: source file (as `source_file_name` writes it) -> what was recorded."""

    table: SourceTable
    path: Path
    landed: dict[str, dict] = field(default_factory=dict)
    built: dict[str, dict] = field(default_factory=dict)

    def needs_landing(self, file: str, sha256: str, landing_fingerprint: str) -> bool:
        """Whether a delivered file is new, changed, or was landed with other contracts or reference."""
        entry = self.landed.get(file)
        return entry is None or entry["sha256"] != sha256 or entry["fingerprint"] != landing_fingerprint

    def record(self, file: str, entry: dict) -> None:
        self.landed[file] = {**entry, "landed_at": datetime.now(UTC).isoformat(timespec="seconds")}

    def pending(self) -> dict[str, str | None]:
        """Files new, changed or removed since the last successful build -> the month each covers."""
        files = {}
        for name in self.landed.keys() | self.built.keys():
            now, then = self.landed.get(name), self.built.get(name)
            if now is None or then is None or now["sha256"] != then["sha256"]:
                files[name] = (now or then)["month"]
        return files

    def pending_months(self) -> set[str | None]:
        """The months whose landed data changed since the last successful build (None: a file naming none)."""
        return set(self.pending().values())

    def save(self) -> None:
        _write_json(self.path, {"landed": self.landed, "built": self.built})

    def mark_built(self) -> None:
        """The landed state is now the built state: nothing of this table is pending."""
        self.built = {name: {"sha256": e["sha256"], "month": e["month"]} for name, e in self.landed.items()}
        self.save()


def read_ledger(table: SourceTable, landed_dir: Path) -> TableLedger:
    """The table's ledger, empty if it has none yet (never landed, or the landed zone was removed)."""
    path = ledger_path(table, landed_dir)
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return TableLedger(table, path, dict(data.get("landed", {})), dict(data.get("built", {})))


def last_build(landed_dir: Path) -> dict | None:
    """What the last successful build recorded (its fingerprints and time), None before the first."""
    path = Path(landed_dir) / LEDGER_DIR / BUILD_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def mark_built(tables: Iterable[SourceTable], landed_dir: Path, fingerprints: Mapping[str, str]) -> None:
    """Record a successful build: every table's landed files as built, and the build's fingerprints."""
    for table in tables:
        read_ledger(table, landed_dir).mark_built()
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    _write_json(Path(landed_dir) / LEDGER_DIR / BUILD_FILE, {"built_at": built_at, **fingerprints})


def _write_json(path: Path, data: dict) -> None:
    """Write beside the target, then rename, so a reader never sees half a ledger."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)
