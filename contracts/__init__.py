"""Source contracts and landing: the edge where national files become typed, checked, pseudonymised rows.

`contracts.sources.SOURCE_TABLES` lists every source table and its pandera contract;
`contracts.landing.land_source_table` lands a table's files into accepted and quarantine parquet.
"""
