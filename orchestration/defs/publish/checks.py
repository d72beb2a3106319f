"""A build in which any file was refused as a whole fails, once everything that could be built was.

A critical contract failure skips the refused table's accepted rows and everything built on them,
publishing included, but a skipped step is not a failed one: this check, on the data-quality mart
that records the failure, turns it into a failed run with a one-line message per refused file.
"""

import dagster as dg

from nqs.engines import open_build
from nqs.settings import get_settings
from orchestration.lib.warehouse import BUILD_DB_TAGS

DATA_QUALITY_RESULTS = dg.AssetKey(["marts", "data_quality_results"])
NO_CRITICAL_FAILURES = "no_critical_failures"


def critical_failures() -> list[str]:
    """One line per file refused as a whole in the latest landing: source, file, column and check.

    A refused file is a check result flagged `is_critical_failure`, dbt's one application of the rule
    in seeds/critical_failure_rule.csv (the rule `nqs.coverage.contract_health` applies too).
    """
    with open_build(get_settings()) as db:
        rows = db.rows(
            """
            select source, table_name, source_file, column_name, check_name
            from marts.data_quality_results
            where is_critical_failure
            order by source, table_name, source_file
            """
        )
    return [
        f"{source}/{table}: {source_file} refused, column '{column}' ({check})"
        for source, table, source_file, column, check in rows
    ]


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            NO_CRITICAL_FAILURES,
            asset=DATA_QUALITY_RESULTS,
            description="No file of the latest landing failed as a whole. When one did, its source's "
            "models and everything built on them were skipped and the run fails, so the previously "
            "published warehouse stays in place.",
        )
    ],
    op_tags=BUILD_DB_TAGS,
)
def no_critical_failures(context: dg.AssetCheckExecutionContext):
    failures = critical_failures()
    yield dg.AssetCheckResult(
        check_name=NO_CRITICAL_FAILURES,
        asset_key=DATA_QUALITY_RESULTS,
        passed=not failures,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"files_refused": len(failures), "refused": "\n".join(failures)},
    )
    if failures:
        for failure in failures:
            context.log.error(failure)
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise dg.Failure(description=failures[0] + more, metadata={"refused": "\n".join(failures)})
