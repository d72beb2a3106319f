"""The answers of `nqs.lineage.queries` as a readable tree (`nqs lineage` without `--json`)."""

from __future__ import annotations

from typing import Any

Node = tuple[str, list["Node"]]


def _table_node(table: dict[str, Any]) -> Node:
    files = table["files"]
    if files:
        shown = f"{len(files)} file{'s' if len(files) != 1 else ''} in {table['folder']}: " + (
            files[0] if len(files) == 1 else f"{files[0]} .. {files[-1]}"
        )
    else:
        shown = f"no files yet matching {table['file_glob']} in {table['folder']}"
    children: list[Node] = [(f"files: {shown}", _version_runs(table))]
    if table["models"]:
        children.append(("models: " + " -> ".join(table["models"]), []))
    label = (
        f"table {table['source']}/{table['table']}  contract {table['contract']} "
        f"{table['contract_version']} ({table['source_family']})"
    )
    return label, children


def _version_runs(table: dict[str, Any]) -> list[Node]:
    """Runs of consecutive files under one contract version: `v1 (IncidentEventV1): 18 files, landed: ...`."""
    runs: list[list[dict[str, Any]]] = []
    for file in table["file_versions"]:
        if runs and (runs[-1][0]["contract_version"], runs[-1][0]["landed"]) == (
            file["contract_version"],
            file["landed"],
        ):
            runs[-1].append(file)
        else:
            runs.append([file])
    nodes: list[Node] = []
    for run in runs:
        version = run[0]["contract_version"]
        count = f"{len(run)} file{'s' if len(run) != 1 else ''}"
        state = "landed" if run[0]["landed"] else "not landed yet (version from the header)"
        names = run[0]["file"] if len(run) == 1 else f"{run[0]['file']} .. {run[-1]['file']}"
        contract = table["contract_versions"].get(version, "?")
        nodes.append((f"{version} ({contract}): {count}, {state}: {names}", []))
    return nodes


def _metric_node(metric: dict[str, Any], role: str | None = None) -> Node:
    label = f"metric {metric['metric_id']}: {metric['title']}" + (f" [{role}]" if role else "")
    sources = [(f"source {s['source']}", [_table_node(t) for t in s["tables"]]) for s in metric["sources"]]
    return label, sources


def _priority_node(tree: dict[str, Any]) -> Node:
    label = f"{tree['level']} {tree['priority_id']}: {tree['title']}"
    children = [_metric_node(m, m["role"]) for m in tree["metrics"]]
    children += [_priority_node(c) for c in tree["children"]]
    if not children:
        children = [("no metric evidences this priority yet (a gap in the evidence)", [])]
    return label, children


def _up_label(p: dict[str, Any]) -> str:
    chain = " < ".join(p["ancestors"])
    label = f"{p['level']} {p['priority_id']}: {p['title']} [{p['role']}]"
    return label + (f"  (in {chain})" if chain else "")


def to_tree(kind: str, result: dict[str, Any]) -> Node:
    version = f"strategy {result['strategy_version']}, " + (
        "active" if result["is_active_strategy"] else "not active"
    )
    if kind == "priority":
        label, children = _priority_node(result["priority"])
        chain = " < ".join(result["ancestors"])
        return f"{label}  ({version}" + (f"; in {chain})" if chain else ")"), children
    if kind == "metric":
        label, down = _metric_node(result["metric"])
        up = [(_up_label(p), []) for p in result["priorities"]] or [("no priority in this version", [])]
        return f"{label}  ({version})", [("evidences", up), ("computed from", down)]
    tables = [_table_node(t) for t in result["tables"]]
    metrics = [
        (f"metric {m['metric_id']}: {m['title']}", [(_up_label(p), []) for p in m["priorities"]])
        for m in result["metrics"]
    ] or [("no metric depends on it", [])]
    priorities = [(f"{p['level']} {p['priority_id']}: {p['title']}", []) for p in result["priorities"]]
    return f"source {result['source']}  ({version})", [
        ("tables", tables),
        (f"metrics depending on it ({len(result['metrics'])})", metrics),
        (f"priorities depending on it ({len(result['priorities'])})", priorities or [("none", [])]),
    ]


def render_tree(node: Node) -> str:
    lines = [node[0]]

    def walk(children: list[Node], prefix: str) -> None:
        for i, (label, grandchildren) in enumerate(children):
            last = i == len(children) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{label}")
            walk(grandchildren, prefix + ("    " if last else "│   "))

    walk(node[1], "")
    return "\n".join(lines)
