"""NHS numbers in the official test range, so no generated number can belong to a real patient.

Numbers start `999` and carry a valid Modulus 11 check digit, computed by the contracts' own rule
(`contracts.base.nhs_number_check_digit`), so the generator and the landing check cannot disagree.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from contracts.base import nhs_number_check_digit, nhs_number_is_valid
from nqs.generate.sampling import with_nulls

_TEST_PREFIX = 999_000_000
_MAX_REDRAWS = 64


def check_digits(body: np.ndarray) -> np.ndarray:
    """Modulus 11 check digit of each nine-digit body as int64; 10 marks a body that is never issued."""
    text = pl.Series("body", np.asarray(body, dtype=np.int64)).cast(pl.String).str.zfill(9)
    check = pl.DataFrame({"body": text}).select(nhs_number_check_digit(pl.col("body")).cast(pl.Int64))
    return check.to_series().to_numpy().astype(np.int64, copy=True)


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

    The contracts' check (`contracts.base.nhs_number_is_valid`) on a Series, vectorised so tests (and
    anyone checking an extract) can verify millions of values at once.
    """
    frame = pl.DataFrame({"is_valid": numbers.cast(pl.String)})
    return frame.select(nhs_number_is_valid(pl.col("is_valid"))).to_series()
