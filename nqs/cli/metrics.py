"""`nqs metrics`: the metric catalogue (seeds/metric_catalogue.csv) for people, listed or one in full."""

from __future__ import annotations

import argparse
import json
import sys

from nqs.catalogue import CATALOGUE, INTERVAL_METHODS, SEEDS_DIR, domains, load_catalogue, split_list


def _as_json(row: dict[str, str]) -> dict[str, object]:
    """A row for `--json`: lists for domains and sources, null for empty fields."""
    out: dict[str, object] = {k: (v if v != "" else None) for k, v in row.items()}
    out["domains"] = domains(row)
    out["sources"] = split_list(row["sources"])
    out["interval_method"] = INTERVAL_METHODS.get(row["unit"])
    return out


def _table(rows: list[dict[str, str]]) -> str:
    headers = ("id", "title", "unit", "direction", "domains", "sources")
    cells = [
        [
            r["metric_id"],
            r["title"],
            r["unit"],
            r["improvement_direction"],
            " ".join(domains(r)),
            r["sources"],
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _detail(row: dict[str, str]) -> str:
    fields = {**row, "interval_method": INTERVAL_METHODS.get(row["unit"], "")}
    width = max(len(k) for k in fields)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in fields.items())


def show_metrics(args: argparse.Namespace) -> int:
    rows = load_catalogue()
    if args.metric_id is None:
        print(json.dumps([_as_json(r) for r in rows], indent=2) if args.json else _table(rows))
        return 0
    found = [r for r in rows if r["metric_id"] == args.metric_id]
    if not found:
        print(
            f"nqs metrics: no metric {args.metric_id!r} in {CATALOGUE.relative_to(SEEDS_DIR.parent)}"
            " (run `nqs metrics` for the list)",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(_as_json(found[0]), indent=2) if args.json else _detail(found[0]))
    return 0


def add_metrics_parser(commands: argparse._SubParsersAction) -> None:
    metrics = commands.add_parser("metrics", help="list the metric catalogue, or show one metric in full")
    metrics.add_argument("metric_id", nargs="?", help="the metric to show in full")
    metrics.add_argument("--json", action="store_true", help="print JSON instead of text")
    metrics.set_defaults(run=show_metrics)
