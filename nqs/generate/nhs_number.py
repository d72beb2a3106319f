"""NHS numbers in the official test range, so no generated number can belong to a real patient.

Numbers start `999` and carry a valid Modulus 11 check digit: weights 10..2 over the first nine
digits, check = 11 - (sum mod 11), 11 becomes 0 and 10 means the number is never issued.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from nqs.generate.sampling import with_nulls

_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)
_TEST_PREFIX = 999_000_000
_MAX_REDRAWS = 64


def _digits(body: np.ndarray) -> np.ndarray:
    """The nine digits of each body as a (n, 9) array, most significant first."""
    powers = 10 ** np.arange(8, -1, -1, dtype=np.int64)
    return (body[:, None] // powers) % 10


def check_digits(body: np.ndarray) -> np.ndarray:
    """Modulus 11 check digit of each nine-digit body; 10 marks a body that is never issued."""
    remainder = (_digits(np.asarray(body, dtype=np.int64)) * _WEIGHTS).sum(axis=1) % 11
    check = 11 - remainder
    return np.where(check == 11, 0, check)


def valid_numbers(rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` valid test-range NHS numbers as int64 (bodies whose check would be 10 are redrawn)."""
    body = _TEST_PREFIX + rng.integers(0, 1_000_000, size=size, dtype=np.int64)
    check = check_digits(body)
    for _ in range(_MAX_REDRAWS):
        unusable = check == 10
        if not unusable.any():
            break
        body[unusable] = _TEST_PREFIX + rng.integers(0, 1_000_000, size=int(unusable.sum()), dtype=np.int64)
        check[unusable] = check_digits(body[unusable])
    else:  # pragma: no cover - probability (1/11)**64
        raise RuntimeError("could not draw valid NHS numbers")
    return body * 10 + check


def as_text(numbers: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    """NHS numbers as 10-character strings, null where `missing` (patient not identified)."""
    text = pl.Series("nhs_number", np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(10)
    return text if missing is None else with_nulls(text, missing)


def is_valid(numbers: pl.Series) -> pl.Series:
    """Whether each string is a well-formed NHS number with a correct check digit (null stays null).

    Vectorised so tests (and anyone checking an extract) can verify millions of values at once.
    """
    text = numbers.cast(pl.String)
    well_formed = text.str.contains(r"^\d{10}$").fill_null(False).to_numpy()
    values = np.zeros(len(text), dtype=np.int64)
    values[well_formed] = text.filter(pl.Series(well_formed)).cast(pl.Int64).to_numpy()
    valid = well_formed & (check_digits(values // 10) == values % 10)
    return pl.Series("is_valid", valid).scatter(np.flatnonzero(text.is_null().to_numpy()), None)
