"""Synthetic national sources (LFPSE, NHFD, SSNAP, NJR, ESR shapes) with planted truths.

`generate_sources(out_dir, scale=..., seed=...)` writes one folder per source and `_manifest.json`
recording what was planted: worse trusts, deteriorating series, the merger and every bad row.
"""

from nqs.generate.core import generate_sources

__all__ = ["generate_sources"]
