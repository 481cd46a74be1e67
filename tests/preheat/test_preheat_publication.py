"""Publication is atomic: readers see a whole run or none of it, lesson by lesson."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from preheat_world import PreheatWorld, execute, land_module_world, rows

from classpulse.preheat import (
    PreheatError,
    check_batch,
    check_run,
    create_run,
    discard_run,
    plan_batches,
    preheat_batch,
    publish_run,
    run_preheat,
)

DAY = date(2026, 3, 4)
CURRENT = (
    "SELECT groupUniqArray(run_id), count(), "
    "(SELECT count() FROM dim.room_membership_current WHERE lesson_date = {day:Date}) "
    "FROM dim.lesson_current_run WHERE lesson_date = {day:Date}"
)


@pytest.fixture(scope="module")
def world(warehouse, kafka_broker, tmp_path_factory) -> PreheatWorld:
    world = land_module_world(warehouse, kafka_broker, tmp_path_factory, DAY, seed=28)
    run_preheat(world.settings, DAY)
    return world


def current(world: PreheatWorld) -> tuple[list[int], int, int]:
    ((runs, lessons, members),) = rows(world.settings, CURRENT, day=DAY)
    return sorted(runs), lessons, members


def test_a_reader_sees_the_previous_run_until_the_next_is_published(world: PreheatWorld) -> None:
    before = current(world)
    (previous,) = before[0]
    assert before[1] == len(world.lesson_ids()) and before[2] > 0
    batches = plan_batches(world.settings, DAY, max_batch_students=1500)
    assert len(batches) >= 3
    seen: list[tuple[list[int], int, int]] = []
    stop = threading.Event()

    def read_continuously() -> None:
        while not stop.wait(0.05):
            seen.append(current(world))

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        run_id = create_run(world.settings, DAY, [lesson for b in batches for lesson in b])
        for number, batch in enumerate(batches, start=1):
            preheat_batch(world.settings, DAY, batch, run_id, batch_no=number)
            assert current(world) == before  # half a day is built: nothing of it shows
        for batch in batches:
            check_batch(world.settings, run_id, batch)
        assert current(world) == before
        publish_run(world.settings, run_id)
        after = current(world)
    finally:
        stop.set()
        reader.join()
    assert after == ([run_id], before[1], before[2])
    assert seen and all(state in (before, after) for state in seen)
    assert {tuple(state[0]) for state in seen} <= {(previous,), (run_id,)}


def test_lessons_failing_the_check_are_withheld_and_keep_their_previous_run(
    world: PreheatWorld,
) -> None:
    (previous,), lessons, _ = current(world)
    report = run_preheat(world.settings, DAY, publish=False)
    broken = next(lesson.lesson_id for lesson in report.lessons if lesson.members > 0)
    execute(
        world.settings,
        "DELETE FROM dim.room_membership WHERE run_id = {run_id:UInt64} "
        "AND lesson_id = {lesson:UInt64} AND student_id = (SELECT min(student_id) "
        "FROM dim.room_membership WHERE run_id = {run_id:UInt64} AND lesson_id = {lesson:UInt64})",
        run_id=report.run_id,
        lesson=broken,
    )
    assert check_run(world.settings, report.run_id).failed_lessons == [broken]
    publication = publish_run(world.settings, report.run_id)
    assert publication.withheld == [broken] and publication.lessons == lessons - 1
    shown = dict(
        rows(
            world.settings,
            "SELECT lesson_id, run_id FROM dim.lesson_current_run WHERE lesson_date = {day:Date}",
            day=DAY,
        )
    )
    assert shown.pop(broken) == previous
    assert set(shown.values()) == {report.run_id}
    again = publish_run(world.settings, report.run_id)
    assert again.already_published and again.withheld == [broken]


def test_publish_refuses_unbuilt_unchecked_and_scratch_runs(world: PreheatWorld) -> None:
    first, second = world.lesson_ids()[:2]
    run_id = create_run(world.settings, DAY, [first, second], kind="lessons")
    preheat_batch(world.settings, DAY, [first], run_id)
    with pytest.raises(PreheatError, match="not built"):
        publish_run(world.settings, run_id)
    preheat_batch(world.settings, DAY, [second], run_id, batch_no=2)
    with pytest.raises(PreheatError, match="not checked"):
        publish_run(world.settings, run_id)
    discard_run(world.settings, run_id)
    scratch = create_run(world.settings, DAY, [first], kind="scratch")
    with pytest.raises(PreheatError, match="scratch"):
        publish_run(world.settings, scratch)
    discard_run(world.settings, scratch)
    with pytest.raises(PreheatError, match="no run"):
        publish_run(world.settings, 1)


def test_a_retried_batch_replaces_its_earlier_attempt(world: PreheatWorld) -> None:
    batch = plan_batches(world.settings, DAY, max_batch_students=1500)[0]
    run_id = create_run(world.settings, DAY, batch, kind="lessons")
    first = preheat_batch(world.settings, DAY, batch, run_id)
    second = preheat_batch(world.settings, DAY, batch, run_id)
    assert not first.retried and second.retried
    assert (second.students, second.rooms, second.nodes, second.members) == (
        first.students,
        first.rooms,
        first.nodes,
        first.members,
    )
    counts = rows(
        world.settings,
        "SELECT (SELECT count() FROM dim.room_membership WHERE run_id = {run_id:UInt64}), "
        "(SELECT count() FROM dim.live_room WHERE run_id = {run_id:UInt64}), "
        "(SELECT count() FROM dim.preheat_lesson_log WHERE run_id = {run_id:UInt64})",
        run_id=run_id,
    )
    assert counts == [(first.members, first.rooms, len(batch))]
    discard_run(world.settings, run_id, wait=True)
    assert rows(
        world.settings,
        "SELECT count() FROM dim.room_membership WHERE run_id = {run_id:UInt64}",
        run_id=run_id,
    ) == [(0,)]
    with pytest.raises(PreheatError, match="published"):
        discard_run(world.settings, int(current(world)[0][0]))
