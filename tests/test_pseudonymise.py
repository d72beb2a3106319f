"""The keyed hashing of identifiers at landing: the same value always gets the same hash, and a
table's pseudonymiser remembers no more than the last file's values, however many files it lands."""

from __future__ import annotations

import polars as pl

from nqs.landing.pseudonymise import Pseudonymiser, hash_value

KEY = b"test-key"


def _staff(first: int, count: int) -> pl.Series:
    return pl.Series("staff_id", [f"E{n:08d}" for n in range(first, first + count)])


def test_hashes_are_the_keyed_hash_of_each_value_in_order_with_nulls_kept() -> None:
    values = pl.Series("staff_id", ["E00000002", None, "E00000001", "E00000002"])
    hashed = Pseudonymiser(KEY).series(values)
    assert hashed.name == "staff_id"
    assert hashed.to_list() == [
        hash_value("E00000002", KEY),
        None,
        hash_value("E00000001", KEY),
        hash_value("E00000002", KEY),
    ]


def test_a_table_of_many_months_remembers_only_its_last_two_calls() -> None:
    """Each month's accepted rows, then its quarantined ones (a few of the same people)."""
    pseudonymiser = Pseudonymiser(KEY)
    months = [_staff(first=month * 10, count=1_000) for month in range(120)]  # 1% new each month
    for month in months:
        hashed = pseudonymiser.series(month)
        pseudonymiser.series(month.head(3))
        assert pseudonymiser.remembered() == month.len() + 3
    assert hashed.to_list() == [hash_value(value, KEY) for value in months[-1].to_list()]
    # a person seen long ago and again now gets the hash they had then
    returning = pl.Series("staff_id", [months[0][0], months[-1][0]])
    assert pseudonymiser.series(returning).to_list() == [
        hash_value(months[0][0], KEY),
        hash_value(months[-1][0], KEY),
    ]


def test_each_identifier_column_keeps_its_own_values() -> None:
    pseudonymiser = Pseudonymiser(KEY)
    frame = pl.DataFrame({"nhs_number": ["9434765919", "9434765870"], "staff_id": ["E00000001", None]})
    hashed = pseudonymiser.columns(frame, ("nhs_number", "staff_id"), rename=True)
    assert hashed.columns == ["nhs_number_hash", "staff_id_hash"]
    nhs_numbers = [hash_value("9434765919", KEY), hash_value("9434765870", KEY)]
    assert hashed["nhs_number_hash"].to_list() == nhs_numbers
    assert hashed["staff_id_hash"].to_list() == [hash_value("E00000001", KEY), None]
    assert pseudonymiser.remembered() == 3
    pseudonymiser.columns(frame.head(1), ("nhs_number", "staff_id"), rename=False)
    assert pseudonymiser.remembered() == 3 + 2
