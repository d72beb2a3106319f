"""`nqs build`: one real Dagster run of every asset, then a summary a person can act on."""

from __future__ import annotations

import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field

from contracts.sources import SOURCES_MANIFEST
from nqs.coverage import INSUFFICIENT_HISTORY
from nqs.engines import open_build
from nqs.landing.pseudonymise import MissingPseudonymKey
from nqs.settings import Settings, get_settings

JOB = "refresh_warehouse"
#: Names of the contract check on every landed table and of the check failing a run with refused files.
CONTRACT_CHECK = "contract"
NO_CRITICAL_FAILURES = "no_critical_failures"
DATA_QUALITY_RESULTS = ("marts", "data_quality_results")
CATEGORIES = ("conformance", "completeness", "plausibility")


def _use_instance(settings: Settings):
    """The persistent Dagster instance under the data folder, so `nqs ui` shows every build."""
    from dagster import DagsterInstance

    from nqs.cli.instance import use_dagster_home

    use_dagster_home(settings.dagster_home)
    return DagsterInstance.get()


def _has_no_sources(settings: Settings) -> bool:
    """Neither a generated sample (its manifest) nor any delivered file: the sample is generated."""
    sources = settings.sources_dir
    if (sources / SOURCES_MANIFEST).exists():
        return False
    return not sources.is_dir() or not any(path.is_file() for path in sources.rglob("*"))


def build_warehouse(
    *, scale: float, seed: int, months: int, regenerate: bool, full_refresh: bool = False
) -> int:
    """Generate the sample if needed, land and build what changed since the last successful build.

    Sources delivered without a manifest are never generated over; without NQS_PSEUDONYM_KEY only
    synthetic sources are built, and any others are refused (exit 1) before a file is landed. Which
    files are new, changed or removed is decided by content hash against the landing ledger
    (`orchestration.lib.changes`): when none is and no full refresh is due, nothing runs (exit 0).
    Otherwise one Dagster run lands the changed files (every file with `full_refresh`, the first
    build, or changed contracts or organisations reference) over the range of months they cover,
    and dbt rebuilds what they touch (everything with `--full-refresh`). A successful run records
    what it built, so the months of a failed one stay pending for the next build.
    """
    settings = get_settings()
    if regenerate or _has_no_sources(settings):
        from nqs.generate import generate_sources

        print(f"generating sample sources (scale {scale}, seed {seed}) in {settings.sources_dir}")
        generate_sources(settings.sources_dir, scale=scale, seed=seed, months=months)
    try:
        settings.landing_key()
    except MissingPseudonymKey as refused:
        print(f"nqs build: error: {refused}", file=sys.stderr)
        return 1

    from orchestration.lib.changes import plan_build, record_successful_build

    plan = plan_build(settings, full_refresh=full_refresh)
    if plan.nothing_changed:
        print(
            "nothing changed since the last successful build: no source file is new, changed or "
            "removed, so nothing was landed or built (`nqs build --full-refresh` rebuilds everything; "
            "`nqs summary` shows the last build)"
        )
        return 0
    instance = _use_instance(settings)

    from orchestration.definitions import defs
    from orchestration.defs.ingest.landing import landing_run_config, partition_range_tags
    from orchestration.defs.transform.dbt import dbt_run_config

    months_to_land = plan.months | (_landed_months(settings) if plan.reland else set())
    tags = partition_range_tags(months_to_land)
    _print_plan(plan, tags)
    job = defs.resolve_job_def(JOB)
    log_path = settings.data_dir / "build" / "last_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"the run's console log goes to {log_path}")
    run_config = {
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
        "ops": {
            **landing_run_config(full_refresh=plan.reland),
            **dbt_run_config(full_refresh=plan.full_refresh, changed_months=plan.months),
        },
    }
    with log_path.open("w") as log, redirect_stdout(log), redirect_stderr(log):
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config, tags=tags
        )
    if result.success:
        record_successful_build(settings, plan.fingerprints)
    from orchestration.lib.openlineage import emit_run

    lineage_path, events = emit_run(instance, result.run_id, defs.resolve_asset_graph(), settings)
    print(f"wrote {events} OpenLineage events to {lineage_path}")
    return print_summary(run_id=result.run_id)


def _landed_months(settings: Settings) -> set[str | None]:
    """Every month a delivered or landed file covers: what a full refresh lands again."""
    from contracts.sources import SOURCE_TABLES
    from nqs.landing.paths import delivered_files, file_month, is_monthly
    from orchestration.lib.changes import landed_months

    months: set[str | None] = set(landed_months(settings))
    for table in SOURCE_TABLES:
        if is_monthly(table):  # organisations: one file, no month, not partitioned
            months |= {file_month(p) for p in delivered_files(table, settings.sources_dir)}
    return months


def _print_plan(plan, tags: dict[str, str]) -> None:
    """One line on what this build lands and rebuilds, and why."""
    span = (
        f"months {tags['dagster/asset_partition_range_start']} to {tags['dagster/asset_partition_range_end']}"
        if tags
        else "every month"
    )
    files = sum(len(f) for f in plan.pending.values())
    if plan.full_refresh:
        landing = (
            "landing every file again" if plan.reland else f"landing {files} new, changed or removed files"
        )
        print(f"full refresh ({plan.full_refresh_reason}): {landing} ({span}) and rebuilding every model")
        return
    tables = ", ".join(sorted(plan.pending))
    print(
        f"{files} source files new, changed or removed ({tables}): landing them ({span}) and rebuilding "
        "what depends on them"
    )


@dataclass
class RunSummary:
    status: str
    #: source/table -> the contract check's metadata (files, rows read, accepted, quarantined)
    loads: dict[str, dict] = field(default_factory=dict)
    #: group -> [(check name, outcome)], outcome one of passed, warning, failed
    checks: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    priorities: dict[str, str] = field(default_factory=dict)
    #: priority -> why it is at risk (a failed contract_health check)
    at_risk: dict[str, str] = field(default_factory=dict)
    #: metric -> the months of history it needs and has, when it has fewer than it needs
    insufficient_history: dict[str, str] = field(default_factory=dict)
    #: one line per file refused as a whole, as landing worded it
    refused: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    materialized: set[tuple[str, ...]] = field(default_factory=set)


def _read_run(run_id: str | None) -> RunSummary | None:
    from dagster import DagsterEventType

    instance = _use_instance(get_settings())
    if run_id is None:
        runs = instance.get_runs(limit=1)
        if not runs:
            return None
        run_id = runs[0].run_id
    run = instance.get_run_by_id(run_id)
    summary = RunSummary(status=run.status.value)
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            path = materialization.asset_key.path
            summary.materialized.add(tuple(path))
            if path[0] == "priorities":
                metadata = {k: v.value for k, v in materialization.metadata.items()}
                summary.priorities[path[1]] = metadata.get("coverage_status", "?")
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            group = _check_group(evaluation.asset_key.path, evaluation.check_name)
            outcome = _outcome(evaluation)
            if evaluation.check_name == "contract_health" and not evaluation.passed:
                summary.at_risk[evaluation.asset_key.path[-1]] = evaluation.description or "at risk"
            if evaluation.asset_key.path[0] == "metrics":
                shortfall = evaluation.metadata.get(INSUFFICIENT_HISTORY)
                if shortfall is not None and shortfall.value != "none":
                    summary.insufficient_history[evaluation.asset_key.path[-1]] = shortfall.value
            summary.checks.setdefault(group, []).append((evaluation.check_name, outcome))
            if evaluation.check_name == CONTRACT_CHECK:
                metadata = {k: v.value for k, v in evaluation.metadata.items()}
                summary.loads["/".join(evaluation.asset_key.path[1:])] = metadata
                summary.refused += [line for line in metadata.get("critical_errors", "").splitlines() if line]
        elif event.event_type == DagsterEventType.STEP_FAILURE and event.step_key == NO_CRITICAL_FAILURES:
            continue  # restates the refused files, printed as landing worded them
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:  # the root cause, not Dagster's wrapper
                error = error.cause
            message = (error.message if error else "failed").strip().splitlines()[0]
            summary.failures.append(f"{event.step_key}: {message}")
    return summary


def _outcome(evaluation) -> str:
    from dagster import AssetCheckSeverity

    if evaluation.passed:
        return "passed"
    return "warning" if evaluation.severity == AssetCheckSeverity.WARN else "failed"


def _check_group(path: list[str], check_name: str) -> str:
    if path[0] == "landed":
        return {CONTRACT_CHECK: "contracts", "freshness": "freshness"}.get(check_name, "reconciliation")
    if check_name == NO_CRITICAL_FAILURES:
        return "contracts"
    if path[0] in ("metrics", "priorities"):
        return path[0]
    return "dbt tests"


def _print_data_quality(settings: Settings) -> None:
    """Checks run and checks failed by category, per source, from marts.data_quality_results."""
    failed = ", ".join(
        f"count(case when category = '{c}' and status = 'failed' then 1 end)" for c in CATEGORIES
    )
    with open_build(settings) as db:
        rows = db.rows(
            f"""
            select source, count(*), count(case when status = 'failed' then 1 end), {failed}
            from marts.data_quality_results
            group by source
            order by source
            """  # noqa: S608 - fixed category names
        )
    print(f"\nData quality (checks run / failed: {' / '.join(CATEGORIES)}; see marts.data_quality_results):")
    for source, run, failed_total, *by_category in rows:
        counts = " / ".join(f"{n:>4}" for n in by_category)
        print(f"  {source:32} {run:>7,} run {failed_total:>5,} failed: {counts}")


def _print_other_versions(settings: Settings, order: dict[str, int]) -> None:
    """Coverage of each strategy version other than the active one (a draft), from marts.priority_coverage."""
    with open_build(settings) as db:
        rows = db.rows(
            """
            select strategy_version, coverage_status, count(*)
            from marts.priority_coverage
            where not is_active_strategy
            group by strategy_version, coverage_status
            """
        )
    versions: dict[str, dict[str, int]] = {}
    for version, status, count in rows:
        versions.setdefault(version, {})[status] = count
    for version, counts in sorted(versions.items()):
        ranked = sorted(counts.items(), key=lambda c: (order.get(c[0], len(order)), c[0]))
        listed = ", ".join(f"{n} {s}" for s, n in ranked)
        print(f"  {version} (not active, {sum(counts.values())}): {listed}")


def _print_release(settings: Settings, *, built: bool) -> None:
    """The release BI tools read now, its files, and what it holds."""
    from nqs.releases import current_release

    release_id = current_release(settings.releases_dir)
    if release_id is None:
        if not built:
            print("\nThe build did not finish and no release has been published yet.")
        return
    with settings.connect(settings.published_db, read_only=True) as db:
        metrics, families, rows = db.execute(
            """
            select count(distinct v.metric_id), count(distinct c.source_family), count(*)
            from published.metric_values as v
            inner join published.metric_catalogue as c on v.metric_id = c.metric_id
            """
        ).fetchone()
    if not built:
        print("\nThe build did not finish, so the previously published warehouse was kept:")
    release = settings.releases_dir / release_id
    print(f"\nMetrics built: {metrics} across {families} source families ({rows:,} metric values).")
    print(f"Release {release_id} (current): {release}")
    print(f"  Warehouse: {settings.published_db}  (schema `published`; open it read-only)")
    print(f"  Internal:  {release / 'internal.duckdb'}  (schema `unrounded`: not disclosure-controlled)")
    print(f"  Exports:   {release / 'exports'}  (Parquet, CSV, data dictionary, SHA256SUMS)")
    print(f"  Report:    {release / 'report' / 'board_report.html'}  (the board report)")


def print_summary(run_id: str | None = None) -> int:
    """Print what the last build did and what the published warehouse holds; 0 if the run succeeded."""
    settings = get_settings()
    summary = _read_run(run_id)
    if summary is None:
        print("no build has run yet: try `make run`")
        return 1
    print(f"\nBuild {summary.status.lower()}.")
    if summary.loads:
        print("\nSources (rows read / accepted / quarantined):")
        for name, m in sorted(summary.loads.items()):
            refused = "  REFUSED" if m.get("critical_errors") else ""
            print(
                f"  {name:32} {m.get('rows_read', 0):>10,} {m.get('rows_accepted', 0):>10,} "
                f"{m.get('rows_quarantined', 0):>8,}{refused}"
            )
    if DATA_QUALITY_RESULTS in summary.materialized:
        _print_data_quality(settings)
    print("\nChecks:")
    for group, results in sorted(summary.checks.items()):
        counts = {o: sum(outcome == o for _, outcome in results) for o in ("passed", "warning", "failed")}
        passed, warned, failed = counts["passed"], counts["warning"], counts["failed"]
        print(f"  {group:16} {passed:>4} passed {warned:>4} warnings {failed:>4} failed")
    if any(outcome == "warning" for _, outcome in summary.checks.get("contracts", [])):
        print("  (a contract warning means rows were quarantined: see marts.quarantined_rows)")
    if summary.priorities:
        from nqs.coverage import coverage_statuses

        # in the order of seeds/coverage_statuses.csv, then any status it does not list
        order = {s.coverage_status: s.precedence for s in coverage_statuses()}
        counts: dict[str, int] = {}
        for status in summary.priorities.values():
            counts[status] = counts.get(status, 0) + 1
        print(
            f"\nPriorities ({len(summary.priorities)}): "
            + ", ".join(
                f"{n} {s}"
                for s, n in sorted(counts.items(), key=lambda c: (order.get(c[0], len(order)), c[0]))
            )
        )
        _print_other_versions(settings, order)
    if summary.at_risk:
        print(f"\nPriorities at risk ({len(summary.at_risk)}): a source behind their metrics failed")
        for priority_id, reason in sorted(summary.at_risk.items()):
            print(f"  {priority_id}: {reason}")
    if summary.insufficient_history:
        print(
            f"\nInsufficient history ({len(summary.insufficient_history)} metrics): reported, not failed; "
            "they get values once enough months are delivered (see marts.priority_coverage)"
        )
        for _, shortfall in sorted(summary.insufficient_history.items()):
            print(f"  WARNING {shortfall}")
    for failure in [*summary.refused, *summary.failures]:
        print(f"\nFAILED {failure}")

    _print_release(settings, built=summary.status == "SUCCESS")
    print(f"Dagster UI on these runs: `make ui`, then open http://127.0.0.1:3000 ({settings.dagster_home})")
    return 0 if summary.status == "SUCCESS" else 1
