"""Intra-day changes re-preheat exactly the lessons they touch; the rest keep their run."""

from __future__ import annotations

from datetime import date

import pytest
from preheat_world import PreheatWorld, execute, land_module_world, land_preheat_topics, rows

from classpulse.preheat import apply_changes, run_preheat
from classpulse.preheat.changes import apply_change_batch, generate_changes
from classpulse.preheat.world import World

DAY = date(2026, 3, 5)
EVENTS = 25


@pytest.fixture(scope="module")
def preheated(warehouse, kafka_broker, tmp_path_factory) -> tuple[PreheatWorld, int]:
    # The session's warehouse is shared: other packages (the DAG tests) may have processed
    # change events of a later simulated day, whose ids sort after this module's. Start
    # from an empty change history so the cursor is this module's own.
    for table in ("dim.preheat_change_cursor", "ods.lesson_change"):
        execute(warehouse, f"TRUNCATE TABLE IF EXISTS {table}")
    world = land_module_world(warehouse, kafka_broker, tmp_path_factory, DAY, seed=21)
    first_run = run_preheat(world.settings, DAY).run_id
    # Events other modules left unprocessed are not this module's business.
    apply_changes(world.settings)
    return world, first_run


@pytest.fixture(scope="module")
def world(preheated) -> PreheatWorld:
    return preheated[0]


def current_runs(world: PreheatWorld) -> dict[int, int]:
    return dict(
        rows(
            world.settings,
            "SELECT lesson_id, run_id FROM dim.lesson_current_run "
            "WHERE has({lessons:Array(UInt64)}, lesson_id)",
            lessons=world.lesson_ids(),
        )
    )


def land_change_batch(world: PreheatWorld, batch_no: int):
    """Write and land change batch ``batch_no``; move the oracle to the state it announces."""
    batch = generate_changes(world.options, world.settings.topics_dir, batch_no, EVENTS)
    land_preheat_topics(world.settings)
    apply_change_batch(World(world.courses), world.options, batch_no, EVENTS)
    return batch


def assert_views_match_the_oracle(world: PreheatWorld) -> None:
    shown: dict[int, dict[int, tuple[int, int]]] = {lesson: {} for lesson in world.lesson_ids()}
    for lesson, student, tutor, class_id in rows(
        world.settings,
        "SELECT lesson_id, student_id, tutor_id, class_id FROM dim.lesson_student_current "
        "WHERE has({lessons:Array(UInt64)}, lesson_id)",
        lessons=world.lesson_ids(),
    ):
        shown[lesson][student] = (tutor, class_id)
    for lesson in world.lesson_ids():
        assert shown[lesson] == world.placements(lesson), lesson


def test_changes_re_preheat_exactly_the_touched_lessons(preheated) -> None:
    world, first_run = preheated
    assert set(current_runs(world).values()) == {first_run}
    batch = land_change_batch(world, 1)
    assert batch.kinds["student_moved"] and batch.kinds["tutor_changed"]
    assert batch.kinds["lesson_rescheduled"] + batch.kinds["lesson_reopened"]
    result = apply_changes(world.settings)
    assert sum(result.events.values()) == EVENTS and result.unknown_kinds == {}
    assert result.lessons == sorted(batch.touched_lessons)
    assert result.run is not None and result.run.kind == "changes"
    assert sorted(lesson.lesson_id for lesson in result.run.lessons) == result.lessons
    assert result.run.withheld == []
    assert [f for f in result.run.findings if f.severity == "error"] == []
    shown = current_runs(world)
    assert {lesson for lesson, run in shown.items() if run == result.run.run_id} == set(
        batch.touched_lessons
    )
    assert {run for lesson, run in shown.items() if lesson not in batch.touched_lessons} == {
        first_run
    }


def test_moved_students_and_rescheduled_lessons_show_their_new_state(world: PreheatWorld) -> None:
    assert_views_match_the_oracle(world)
    schedule_mismatches = rows(
        world.settings,
        "SELECT count() FROM dim.live_room_current AS room "
        "INNER JOIN (SELECT lesson_id, starts_at, lesson_date FROM ods.lesson_schedule FINAL) "
        "AS lesson ON lesson.lesson_id = room.lesson_id "
        "WHERE room.room_role = 'main' AND has({lessons:Array(UInt64)}, room.lesson_id) "
        "AND (room.starts_at != lesson.starts_at OR room.lesson_date != lesson.lesson_date)",
        lessons=world.lesson_ids(),
    )
    assert schedule_mismatches == [(0,)]


def test_nothing_new_means_nothing_to_do(world: PreheatWorld) -> None:
    result = apply_changes(world.settings)
    assert (result.events, result.lessons, result.run) == ({}, [], None)


def test_a_second_batch_touches_only_its_own_lessons(world: PreheatWorld) -> None:
    before = current_runs(world)
    batch = land_change_batch(world, 2)
    result = apply_changes(world.settings)
    assert result.run is not None
    assert result.lessons == sorted(batch.touched_lessons)
    after = current_runs(world)
    for lesson, run in after.items():
        expected = result.run.run_id if lesson in batch.touched_lessons else before[lesson]
        assert run == expected, lesson
    assert_views_match_the_oracle(world)
