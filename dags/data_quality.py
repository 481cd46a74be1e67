"""
### data_quality — quality suites on the real-time marts and reconciliation

**When**: hourly, and whenever an offline day is published (asset
`classpulse://warehouse/ads` from `offline_rollup`).

**What**: `reconcile` rebuilds the rt views and `ads.rt_vs_offline_reconciliation` (dbt, with
its tests) from what is landed now → `suites` runs, in one Great Expectations checkpoint,
the suites of the real-time marts (`expectations/rt/`) and of the reconciliation: real-time
and offline must agree per mart and day up to the events the real-time windows dropped as
late. Data Docs: `<CLASSPULSE_HOME>/gx/data_docs/index.html`.

**Failures**: a failing suite fails the task: retried twice, then an alert (log, and
`CLASSPULSE_ALERT_WEBHOOK` when set).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from classpulse.orchestration import (
    ADS_PUBLISHED,
    BUSINESS_TIMEZONE,
    dag_arguments,
)

RECONCILIATION_SUITES = ("ads/rt_vs_offline_reconciliation",)


@dag(
    dag_id="data_quality",
    schedule=AssetOrTimeSchedule(
        # hourly, and whenever offline_rollup publishes a day
        timetable=CronTriggerTimetable("0 * * * *", timezone=BUSINESS_TIMEZONE),
        assets=ADS_PUBLISHED,
    ),
    **dag_arguments(__doc__, ["quality", "hourly"], retry_delay=timedelta(minutes=10)),
)
def data_quality() -> None:
    @task(execution_timeout=timedelta(minutes=30))
    def reconcile() -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings

        return pipeline.build_reconciliation(load_settings())

    @task(execution_timeout=timedelta(minutes=30))
    def suites() -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings

        return pipeline.quality(load_settings(), layers=("rt",), names=RECONCILIATION_SUITES)

    reconcile() >> suites()


data_quality_dag = data_quality()

if __name__ == "__main__":
    data_quality_dag.test()
