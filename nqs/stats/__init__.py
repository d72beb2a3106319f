"""Statistics for benchmarking: SPC (XmR, "Making Data Count") and funnel plots with overdispersion.

One implementation behind `nqs spc`, `nqs funnel` and the warehouse's SPC and funnel marts. See README.md
in this folder for the methods, the reference implementations they are checked against, and the
deliberate differences.
"""

from nqs.stats._common import StatsInputError
from nqs.stats.funnel import FUNNEL_COLUMNS, funnel, funnel_limits, judge, orient_outliers
from nqs.stats.spc import SPC_COLUMNS, spc

__all__ = [
    "FUNNEL_COLUMNS",
    "SPC_COLUMNS",
    "StatsInputError",
    "funnel",
    "funnel_limits",
    "judge",
    "orient_outliers",
    "spc",
]
