"""Landing: a delivered file read, cast and checked against its contract, identifiers pseudonymised,
accepted rows written as Parquet and rejected ones quarantined with their reasons."""
