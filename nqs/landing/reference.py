"""The organisations reference that trust and site codes are checked against at landing.

It is the sources' own organisations file (`organisations/organisations.csv`), landed through its
contract like any other file; the accepted rows give the codes and their open and close dates
(`nqs.landing.membership.ReferenceCodes`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from contracts.sources import SourceTable, get_table
from nqs.landing.file import land_file
from nqs.landing.membership import ReferenceCodes


def needs_reference(table: SourceTable) -> bool:
    """Whether a table has organisation codes to check against the reference."""
    return bool({"trust_code", "site_code", "la_code"} & set(table.columns))


def reference_path(sources_dir: Path) -> Path:
    """Where the organisations reference lives in a sources folder."""
    table = get_table("organisations", "organisations")
    return Path(sources_dir) / table.source / table.file_glob


def load_reference(sources_dir: Path, *, today: date | None = None) -> ReferenceCodes:
    """Trust and site codes from the sources' organisations file, as accepted by its own contract.

    Raises FileNotFoundError if the file is absent and ValueError if it fails as a whole: codes
    cannot be checked against a reference that is not there.
    """
    return load_reference_file(reference_path(sources_dir), today=today)


def load_reference_file(path: Path, *, today: date | None = None) -> ReferenceCodes:
    """Trust and site codes from one organisations file (see `load_reference`)."""
    table = get_table("organisations", "organisations")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"organisations reference {path} not found: trust and site codes cannot be checked"
        )
    result = land_file(table, path, pseudonym_key=b"", today=today or date.today())
    if result.critical_error:
        raise ValueError(f"organisations reference unusable: {result.critical_error}")
    return ReferenceCodes.from_organisations(result.accepted)
