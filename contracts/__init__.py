"""Source contracts: what each national file must hold, declared once.

`contracts.sources.SOURCE_TABLES` lists every source table and its pandera contract versions; the
models, reusable checks and code lists live beside it. Nothing here reads a file: landing
(`nqs.landing`) applies these declarations to delivered files.
"""
