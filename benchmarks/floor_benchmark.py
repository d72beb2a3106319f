"""The raw-scan floor: the least any build of a delivery can take.

DuckDB reads every CSV file of a sources folder once and writes it as Parquet
(`COPY (select * from read_csv(...)) TO ... (FORMAT parquet)`), one file after another in one
connection opened with the build's DuckDB settings (`Settings.duckdb_config`: memory limit, threads,
spill folder). Types are detected as DuckDB does by default; a file whose planted bad values defeat
detection is read again as text, and counted. Prints the seconds of the copies alone (no interpreter
start-up), the rows and the files.

    .venv/bin/python benchmarks/floor_benchmark.py --sources data/sources --out /tmp/floor [--json]

`build_benchmark.py` runs it for each scale before timing the build, with the same NQS_DATA_DIR.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import duckdb

from nqs.settings import get_settings


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy(db: duckdb.DuckDBPyConnection, source: Path, target: Path, *, as_text: bool) -> int:
    options = ", all_varchar = true" if as_text else ""
    copied = db.execute(
        f"copy (select * from read_csv({_quote(str(source))}{options})) "  # noqa: S608 - our own paths
        f"to {_quote(str(target))} (format parquet)"
    ).fetchall()
    return copied[0][0]  # COPY returns the rows it wrote


def raw_scan_floor(sources: Path, out: Path) -> dict:
    """Copy every CSV under `sources` to Parquet under `out`; seconds, rows, files, bytes read."""
    files = sorted(sources.rglob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files under {sources}")
    settings = get_settings()
    settings.duckdb_temp_dir.parent.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    rows = read_as_text = 0
    with duckdb.connect(config=settings.duckdb_config()) as db:
        start = time.perf_counter()
        for index, source in enumerate(files):
            target = out / f"{index:05d}_{source.stem}.parquet"
            try:
                rows += _copy(db, source, target, as_text=False)
            except duckdb.Error:
                rows += _copy(db, source, target, as_text=True)
                read_as_text += 1
        seconds = time.perf_counter() - start
    return {
        "floor_s": seconds,
        "rows": rows,
        "files": len(files),
        "files_read_as_text": read_as_text,
        "csv_bytes": sum(path.stat().st_size for path in files),
        "duckdb_config": settings.duckdb_config(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sources", type=Path, default=get_settings().sources_dir)
    parser.add_argument("--out", type=Path, required=True, help="folder for the Parquet files (emptied)")
    parser.add_argument("--keep", action="store_true", help="keep the Parquet files")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    try:
        result = raw_scan_floor(args.sources, args.out)
    finally:
        if not args.keep:
            shutil.rmtree(args.out, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"raw-scan floor: {result['floor_s']:.1f} s for {result['rows']:,} rows in {result['files']} files "
        f"({result['csv_bytes'] / 1e9:.2f} GB of CSV; {result['files_read_as_text']} read as text), "
        f"DuckDB {result['duckdb_config']}"
    )


if __name__ == "__main__":
    main()
