"""A monthly refresh after the national collections land; off until an operator turns it on."""

import dagster as dg

from orchestration.lib.warehouse import WRITES_WAREHOUSE_TAGS

refresh_everything = dg.define_asset_job(
    "refresh_warehouse", selection=dg.AssetSelection.all(), tags=WRITES_WAREHOUSE_TAGS
)

monthly_refresh = dg.ScheduleDefinition(
    name="monthly_refresh",
    job=refresh_everything,
    cron_schedule="0 6 20 * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Rebuild the warehouse on the 20th of each month, once the month's collections have landed.",
)
