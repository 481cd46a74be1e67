"""
### lesson_preheat_changes — re-preheat exactly the lessons intra-day changes touch

**When**: whenever change events are landed (asset `classpulse://topics/lesson_change`,
emitted by `realtime_jobs`), and every 10 minutes as a poll (production lands the change
topic from Kafka without an Airflow task, and a failed attempt is retried from the cursor).

**What**: `land` the preheat topics from Kafka (new topic files produced first, once
each) → `apply_changes`: the change events
after the last processed one (`dim.preheat_change_cursor`) name the lessons they touch
(students moved, tutors changed, lessons rescheduled or reopened); those lessons, and only
those, get a new run that is built, checked and published; every other lesson keeps its
run. The cursor moves only once that run is published → `report` (withheld lessons raise a
warning alert).

**Failures**: retried twice, then an alert (log, and `CLASSPULSE_ALERT_WEBHOOK` when set).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from classpulse.orchestration import (
    BUSINESS_TIMEZONE,
    LESSON_CHANGES,
    PREHEAT_PUBLISHED,
    dag_arguments,
)


@dag(
    dag_id="lesson_preheat_changes",
    schedule=AssetOrTimeSchedule(
        # the preheat engine's polling period for change events (the seed's default: 10 minutes),
        # and whenever realtime_jobs landed change events
        timetable=CronTriggerTimetable("*/10 * * * *", timezone=BUSINESS_TIMEZONE),
        assets=LESSON_CHANGES,
    ),
    params={"max_batch_students": Param(100_000, type="integer", minimum=1)},
    **dag_arguments(__doc__, ["preheat", "changes"], retry_delay=timedelta(minutes=2)),
)
def lesson_preheat_changes() -> None:
    @task(execution_timeout=timedelta(minutes=10))
    def land() -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings
        from classpulse.preheat.generator import PREHEAT_TOPICS

        return pipeline.load(load_settings(), only=tuple(PREHEAT_TOPICS))

    @task(execution_timeout=timedelta(minutes=30))
    def apply_changes(**context: Any) -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings

        return pipeline.apply_preheat_changes(
            load_settings(), int(context["params"]["max_batch_students"])
        )

    @task(outlets=[PREHEAT_PUBLISHED], execution_timeout=timedelta(minutes=5))
    def announce(summary: dict[str, Any], **context: Any) -> None:
        from classpulse import orchestration

        if summary["run_id"] is None:
            orchestration.skip("no change event touched a lesson: nothing was published")
        orchestration.annotate(
            context,
            PREHEAT_PUBLISHED,
            run_id=summary["run_id"],
            lessons=len(summary["lessons"]),
            withheld=summary["withheld"],
        )

    @task(execution_timeout=timedelta(minutes=5))
    def report(summary: dict[str, Any]) -> dict[str, Any]:
        from classpulse import orchestration

        if summary["withheld"] or summary["unknown_kinds"]:
            orchestration.warn(
                f"preheat changes: {len(summary['withheld'])} lesson(s) withheld, "
                f"unknown change kinds {summary['unknown_kinds']}",
                changes=summary,
            )
        return {key: summary[key] for key in ("events", "run_id", "withheld", "seconds")} | {
            "lessons": len(summary["lessons"])
        }

    applied = apply_changes()
    land() >> applied
    announce(applied)
    report(applied)


lesson_preheat_changes_dag = lesson_preheat_changes()

if __name__ == "__main__":
    lesson_preheat_changes_dag.test()
