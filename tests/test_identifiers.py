"""Identifiers never travel: no table or view from staging on holds a direct identifier.

What counts as a direct identifier comes from the contracts: every column a source table registers
as an identifier (`SourceTable.identifier_columns`) and the checks its contract applies to it (the
NHS number's Modulus 11 check, the staff identifier's pattern). The scan looks at every column of
every table and view in the staging, intermediate and marts schemas, values inside text included
(a quarantined row keeps its original text as JSON).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from conftest import Build

from contracts.base import nhs_number_is_valid
from contracts.reference_checks import MEMBERSHIP_CHECKS
from contracts.sources import SOURCE_TABLES

SCANNED_SCHEMAS = ("staging", "intermediate", "marts", "published")
#: Values are split into tokens at anything that is not a letter or digit.
TOKEN_SPLIT = "[^0-9A-Za-z]+"
SCANNED_TYPES = ("VARCHAR", "BIGINT", "INTEGER", "HUGEINT", "UBIGINT", "JSON")


@dataclass(frozen=True)
class Detector:
    """Recognises one kind of direct identifier in a token."""

    name: str
    pattern: str  #: anchored regular expression a token must match
    nhs_number: bool = False  #: also needs a valid Modulus 11 check digit

    def matches(self, tokens: list[str]) -> list[str]:
        hits = [t for t in tokens if re.fullmatch(self.pattern.strip("^$"), t)]
        if self.nhs_number and hits:
            valid = pl.DataFrame({"v": hits}).select(nhs_number_is_valid(pl.col("v")))["v"]
            hits = [t for t, ok in zip(hits, valid, strict=True) if ok]
        return hits


def identifier_detectors() -> list[Detector]:
    """One detector per registered identifier column, from the checks its contract applies."""
    detectors: dict[str, Detector] = {}
    for table in SOURCE_TABLES:
        columns = table.model.to_schema().columns
        for name in table.identifier_columns:
            for check in columns[name].checks:
                if check.name == "nhs_number":
                    detectors[name] = Detector(name, r"^[0-9]{10}$", nhs_number=True)
                elif check.name == "str_matches":
                    detectors[name] = Detector(name, check.statistics["pattern"])
    return list(detectors.values())


def identifier_column_names() -> set[str]:
    return {c for t in SOURCE_TABLES for c in t.identifier_columns}


def organisation_codes(db: duckdb.DuckDBPyConnection) -> set[str]:
    """Codes of organisations (ODS and ONS codes such as England's E92000001 or a council's E06000001),
    which name no person.

    England's ONS code has the staff identifier's shape (E and eight digits); an organisation code
    is public and is never a person's identifier.
    """
    columns = db.execute(
        """
        select column_name from information_schema.columns
        where table_schema = 'marts' and table_name = 'dim_organisations' and column_name like '%code'
        """
    ).fetchall()
    codes: set[str] = set()
    for (column,) in columns:
        codes |= {
            c
            for (c,) in db.execute(f'select distinct "{column}" from marts.dim_organisations').fetchall()
            if c
        }  # noqa: S608
    # an organisation code column's value the reference does not know (a mistyped or closed council
    # code, quarantined by the membership checks) is still an organisation's code: E06000962 has
    # the staff identifier's shape too
    quarantine = db.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'quarantined_rows'"
    ).fetchone()[0]
    if not quarantine:
        return codes
    checks = sorted({check for names in MEMBERSHIP_CHECKS.values() for check in names})
    codes |= {
        c
        for (c,) in db.execute(
            f"""
            select distinct failure_value from marts.quarantined_rows
            where column_name in ({", ".join("?" for _ in MEMBERSHIP_CHECKS)})
                and check_name in ({", ".join("?" for _ in checks)})
            """,  # noqa: S608 - placeholders only
            [*MEMBERSHIP_CHECKS, *checks],
        ).fetchall()
        if c
    }
    return codes


def find_direct_identifiers(db: duckdb.DuckDBPyConnection, schemas=SCANNED_SCHEMAS) -> list[str]:
    """Every column named like a raw identifier or holding one, as `schema.table.column: why`."""
    detectors = identifier_detectors()
    raw_names = identifier_column_names()
    organisations = organisation_codes(db)
    found = []
    columns = db.execute(
        f"""
        select table_schema, table_name, column_name, data_type
        from information_schema.columns
        where table_schema in ({", ".join("?" for _ in schemas)})
        order by all
        """,
        list(schemas),
    ).fetchall()
    for schema, table, column, data_type in columns:
        where = f"{schema}.{table}.{column}"
        lowered = column.lower()
        if any(raw in lowered for raw in raw_names) and not lowered.endswith("_hash"):
            found.append(f"{where}: named like the raw identifier")
        if not data_type.upper().startswith(SCANNED_TYPES):
            continue
        value = f'cast("{column}" as varchar)'
        tokens = [
            t
            for (t,) in db.execute(
                f"""
                with candidates as (
                    select unnest(regexp_split_to_array({value}, '{TOKEN_SPLIT}')) as token
                    from "{schema}"."{table}"
                    union
                    select regexp_replace({value}, '\\s', '', 'g') as token from "{schema}"."{table}"
                )
                select distinct token from candidates
                where length(token) <= 20 and regexp_matches(token, '[0-9]')
                """  # noqa: S608 - names come from the catalogue
            ).fetchall()
        ]
        tokens = [t for t in tokens if t not in organisations]
        for detector in detectors:
            hits = detector.matches(tokens)
            if hits:
                found.append(f"{where}: {len(hits)} {detector.name} value(s), e.g. {hits[0]}")
    return found


def test_the_contracts_define_what_to_look_for():
    names = {d.name for d in identifier_detectors()}
    assert {"nhs_number", "staff_id"} <= names, names


def test_the_scanner_finds_planted_identifiers(tmp_path: Path):
    """An NHS number (bare or inside a JSON row), a staff id and a raw identifier column are all found."""
    staff = next(d for d in identifier_detectors() if d.name == "staff_id")
    staff_value = "E12345678"
    assert re.fullmatch(staff.pattern.strip("^$"), staff_value), "the planted staff id fits its contract"
    with duckdb.connect(str(tmp_path / "planted.duckdb")) as db:
        db.execute("create schema staging; create schema marts")
        db.execute("create table staging.clean (person_hash varchar, n bigint)")
        db.execute("insert into staging.clean values ('9434765919' || 'ab', 12), ('943 476 5918', 3)")
        db.execute("create table staging.leaky (note varchar, n bigint)")
        db.execute(
            """insert into staging.leaky values
               ('{"nhs_number": "9434765919", "x": 1}', 1), ('ok', 9434765919), ('left by ' || ?, 2)""",
            [staff_value],
        )
        db.execute("create view marts.raw as select 1 as staff_id")
        found = find_direct_identifiers(db)
    assert not [f for f in found if ".clean." in f], found
    assert any(f.startswith("staging.leaky.note: 1 nhs_number") for f in found), found
    assert any(f.startswith("staging.leaky.n: 1 nhs_number") for f in found), found
    assert any(f.startswith("staging.leaky.note: 1 staff_id") for f in found), found
    assert "marts.raw.staff_id: named like the raw identifier" in found, found


def test_no_direct_identifier_downstream_of_landing(sample_build: Build):
    assert sample_build.exit_code == 0, sample_build.output[-3000:]
    with duckdb.connect(str(sample_build.build_db), read_only=True) as db:
        relations = db.execute(
            "select count(*) from information_schema.tables where table_schema in ('staging', 'marts')"
        ).fetchone()[0]
        assert relations >= 10, "the warehouse should have staging and marts relations to scan"
        found = find_direct_identifiers(db)
    assert not found, "\n".join(found)


def test_the_scanner_finds_the_identifiers_of_the_raw_sources(sample_build: Build, tmp_path: Path):
    """The same scan over the delivered files (before landing) finds every kind of identifier in them."""
    sources = sample_build.data_dir / "sources"
    with duckdb.connect(str(tmp_path / "raw.duckdb")) as db:
        db.execute("create schema staging")
        for table in SOURCE_TABLES:
            if table.identifier_columns:
                files = str(sources / table.source / table.file_glob)
                db.execute(
                    # a table, read once: the scan reads every column several times
                    f"create table staging.{table.name} as "  # noqa: S608 - registered names
                    f"select * exclude ({', '.join(table.identifier_columns)}), "
                    f"{', '.join(f'{c} as delivered_{i}' for i, c in enumerate(table.identifier_columns))} "
                    f"from read_csv('{files}', all_varchar = true, union_by_name = true)"
                )
        found = find_direct_identifiers(db)
    kinds = {f.split(": ")[1].split(" ")[1] for f in found if "value(s)" in f}
    assert kinds == {d.name for d in identifier_detectors()}, found
