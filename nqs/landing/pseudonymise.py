"""Keyed hashing of direct identifiers, done once at the edge so raw values never travel further.

HMAC-SHA256 with a key from configuration: the same person gets the same hash in every source (so
records still link), nobody without the key can recompute it, and the key is never in the repository.

The key is `NQS_PSEUDONYM_KEY`. Without it, landing uses the sample key only for sources marked
synthetic by the generator (`"synthetic": true` in the folder's `_manifest.json`) and refuses any
other sources before reading a file (`landing_key`).
"""

from __future__ import annotations

import hmac
import json
from pathlib import Path

import polars as pl

from contracts.sources import SOURCES_MANIFEST, SYNTHETIC_FLAG

#: Key for synthetic sources only; named so nobody mistakes it for a real key.
SAMPLE_PSEUDONYM_KEY = b"sample-key-not-for-real-data"
KEY_VARIABLE = "NQS_PSEUDONYM_KEY"


class MissingPseudonymKey(Exception):
    """Sources that are not synthetic, and no key to pseudonymise them with (the message is one line)."""


def sources_are_synthetic(sources_dir: Path) -> bool:
    """Whether the generator marked the folder's sources synthetic in its `_manifest.json`."""
    try:
        manifest = json.loads((Path(sources_dir) / SOURCES_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get(SYNTHETIC_FLAG) is True


def landing_key(sources_dir: Path, configured: str | None) -> bytes:
    """The key to pseudonymise `sources_dir` with: `configured` (NQS_PSEUDONYM_KEY) when set, else the
    sample key if the sources are synthetic; raises MissingPseudonymKey otherwise."""
    if configured:
        return configured.encode()
    if sources_are_synthetic(sources_dir):
        return SAMPLE_PSEUDONYM_KEY
    raise MissingPseudonymKey(
        f"{KEY_VARIABLE} is not set: set {KEY_VARIABLE} to the pseudonymisation key to land the sources in "
        f"{sources_dir} (only sources marked synthetic by `nqs generate` in their {SOURCES_MANIFEST} are "
        "landed with the sample key)"
    )


_KNOWN_SCHEMA = {"value": pl.String, "hash": pl.String}


def hash_value(value: str, key: bytes) -> str:
    """Hex HMAC-SHA256 of one identifier."""
    return hmac.digest(key, value.encode("utf-8"), "sha256").hex()


class Pseudonymiser:
    """Hashes identifier columns, remembering the values of its last two calls per column.

    HMAC is the one step of landing that runs per value in Python; one person appears in many
    monthly files (a staff member in every month employed), so a table's files share one
    pseudonymiser, which hashes only the values it has not seen in its last two calls on the column:
    a file's accepted rows and then its quarantined ones, so the next file finds the previous file's
    people (at national scale all but about 1% of a month's staff). It keeps no more than that:
    remembering every value of a table's history grows with the years landed.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key
        #: identifier column -> its values and hashes in the last two calls, the latest last
        self._known: dict[str, tuple[pl.DataFrame, ...]] = {}

    def series(self, values: pl.Series) -> pl.Series:
        """The hash of every value (nulls stay null), in the order given."""
        values = values.cast(pl.String)
        distinct = values.drop_nulls().unique().to_frame("value")
        recent = self._known.get(values.name, ())
        previous = pl.concat([*recent, pl.DataFrame(schema=_KNOWN_SCHEMA)]).unique("value")
        known = distinct.join(previous, on="value", how="inner")
        new = distinct.join(previous, on="value", how="anti")["value"]
        if new.len():
            key, digest = self._key, hmac.digest
            hashes = [digest(key, v.encode("utf-8"), "sha256").hex() for v in new.to_list()]
            known = pl.concat([known, pl.DataFrame({"value": new, "hash": hashes}, schema=_KNOWN_SCHEMA)])
        self._known[values.name] = (*recent[-1:], known)
        looked_up = values.to_frame("value").join(known, on="value", how="left", maintain_order="left")
        return looked_up["hash"].alias(values.name)

    def remembered(self) -> int:
        """How many values it remembers, over every identifier column and both calls."""
        return sum(frame.height for frames in self._known.values() for frame in frames)

    def columns(self, frame: pl.DataFrame, columns: tuple[str, ...], *, rename: bool) -> pl.DataFrame:
        """Hash the identifier `columns` present in `frame`, renamed `<column>_hash` in place if `rename`."""
        present = [c for c in columns if c in frame.columns]
        if not present:
            return frame
        hashed = frame.with_columns(self.series(frame[c]).alias(c) for c in present)
        if rename:
            hashed = hashed.rename({c: f"{c}_hash" for c in present})
        return hashed
