"""
### offline_rollup — the offline warehouse for one business day

**When**: daily; each run covers one business day [D 00:00, D+1 00:00) in business time
(`CLASSPULSE_TIMEZONE`) and starts when the day is over. Backfill day D with
`airflow backfill create --dag-id offline_rollup --from-date D --to-date D`; a manual run
builds the last complete day before it was triggered, or the day in `{"day": "YYYY-MM-DD"}`.

**What**: `land` every landing topic from Kafka (exactly once in effect; the accounting by
offsets is checked once everything is landed) → `build_ods` → `build_dwd` →
`build_dws` → `build_rt` → `build_ads` (dbt build with `run_date=D`: models and their tests,
layer by layer; daily models replace only day D's partitions) → `quality_gate` (the Great
Expectations suites of ods and ads; reconciliation is `data_quality`'s) → `publish`: one row
per day in `ads.publication_log` (build and gate figures, a fingerprint of the ads tables)
and the asset `classpulse://warehouse/ads`, which triggers `data_quality`.

**Idempotent per logical date**: landing is exactly-once, dbt replaces the day's partitions,
the log row is replaced: a re-run or a backfill of a day gives identical marts.

**Failures**: retried twice, then an alert (log, and `CLASSPULSE_ALERT_WEBHOOK` when set).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, Param, chain, dag, task

from classpulse.orchestration import (
    ADS_PUBLISHED,
    BUSINESS_TIMEZONE,
    dag_arguments,
)

LAYERS = ("ods", "dwd", "dws", "rt", "ads")
GATE_LAYERS = ("ods", "ads")
GATE_EXCLUDES = ("ads/rt_vs_offline_reconciliation",)


@dag(
    dag_id="offline_rollup",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=BUSINESS_TIMEZONE),
    params={"day": Param(None, type=["null", "string"], format="date", description="YYYY-MM-DD")},
    **dag_arguments(__doc__, ["offline", "dbt", "daily"]),
)
def offline_rollup() -> None:
    @task(execution_timeout=timedelta(hours=1))
    def land() -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings

        return pipeline.load(load_settings())

    @task(execution_timeout=timedelta(hours=1))
    def build(layer: str, **context: Any) -> dict[str, Any]:
        from classpulse import orchestration, pipeline
        from classpulse.config import load_settings

        settings = load_settings()
        day = orchestration.rollup_day(context, settings.timezone)
        return pipeline.build(settings, run_date=day.isoformat(), layers=(layer,))

    @task(execution_timeout=timedelta(minutes=30))
    def quality_gate() -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings

        return pipeline.quality(load_settings(), layers=GATE_LAYERS, exclude=GATE_EXCLUDES)

    @task(outlets=[ADS_PUBLISHED], execution_timeout=timedelta(minutes=10))
    def publish(
        builds: list[dict[str, Any]], gate: dict[str, Any], **context: Any
    ) -> dict[str, Any]:
        from classpulse import orchestration, pipeline
        from classpulse.config import load_settings

        settings = load_settings()
        day = orchestration.rollup_day(context, settings.timezone)
        totals = {key: sum(item[key] for item in builds) for key in ("models", "tests")}
        summary = pipeline.publish_day(
            settings, day, orchestration.run_label(context), totals, gate
        )
        orchestration.annotate(
            context, ADS_PUBLISHED, day=summary["day"], fingerprint=summary["fingerprint"]
        )
        return summary

    builds = [build.override(task_id=f"build_{layer}")(layer) for layer in LAYERS]
    gate = quality_gate()
    chain(land(), *builds, gate)
    publish(builds, gate)


offline_rollup_dag = offline_rollup()

if __name__ == "__main__":
    offline_rollup_dag.test()
