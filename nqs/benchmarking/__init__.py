"""Benchmarking marts: SPC charts of every trust's series, funnel plots per period, and alerts with history.

`build_benchmarking()` computes the four tables (`spc_points`, `spc_summary`, `funnel_points`,
`alerts`, in schema marts and again in schema published) from metric values and the metric catalogue
with the statistics of `nqs.stats`; `tables.yml` beside this file defines their grain and columns.
"""

from nqs.benchmarking.alerts import KINDS, episodes
from nqs.benchmarking.build import BenchmarkingResult, MetricDefinition, build_benchmarking
from nqs.benchmarking.schema import benchmarking_tables

__all__ = [
    "KINDS",
    "BenchmarkingResult",
    "MetricDefinition",
    "benchmarking_tables",
    "build_benchmarking",
    "episodes",
]
