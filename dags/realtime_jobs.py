"""
### realtime_jobs — keep the streaming pipeline running or caught up, and watch its lag

**When**: every 15 minutes.

**What**: Kafka carries every topic. `catch_up` — without a Flink cluster: topic files that
arrived in the topics directory are produced into Kafka (once per file), then the streaming
pipeline is brought to the topics' ends: when the continuous job runs (`classpulse flink run
--env kafka --continuous`) the task waits until it has caught up, otherwise the same SQL runs
bounded (latest offsets) from the pipeline group's committed offsets; a cluster
(`CLASSPULSE_FLINK_JOBMANAGER` set, the compose stack): submit the job unless it is RUNNING →
`land` every landing topic from Kafka into ClickHouse (exactly once, by offsets; the
accounting identities are checked at rest) → `check_lag`: the oldest message still waiting
(source messages the pipeline's consumer group has not read, outputs the landing group has
not landed, by their Kafka timestamps; cluster: each job's last checkpoint age) must be under
`max_lag_seconds` → `check_freshness`: each real-time mart log (`rt.*_log`) must have landed
rows within `max_age_seconds`.

**Assets**: `classpulse://topics/flink-outputs` when a catch-up read new messages;
`classpulse://topics/lesson_change` when change events were landed (triggers
`lesson_preheat_changes`).

**Failures**: retried twice, then an alert (log, and `CLASSPULSE_ALERT_WEBHOOK` when set).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, task

from classpulse.orchestration import (
    BUSINESS_TIMEZONE,
    FLINK_OUTPUTS,
    LESSON_CHANGES,
    dag_arguments,
)


@dag(
    dag_id="realtime_jobs",
    schedule=CronTriggerTimetable("*/15 * * * *", timezone=BUSINESS_TIMEZONE),
    params={
        "max_lag_seconds": Param(1800, type="integer", minimum=1),
        "max_age_seconds": Param(6 * 3600, type="integer", minimum=1),
    },
    **dag_arguments(__doc__, ["realtime", "flink"], retry_delay=timedelta(minutes=2)),
)
def realtime_jobs() -> None:
    @task(execution_timeout=timedelta(hours=1))
    def catch_up() -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings

        settings = load_settings()
        if pipeline.flink_jobmanager():
            return pipeline.submit_flink(settings)
        return pipeline.catch_up_flink(settings)

    @task(outlets=[FLINK_OUTPUTS], execution_timeout=timedelta(minutes=5))
    def announce_outputs(flink: dict[str, Any], **context: Any) -> None:
        from classpulse import orchestration

        if not (flink.get("ran") or flink.get("submitted")):
            orchestration.skip("no new source messages: the Flink outputs are unchanged")
        orchestration.annotate(context, FLINK_OUTPUTS, **flink)

    @task(execution_timeout=timedelta(hours=1))
    def land() -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings

        return pipeline.load(load_settings())

    @task(outlets=[LESSON_CHANGES], execution_timeout=timedelta(minutes=5))
    def announce_changes(landed: dict[str, Any], **context: Any) -> None:
        from classpulse import orchestration
        from classpulse.preheat.generator import CHANGE_TOPIC

        if CHANGE_TOPIC not in landed["topics_loaded"]:
            orchestration.skip("no change events landed")
        orchestration.annotate(context, LESSON_CHANGES, rows=landed["rows"])

    @task(execution_timeout=timedelta(minutes=10))
    def check_lag(**context: Any) -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings

        limit = float(context["params"]["max_lag_seconds"])
        return pipeline.check_flink_lag(load_settings(), limit)

    @task(execution_timeout=timedelta(minutes=10))
    def check_freshness(**context: Any) -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings

        limit = float(context["params"]["max_age_seconds"])
        return pipeline.check_freshness(load_settings(), limit)

    flink = catch_up()
    announce_outputs(flink)
    landed = land()
    flink >> landed
    announce_changes(landed)
    landed >> [check_lag(), check_freshness()]


realtime_jobs_dag = realtime_jobs()

if __name__ == "__main__":
    realtime_jobs_dag.test()
