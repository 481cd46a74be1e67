"""The main job on the embedded default: a day of classes from signals to the analyst report.

The demo starts the embedded warehouse and a local Kafka broker (``classpulse kafka start``;
or uses the cluster CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS names), generates the day's signals
as topic files and produces them into Kafka, then runs the same code Airflow runs: the
project's DAGs with ``dag.test()`` (:func:`classpulse.orchestration.run_dag_locally`):
``realtime_jobs`` (the streaming pipeline up to the topics' ends, landing, lag),
``lesson_preheat``, ``offline_rollup`` (land, dbt, quality gate, publish) and
``data_quality``; then it writes the report.

A new run (other parameters, or ``--fresh``) starts from empty local topics and landing
tables (:func:`classpulse.pipeline.start_from_empty_topics`), so the day is the only one in
the real-time path. Every stage is idempotent, and the demo records the stages it finished
for a given set of parameters in ``<CLASSPULSE_HOME>/demo/state.json``: a run that stopped
half-way resumes from the stage that did not finish, without duplicating data (``--fresh``
starts over).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from classpulse.config import Settings

STAGES = (
    "warehouse",
    "kafka",
    "empty_topics",
    "generate",
    "produce",
    "realtime_jobs",
    "lesson_preheat",
    "offline_rollup",
    "data_quality",
    "report",
)


@dataclass
class DemoState:
    path: Path
    params: dict[str, Any]
    done: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, params: dict[str, Any], fresh: bool) -> DemoState:
        path = settings.home / "demo" / "state.json"
        if not fresh and path.is_file():
            saved = json.loads(path.read_text())
            if saved.get("params") == params:
                return cls(path, params, saved.get("done", {}))
        return cls(path, params)

    def record(self, stage: str, summary: dict[str, Any]) -> None:
        self.done[stage] = summary
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(
            json.dumps({"params": self.params, "done": self.done}, indent=2, default=str)
        )
        temporary.replace(self.path)


class DemoError(RuntimeError):
    pass


def run_demo(
    settings: Settings,
    day: date,
    scale: float,
    seed: int,
    fresh: bool = False,
    on_stage: Callable[[str, str, dict[str, Any] | None], None] | None = None,
    on_task: Callable[[Any], None] | None = None,
) -> DemoState:
    """Run (or resume) every stage; ``on_stage(stage, status, summary)`` reports progress."""
    from classpulse import pipeline

    params = {
        "day": day.isoformat(),
        "scale": scale,
        "seed": seed,
        "topics": str(settings.topics_dir),
    }
    state = DemoState.open(settings, params, fresh)

    def stage(name: str, action: Callable[[], dict[str, Any]]) -> None:
        if name in state.done and name not in ("warehouse", "kafka"):
            if on_stage:
                on_stage(name, "skipped (done earlier)", state.done[name])
            return
        if on_stage:
            on_stage(name, "running", None)
        started = time.perf_counter()
        summary = action()
        summary.setdefault("seconds", round(time.perf_counter() - started, 1))
        state.record(name, summary)
        if on_stage:
            on_stage(name, "done", summary)

    stage("warehouse", lambda: pipeline.ensure_warehouse(settings))
    stage("kafka", lambda: pipeline.ensure_kafka(settings))
    # a new run (not a resumed one): the day alone in the local topics and landing tables,
    # as its files replaced the previous day's (a bounded run's accounting covers its day)
    stage("empty_topics", lambda: pipeline.start_from_empty_topics(settings))
    stage("generate", lambda: pipeline.generate(settings, day, scale=scale, seed=seed))
    stage("produce", lambda: pipeline.produce(settings))
    stage("realtime_jobs", lambda: _dag(settings, "realtime_jobs", None, {}, on_task))
    stage(
        "lesson_preheat",
        lambda: _dag(settings, "lesson_preheat", day, {"day": day.isoformat()}, on_task),
    )
    stage(
        "offline_rollup",
        lambda: _dag(settings, "offline_rollup", day, {"day": day.isoformat()}, on_task),
    )
    stage("data_quality", lambda: _dag(settings, "data_quality", None, {}, on_task))
    stage("report", lambda: _report(settings, day))
    return state


def _dag(
    settings: Settings, dag_id: str, logical: date | None, conf: dict[str, Any], on_task
) -> dict[str, Any]:
    from classpulse.orchestration import run_dag_locally

    run = run_dag_locally(
        dag_id, logical_date=logical, conf=conf, on_task=on_task, settings=settings
    )
    failed = [task.task_id for task in run.tasks if task.state not in ("success", "skipped")]
    if not run.succeeded:
        raise DemoError(
            f"[stage: {dag_id}] the DAG run ended {run.state}; failed tasks: {', '.join(failed) or '?'}\n"
            f"  what to do: read the task log above (or var/airflow/logs), fix, and re-run "
            f"`make demo` — finished stages are not repeated"
        )
    return {"dag": dag_id, "tasks": len(run.tasks), "seconds": round(run.seconds, 1)}


def _report(settings: Settings, day: date) -> dict[str, Any]:
    from classpulse.quality import run_quality
    from classpulse.report import write_report

    # The verdict the page shows: the suites over the published marts, as they are now.
    quality = run_quality(settings, build_docs=False)
    path = write_report(settings, settings.home / "report" / "index.html", day, quality=quality)
    return {
        "path": str(path),
        "quality_passed": quality.success,
        "quality_failed": [result.suite for result in quality.failed],
    }


def collect_summary(settings: Settings) -> dict[str, Any]:
    """What landed and what was rejected, straight from the warehouse."""
    from classpulse.warehouse import get_client

    client = get_client(settings)
    accounting = client.query(
        "SELECT topic, messages_read, accepted, rejected FROM ods.topic_accounting ORDER BY topic"
    ).result_rows
    reasons = client.query(
        "SELECT toString(reason), count() FROM ods.rejected_messages GROUP BY reason ORDER BY reason"
    ).result_rows
    late = client.query(
        "SELECT toString(mart), count() FROM ods.late_events GROUP BY mart ORDER BY mart"
    ).result_rows
    marts = {}
    for database in ("rt", "ads"):
        for mart in (
            "classroom_performance_1min",
            "av_quality_30s",
            "recorded_course_enter_time",
            "registrations_hourly_by_level",
            "cc_daily_tracking",
        ):
            marts[f"{database}.{mart}"] = client.query(
                f"SELECT count() FROM {database}.{mart}"
            ).result_rows[0][0]
    reconciliation = client.query(
        "SELECT countIf(status = 'ok'), count() FROM ads.rt_vs_offline_reconciliation"
    ).result_rows[0]
    return {
        "accounting": accounting,
        "rejected_by_reason": reasons,
        "late_by_mart": late,
        "mart_rows": marts,
        "reconciliation_ok": reconciliation,
    }
