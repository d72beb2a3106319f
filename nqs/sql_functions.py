"""Distribution quantiles DuckDB and Spark lack, as vectorised SQL functions, and the dbt-duckdb plugin.

Exact confidence intervals need the chi-square (Garwood, exact Poisson), Student t and binomial
quantiles; neither DuckDB nor Spark SQL has them. `register_functions` adds them to a DuckDB
connection as Arrow UDFs backed by scipy, so a query evaluates a whole column in one call. The dbt
profile loads `Plugin`, which registers them on the connection dbt opens; they are used only by
models materialised as tables, so the published warehouse never needs them.
`register_spark_functions` adds the same functions, with the same scipy code, to a Spark session
as Arrow UDFs (nqs/spark_session.py runs dbt's `spark` target on such a session), so both engines
compute every interval with the same quantiles, bit for bit.

| SQL function | value |
| --- | --- |
| `chi_square_quantile(p, df)` | quantile of the chi-square distribution with `df` degrees of freedom |
| `student_t_quantile(p, df)` | quantile of Student's t distribution with `df` degrees of freedom |
| `binomial_quantile(p, n, prob)` | smallest k with P(X <= k) >= p for X ~ Binomial(n, prob) |
| `normal_quantile(p)` | quantile of the standard normal distribution |

Each returns null where any argument is null or outside the distribution's domain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin
from scipy import stats

Quantile = Callable[..., np.ndarray]


def _chi_square(p: np.ndarray, df: np.ndarray) -> np.ndarray:
    return stats.chi2.ppf(p, df)


def _student_t(p: np.ndarray, df: np.ndarray) -> np.ndarray:
    return stats.t.ppf(p, df)


def _binomial(p: np.ndarray, n: np.ndarray, prob: np.ndarray) -> np.ndarray:
    return stats.binom.ppf(p, n, prob)


def _normal(p: np.ndarray) -> np.ndarray:
    return stats.norm.ppf(p)


#: name -> (scipy-backed function, number of double arguments)
FUNCTIONS: dict[str, tuple[Quantile, int]] = {
    "chi_square_quantile": (_chi_square, 2),
    "student_t_quantile": (_student_t, 2),
    "binomial_quantile": (_binomial, 3),
    "normal_quantile": (_normal, 1),
}


def _vectorised(quantile: Quantile, arity: int) -> Callable[..., pa.Array]:
    """Arrow in, Arrow out: nulls and out-of-domain arguments give null, never an error."""

    def evaluate(columns: tuple[pa.Array, ...]) -> pa.Array:
        arrays = [np.asarray(c.to_numpy(zero_copy_only=False), dtype=float) for c in columns]
        with np.errstate(invalid="ignore"):
            result = np.asarray(quantile(*arrays), dtype=float)
        result = np.broadcast_to(result, arrays[0].shape)
        return pa.array(result, type=pa.float64(), mask=~np.isfinite(result))

    # DuckDB reads the number of parameters from the signature, so no *args.
    if arity == 1:
        return lambda a: evaluate((a,))
    if arity == 2:
        return lambda a, b: evaluate((a, b))
    return lambda a, b, c: evaluate((a, b, c))


def register_functions(connection: duckdb.DuckDBPyConnection) -> None:
    """Adds every function in FUNCTIONS to the connection (replacing an earlier registration)."""
    for name, (quantile, arity) in FUNCTIONS.items():
        try:
            connection.remove_function(name)
        except duckdb.InvalidInputException:
            pass
        connection.create_function(
            name,
            _vectorised(quantile, arity),
            [duckdb.sqltype("DOUBLE")] * arity,
            duckdb.sqltype("DOUBLE"),
            type="arrow",
            null_handling="special",
        )


def register_spark_functions(session: Any) -> None:
    """Adds every function in FUNCTIONS to a Spark session (pyspark's, imported only here)."""
    from pyspark.sql.functions import arrow_udf
    from pyspark.sql.types import DoubleType

    for name, (quantile, arity) in FUNCTIONS.items():
        session.udf.register(name, arrow_udf(_vectorised(quantile, arity), DoubleType()))


class Plugin(BasePlugin):
    """dbt-duckdb plugin (`plugins: [{module: nqs.sql_functions}]` in profiles.yml)."""

    def configure_connection(self, conn: Any) -> None:
        # Cursors dbt opens on this connection share its catalogue, so they see the functions too.
        register_functions(conn)
