"""Files written from one source of truth, never by hand.

- `seeds/code_lists.csv` from the contracts' code lists (`contracts/domains.py`) and the deprivation
  quintile range of the audit contract: the small dimensions (staff group, specialty and treatment
  function, care setting, age band, deprivation quintile) read it.
- `dbt_project/models/marts/metrics/_metric_catalogue__docs.md` (a docs block per metric and a
  table of all of them) and `_metric_catalogue__exposures.yml` (one dbt exposure per metric, so the
  docs site shows each metric with its definition and lineage), from `seeds/metric_catalogue.csv`
  (and the count rule of `seeds/disclosure_control.csv`).

`nqs regenerate` rewrites them with every other generated file (`python -m nqs.codegen.catalogue_docs`
rewrites only these); `--check` exits 1 when any is out of date (a test runs it).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from contracts.sources import tables_for_source
from nqs.catalogue import CATALOGUE, INTERVAL_METHODS, domains, load_catalogue, load_disclosure_control
from nqs.codegen import header
from nqs.settings import REPO_ROOT

CODE_LISTS = REPO_ROOT / "seeds" / "code_lists.csv"
METRIC_MODELS_DIR = REPO_ROOT / "dbt_project" / "models" / "intermediate" / "metrics"
CATALOGUE_DOCS = REPO_ROOT / "dbt_project" / "models" / "marts" / "metrics" / "_metric_catalogue__docs.md"
CATALOGUE_EXPOSURES = CATALOGUE_DOCS.with_name("_metric_catalogue__exposures.yml")

#: Code lists the warehouse has a dimension for.
DIMENSION_DOMAINS = ("staff_group", "specialty", "care_setting", "patient_age_band", "treatment_function")
DEPRIVATION = "imd_quintile"


def _label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _deprivation_quintiles() -> range:
    """The quintile range the audit contract accepts (1 = most deprived)."""
    from contracts.audits import HipFractureEpisodeV1

    checks = HipFractureEpisodeV1.to_schema().columns[DEPRIVATION].checks
    bounds = next(c.statistics for c in checks if {"min_value", "max_value"} <= set(c.statistics))
    return range(int(bounds["min_value"]), int(bounds["max_value"]) + 1)


def _labelled(domain: str, code: str) -> tuple[str, str]:
    """A code's label and parent code: a treatment function's own name and the specialty it falls
    under (`TREATMENT_FUNCTIONS`), any other code's label from its spelling and no parent."""
    from contracts.domains import TREATMENT_FUNCTIONS

    if domain == "treatment_function":
        return TREATMENT_FUNCTIONS[code]
    return _label(code), ""


def code_lists_csv() -> str:
    from contracts.domains import DOMAINS

    rows: list[tuple[str, str, int, str, str]] = []
    for domain in DIMENSION_DOMAINS:
        rows += [
            (domain, code, i, *_labelled(domain, code)) for i, code in enumerate(DOMAINS[domain], start=1)
        ]
    quintiles = _deprivation_quintiles()
    for i, quintile in enumerate(quintiles, start=1):
        label = str(quintile)
        if quintile == quintiles[0]:
            label += " (most deprived)"
        elif quintile == quintiles[-1]:
            label += " (least deprived)"
        rows.append((DEPRIVATION, str(quintile), i, label, ""))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code_list", "code", "sort_order", "label", "parent_code"])
    writer.writerows(rows)
    return out.getvalue()


def reporting_unit(row: dict[str, str]) -> str:
    """Whose returns a metric's rows are: local authorities where its sources report by council
    (an `la_code` column), trusts otherwise."""
    tables = [table for source in row["sources"].split() for table in tables_for_source(source)]
    return "local authority" if any("la_code" in table.columns for table in tables) else "trust"


_PLURALS = {"trust": "trusts", "local authority": "local authorities"}


def _frequency(row: dict[str, str]) -> str:
    if row["reporting_frequency"] == "annual":
        return "annual (a financial year's figure, dated at its first month, April)"
    return row["reporting_frequency"]


def _metric_models(row: dict[str, str]) -> list[str]:
    """The intermediate models a metric's rows come from (one per source that has one)."""
    return [
        f"int_metrics__{source}"
        for source in row["sources"].split()
        if (METRIC_MODELS_DIR / f"int_metrics__{source}.sql").exists()
    ]


def _history_needed(row: dict[str, str]) -> str:
    """The months of source data the metric needs before its first value (`history_months_required`)."""
    months = int(row.get("history_months_required") or 1)
    if months == 1:
        return "1 month of source data"
    return f"{months} months of source data, earliest to latest, before a first value"


def _follow_up(row: dict[str, str]) -> str:
    """How long after a month its figures are complete (`follow_up_months`)."""
    months = int(row.get("follow_up_months") or 0)
    if months == 0:
        return "none: a month is complete when its records are delivered"
    return f"{months} month{'s' if months > 1 else ''} after the month ends, before it is a complete period"


def _controlled_figures(row: dict[str, str]) -> str:
    """Which figures count people or events, so are published under disclosure control."""
    counted = [
        figure
        for figure in ("numerator", "denominator")
        if row.get(f"is_{figure}_count", "").strip().lower() == "true"
    ]
    if not counted:
        return "none counts people or events; published as computed"
    return " and ".join(counted) + f" (counts: {load_disclosure_control().summary()})"


def _docs_block(row: dict[str, str]) -> str:
    unit = row["unit"]
    multiplier = (
        f" (numerator / denominator x {row['unit_multiplier']})" if row["unit_multiplier"] != "1" else ""
    )
    facts = [
        ("Domains", ", ".join(domains(row))),
        ("Unit", f"{unit}{multiplier}"),
        (
            "Better when",
            {"increase": "higher", "decrease": "lower"}.get(row["improvement_direction"], "neither"),
        ),
        ("Numerator", row["numerator_definition"]),
        ("Denominator", row["denominator_definition"]),
        ("Published from a denominator of", row["min_denominator"]),
        ("History needed", _history_needed(row)),
        ("Follow-up", _follow_up(row)),
        ("Disclosure control of", _controlled_figures(row)),
        ("Target", row["target"] or "none"),
        ("Red line", row["red_line"] or "none"),
        ("Confidence interval", INTERVAL_METHODS.get(unit, "none")),
        ("Sources", ", ".join(row["sources"].split())),
        ("Computed in", ", ".join(f"`{m}`" for m in _metric_models(row)) + ", then `metric_values`"),
        ("Reported", f"{_frequency(row)}, by {reporting_unit(row)}, ICB, region and England"),
    ]
    if row["funnel_type"] != "none":
        facts.append(("Funnel plots compare", _PLURALS[reporting_unit(row)]))
    if row.get("base_metric_id"):
        facts.insert(1, ("Gap in", f"`{row['base_metric_id']}`, quintile 1 minus quintile 5"))
    table = "\n".join(f"| {k} | {v} |" for k, v in facts)
    return (
        f"{{% docs metric__{row['metric_id']} %}}\n"
        f"**{row['title']}** (`{row['metric_id']}`, version {row['version']}, from {row['valid_from']})\n\n"
        f"{row['description']}\n\n| | |\n| --- | --- |\n{table}\n"
        "{% enddocs %}\n"
    )


def catalogue_docs(rows: list[dict[str, str]]) -> str:
    lines = [f"{{# {header('seeds/metric_catalogue.csv')} #}}\n"]
    lines += [_docs_block(row) for row in rows]
    table = "\n".join(
        f"| `{r['metric_id']}` | {r['title']} | {r['unit']} | {r['improvement_direction']} |" for r in rows
    )
    lines.append(
        "{% docs metric_catalogue_table %}\n"
        "| metric_id | title | unit | improvement direction |\n| --- | --- | --- | --- |\n"
        f"{table}\n{{% enddocs %}}\n"
    )
    return "\n".join(lines)


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def catalogue_exposures(rows: list[dict[str, str]]) -> str:
    out = [f"# {header('seeds/metric_catalogue.csv')}", "exposures:"]
    for row in rows:
        depends = ["metric_values", *_metric_models(row)]
        if row["unit"] == "gap":
            depends.insert(1, "metric_values_by_deprivation")
        out += [
            f"  - name: {row['metric_id']}",
            f"    label: {_yaml_string(row['title'])}",
            "    type: analysis",
            "    maturity: high",
            f"    description: \"{{{{ doc('metric__{row['metric_id']}') }}}}\"",
            "    owner:",
            "      name: National quality metric catalogue",
            "    depends_on:",
            *[f"      - ref('{model}')" for model in depends],
            "    config:",
            "      meta:",
            f"        unit: {row['unit']}",
            f"        improvement_direction: {row['improvement_direction']}",
            f"        domains: {_yaml_string(' '.join(domains(row)))}",
        ]
    return "\n".join(out) + "\n"


def generated_files() -> dict[Path, str]:
    rows = load_catalogue(CATALOGUE)
    return {
        CODE_LISTS: code_lists_csv(),
        CATALOGUE_DOCS: catalogue_docs(rows),
        CATALOGUE_EXPOSURES: catalogue_exposures(rows),
    }


def main(argv: list[str] | None = None) -> int:
    """The catalogue part of `nqs regenerate`, kept as its own command."""
    from nqs.codegen import run_generators

    parser = argparse.ArgumentParser(
        prog="python -m nqs.codegen.catalogue_docs", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is out of date")
    args = parser.parse_args(argv)
    return run_generators(["catalogue-docs"], check=args.check)


if __name__ == "__main__":
    sys.exit(main())
