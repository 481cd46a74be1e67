"""
### lesson_preheat — preheat today's lessons before class

**When**: daily at 00:00 business time (`CLASSPULSE_TIMEZONE`, Asia/Shanghai), for the day
that starts then; it must be done well before 06:00. Trigger it with `{"day": "YYYY-MM-DD"}`
to preheat another day.

**What**: `land` the preheat topics from Kafka (new preheat topic files in the topics
directory are produced into Kafka first, once each) →
`plan` the day's lessons into batches of at most `max_batch_students` enrollments and
register a run → per group of batches (dynamic task mapping, at most `[core]
max_map_length` groups) `batch.preheat` builds live rooms, organisation trees and room
membership, and `batch.check` checks them against the source → `publish` the run in one
insert (lessons whose check found errors are withheld and keep their previous run) →
`report` the run; withheld or failing lessons raise a warning alert.

**Timeouts**: each batch task's `execution_timeout` is derived from its planned size
(`classpulse.preheat.estimate_seconds`). **Failures**: retried twice, then an alert (log,
and `CLASSPULSE_ALERT_WEBHOOK` when set). Intra-day changes: `lesson_preheat_changes`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, task, task_group

from classpulse.orchestration import (
    BUSINESS_TIMEZONE,
    PREHEAT_PUBLISHED,
    dag_arguments,
    timeout_from_size,
)


@dag(
    dag_id="lesson_preheat",
    schedule=CronTriggerTimetable("0 0 * * *", timezone=BUSINESS_TIMEZONE),
    params={
        "day": Param(None, type=["null", "string"], format="date", description="YYYY-MM-DD"),
        "max_batch_students": Param(100_000, type="integer", minimum=1),
        "force": Param(False, type="boolean", description="publish lessons with errors too"),
    },
    **dag_arguments(__doc__, ["preheat", "daily"]),
)
def lesson_preheat() -> None:
    @task(execution_timeout=timedelta(minutes=30))
    def land() -> dict[str, Any]:
        from classpulse import pipeline
        from classpulse.config import load_settings
        from classpulse.preheat.generator import PREHEAT_TOPICS

        return pipeline.load(load_settings(), only=tuple(PREHEAT_TOPICS))

    @task(execution_timeout=timedelta(minutes=15))
    def plan(**context: Any) -> list[dict[str, Any]]:
        from classpulse import orchestration, pipeline
        from classpulse.config import load_settings

        settings = load_settings()
        day = orchestration.preheat_day(context, settings.timezone)
        return pipeline.plan_preheat(
            settings,
            day,
            max_batch_students=int(context["params"]["max_batch_students"]),
            max_groups=orchestration.max_map_length(),
            note=orchestration.run_label(context),
        )

    @task_group
    def batch(group: dict[str, Any]) -> Any:
        @task(pre_execute=timeout_from_size("group"))
        def preheat(group: dict[str, Any]) -> dict[str, Any]:
            from classpulse import orchestration, pipeline
            from classpulse.config import load_settings

            summary = pipeline.preheat_group(load_settings(), group)
            return {**summary, "timeout_seconds": orchestration.current_timeout_seconds()}

        @task(pre_execute=timeout_from_size("group"))
        def check(group: dict[str, Any]) -> dict[str, Any]:
            from classpulse import pipeline
            from classpulse.config import load_settings

            return pipeline.check_group(load_settings(), group)

        built = preheat(group)
        checked = check(group)
        built >> checked
        return checked

    @task(outlets=[PREHEAT_PUBLISHED], execution_timeout=timedelta(minutes=10))
    def publish(checks: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
        from classpulse import orchestration, pipeline
        from classpulse.config import load_settings

        # One mapped batch arrives as its dict, several as a sequence of dicts.
        results = [checks] if isinstance(checks, dict) else list(checks)
        (run_id,) = {check["run_id"] for check in results}
        summary = pipeline.publish_preheat(
            load_settings(), run_id, force=bool(context["params"]["force"])
        )
        orchestration.annotate(
            context,
            PREHEAT_PUBLISHED,
            run_id=run_id,
            lessons=summary["lessons"],
            withheld=summary["withheld"],
        )
        return summary

    @task(execution_timeout=timedelta(minutes=10))
    def report(publication: dict[str, Any]) -> dict[str, Any]:
        from classpulse import orchestration, pipeline
        from classpulse.config import load_settings

        summary = pipeline.report_preheat(load_settings(), publication["run_id"])
        if summary["withheld"] or summary["error_lessons"]:
            orchestration.warn(
                f"preheat run {summary['run_id']} ({summary['day']}): "
                f"{len(summary['withheld'])} lesson(s) withheld, "
                f"{len(summary['error_lessons'])} with check errors",
                run=summary,
            )
        return summary

    groups = plan()
    land() >> groups
    report(publish(batch.expand(group=groups)))


lesson_preheat_dag = lesson_preheat()

if __name__ == "__main__":
    lesson_preheat_dag.test()
