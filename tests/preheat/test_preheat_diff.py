"""The regression diff: nothing when nothing changed, exactly the rebound lessons after a
policy change, both before it ships (scratch run) and between two published runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from preheat_world import PreheatWorld, land_module_world, land_preheat_topics, rows

from classpulse.preheat import run_preheat
from classpulse.preheat.diff import diff_against_current_logic, diff_runs
from classpulse.preheat.generator import SCHEDULE_TOPIC, schedule_line
from classpulse.preheat.world import Stamper
from classpulse.topics import write_file_atomically

DAY = date(2026, 3, 6)
LECTURE, ON_CAMERA = 7, 2  # group_lecture (main room only) -> group_tutor_on_camera


@pytest.fixture(scope="module")
def preheated(warehouse, kafka_broker, tmp_path_factory) -> tuple[PreheatWorld, int]:
    world = land_module_world(warehouse, kafka_broker, tmp_path_factory, DAY, seed=24)
    return world, run_preheat(world.settings, DAY).run_id


def scratch_rows(world: PreheatWorld, run_id: int) -> int:
    ((count,),) = rows(
        world.settings,
        "SELECT count() FROM dim.preheat_lesson_log WHERE run_id = {run_id:UInt64}",
        run_id=run_id,
    )
    return count


def test_the_current_logic_reproduces_the_published_run(preheated) -> None:
    world, _ = preheated
    result = diff_against_current_logic(world.settings, day=DAY, keep_scratch=True)
    assert len(result.lessons) == len(world.lesson_ids())
    assert result.differing == []
    assert all(change.total == 0 for change in result.totals().values())
    assert scratch_rows(world, result.run_b) == len(world.lesson_ids())
    again = diff_against_current_logic(world.settings, lessons=world.lesson_ids()[:3])
    assert len(again.lessons) == 3 and again.differing == []


def test_a_policy_change_shows_up_before_it_ships(preheated) -> None:
    world, first_run = preheated
    rebound = [
        (course, lesson)
        for course, lesson in world.lessons()
        if lesson.policy_id == LECTURE and lesson.status == "scheduled"
    ]
    assert rebound
    stamper = Stamper(world.options.timezone)
    stamp = stamper.text(stamper.at(DAY, 1))
    lines = [
        schedule_line(course, replace(lesson, policy_id=ON_CAMERA), stamp)
        for course, lesson in rebound
    ]
    write_file_atomically(
        world.settings.topics_dir / SCHEDULE_TOPIC,
        "diff-test-rebind.jsonl",
        ("\n".join(lines) + "\n").encode(),
    )
    land_preheat_topics(world.settings)

    result = diff_against_current_logic(world.settings, day=DAY)
    assert {lesson.lesson_id for lesson in result.differing} == {
        lesson.lesson_id for _, lesson in rebound
    }
    for _course, lesson in rebound:
        (diff,) = [item for item in result.lessons if item.lesson_id == lesson.lesson_id]
        placements = world.placements(lesson.lesson_id)
        tutors = {tutor for tutor, _ in placements.values() if tutor}
        with_tutor = sum(1 for tutor, _ in placements.values() if tutor)
        assert diff.of("room").added == 3 * len(tutors) and diff.of("room").removed == 0
        assert diff.of("member").added == 3 * with_tutor and diff.of("member").removed == 0
        assert diff.of("node").total == 0
        assert f"policy {LECTURE} " in diff.before and f"policy {ON_CAMERA} " in diff.after
    shown = rows(
        world.settings,
        "SELECT DISTINCT run_id FROM dim.lesson_current_run WHERE lesson_date = {day:Date}",
        day=DAY,
    )
    assert shown == [(first_run,)]  # checking a change publishes nothing

    shipped = run_preheat(world.settings, DAY)
    between = diff_runs(world.settings, first_run, shipped.run_id)
    assert [lesson.lesson_id for lesson in between.differing] == [
        lesson.lesson_id for lesson in result.differing
    ]
    assert between.totals() == result.totals()
    assert diff_against_current_logic(world.settings, day=DAY).differing == []
