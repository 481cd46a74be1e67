"""lesson_preheat and lesson_preheat_changes, run with dag.test() on the embedded warehouse.

A generated preheat day (its own day and seed, so other modules' lessons never mix in) is
written to the module's topics directory; the DAGs land it themselves. The day is planned
into more batches than ``max_map_length`` allows tasks, so batches share mapped tasks.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from warehouse_helpers import query_rows

from classpulse import orchestration, pipeline
from classpulse.config import Settings
from classpulse.preheat.changes import generate_changes
from classpulse.preheat.generator import generate
from classpulse.preheat.world import PreheatGeneratorOptions, build_world

DAY = date(2026, 3, 10)
OPTIONS = PreheatGeneratorOptions(day=DAY, seed=45, scale=0.5, max_lesson_students=1500)
MAX_BATCH_STUDENTS = 500
MAX_MAP_LENGTH = 3
CHANGE_EVENTS = 20


def current_runs(settings: Settings, lessons: list[int]) -> dict[int, int]:
    """Lesson -> the run readers see now."""
    return dict(
        query_rows(
            settings,
            "SELECT lesson_id, run_id FROM dim.lesson_current_run "
            "WHERE has({lessons:Array(UInt64)}, lesson_id)",
            lessons=lessons,
        )
    )


REPORTED: list[orchestration.TaskOutcome] = []


@pytest.fixture(scope="module")
def preheated(airflow_settings: Settings, topics: Path) -> tuple[orchestration.LocalRun, list[int]]:
    """The day generated, then one lesson_preheat run for it; the day's lessons.

    Task instances are reported as they finish into :data:`REPORTED`.
    """
    generate(OPTIONS, topics)
    lessons = sorted(
        lesson.lesson_id
        for course in build_world(OPTIONS).courses
        for lesson in course.lessons
        if lesson.lesson_date == DAY
    )
    patch = pytest.MonkeyPatch()
    patch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", str(MAX_MAP_LENGTH))
    try:
        run = orchestration.run_dag_locally(
            "lesson_preheat",
            DAY,
            conf={"max_batch_students": MAX_BATCH_STUDENTS},
            on_task=REPORTED.append,
        )
    finally:
        patch.undo()
    return run, lessons


def test_lesson_preheat_plans_maps_checks_publishes_and_reports(
    preheated: tuple[orchestration.LocalRun, list[int]], airflow_settings: Settings
) -> None:
    run, lessons = preheated
    assert run.succeeded, orchestration.describe(run)
    states = run.states()
    assert states["batch.preheat"] == ["success"] * MAX_MAP_LENGTH
    assert states["batch.check"] == ["success"] * MAX_MAP_LENGTH
    assert states["publish"] == states["report"] == ["success"]

    groups = orchestration.task_results(run, "plan")[0]
    batches = [batch for group in groups for batch in group["batches"]]
    assert len(batches) > MAX_MAP_LENGTH  # more batches than tasks: they share tasks
    assert all(
        batch["students"] <= MAX_BATCH_STUDENTS or len(batch["lessons"]) == 1 for batch in batches
    )
    assert sorted(lesson for batch in batches for lesson in batch["lessons"]) == lessons
    (run_id,) = {group["run_id"] for group in groups}

    # Each mapped task ran under the timeout derived from its own planned size.
    for group, built in zip(groups, orchestration.task_results(run, "batch.preheat"), strict=True):
        expected = orchestration.sized_timeout(group["students"], group["lessons"])
        assert built["timeout_seconds"] == expected.total_seconds()
        assert built["lessons"] == group["lessons"]

    report = orchestration.task_results(run, "report")[0]
    assert report["run_id"] == run_id and report["day"] == DAY.isoformat()
    assert report["published"] and report["built"] == report["planned"] == len(lessons)
    assert report["withheld"] == [] and report["error_lessons"] == []

    # Published: readers see every lesson of the day from this run, with members.
    assert set(current_runs(airflow_settings, lessons).values()) == {run_id}
    ((members,),) = query_rows(
        airflow_settings,
        "SELECT count() FROM dim.room_membership_current WHERE has({lessons:Array(UInt64)}, "
        "lesson_id) AND run_id = {run_id:UInt64}",
        lessons=lessons,
        run_id=run_id,
    )
    assert members == report["members"] > 0


def test_a_local_run_reports_each_task_instance_as_it_finishes(
    preheated: tuple[orchestration.LocalRun, list[int]],
) -> None:
    run, _ = preheated
    reported = [(task.task_id, task.map_index, task.state) for task in REPORTED]
    assert sorted(reported) == sorted((t.task_id, t.map_index, t.state) for t in run.tasks)
    assert reported[-1][0] == "report" and reported.index(("plan", -1, "success")) < 2


def test_change_events_re_preheat_exactly_the_touched_lessons(
    preheated: tuple[orchestration.LocalRun, list[int]], airflow_settings: Settings, topics: Path
) -> None:
    run, lessons = preheated
    (first_run,) = set(current_runs(airflow_settings, lessons).values())
    pipeline.apply_preheat_changes(airflow_settings, 100_000)  # other modules' events
    batch = generate_changes(OPTIONS, topics, 1, CHANGE_EVENTS)
    touched = sorted(batch.touched_lessons)
    assert touched and set(touched) < set(lessons)

    changes = orchestration.run_dag_locally("lesson_preheat_changes")
    assert changes.succeeded, orchestration.describe(changes)
    assert changes.states()["announce"] == ["success"]  # the asset event was emitted
    (applied,) = orchestration.task_results(changes, "apply_changes")
    assert sum(applied["events"].values()) == CHANGE_EVENTS
    assert applied["lessons"] == touched and applied["withheld"] == []

    shown = current_runs(airflow_settings, lessons)
    assert {lesson for lesson, run_id in shown.items() if run_id == applied["run_id"]} == set(
        touched
    )
    assert {run_id for lesson, run_id in shown.items() if lesson not in touched} == {first_run}

    quiet = orchestration.run_dag_locally("lesson_preheat_changes")
    assert quiet.succeeded, orchestration.describe(quiet)
    assert orchestration.task_results(quiet, "apply_changes")[0]["lessons"] == []
    assert quiet.states()["announce"] == ["skipped"]  # nothing published, no asset event
