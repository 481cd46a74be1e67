"""The check finds exactly the inconsistencies planted in a run, and nothing on a clean one."""

from __future__ import annotations

from datetime import date

import pytest
from preheat_world import PreheatWorld, execute, land_module_world, land_preheat_topics, rows

from classpulse.preheat import check_current, check_run, run_preheat
from classpulse.preheat.generator import ASSIGNMENT_TOPIC, assignment_line
from classpulse.preheat.world import Stamper
from classpulse.topics import write_file_atomically

DAY = date(2026, 3, 3)
RUN_FILTER = "run_id = {run_id:UInt64} AND lesson_id = {lesson:UInt64}"


@pytest.fixture(scope="module")
def world(warehouse, kafka_broker, tmp_path_factory) -> PreheatWorld:
    return land_module_world(warehouse, kafka_broker, tmp_path_factory, DAY, seed=32)


def test_a_clean_run_has_no_error_findings(world: PreheatWorld) -> None:
    report = run_preheat(world.settings, DAY, publish=False)
    assert report.built == len(world.lesson_ids())
    assert [finding for finding in report.findings if finding.severity == "error"] == []
    kinds = {finding.kind for finding in report.findings}
    assert kinds <= {"unassigned_student", "tutor_over_capacity"}
    assert all(lesson.errors == 0 for lesson in report.lessons)


def pick_lessons(world: PreheatWorld) -> dict[str, int]:
    """Four different lessons of four different courses, one per planted inconsistency."""
    chosen: dict[str, int] = {}
    used_courses: set[int] = set()

    def take(name: str, wanted) -> None:
        for course, lesson in world.lessons():
            if course.course_id in used_courses or lesson.status != "scheduled":
                continue
            if wanted(course, lesson):
                chosen[name] = lesson.lesson_id
                used_courses.add(course.course_id)
                return
        raise AssertionError(f"no lesson for {name}")

    def team_groups(course, lesson) -> bool:
        policy = course.policy
        placed = world.placements(lesson.lesson_id)
        return (
            policy.org_policy == "tutor_team_group"
            and policy.room_policy == "tutor_on_camera"
            and max(tutor_loads(placed).values(), default=0) > 6
        )

    def on_camera(course, lesson) -> bool:
        policy = course.policy
        return policy.room_policy == "tutor_on_camera" and policy.preheat_mode == "full"

    take("two_groups", team_groups)
    take("extra_room", on_camera)
    take(
        "moved_student",
        lambda course, lesson: len(course.tutors()) >= 2 and on_camera(course, lesson),
    )
    take("missing", lambda course, lesson: bool(world.placements(lesson.lesson_id)))
    take("orphan", lambda course, lesson: course.policy.preheat_mode != "minimal")
    take("extra", lambda course, lesson: bool(world.placements(lesson.lesson_id)))
    take("lost_seat", on_camera)
    take("dangling", lambda course, lesson: bool(world.placements(lesson.lesson_id)))
    return chosen


def tutor_loads(placed: dict[int, tuple[int, int]]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for tutor, _ in placed.values():
        if tutor:
            counts[tutor] = counts.get(tutor, 0) + 1
    return counts


def test_planted_inconsistencies_are_found_exactly(world: PreheatWorld) -> None:
    report = run_preheat(world.settings, DAY, publish=False)
    run_id = report.run_id
    lessons = pick_lessons(world)
    settings = world.settings

    # A member in two groups: one of a student's rooms points at another group's node.
    lesson = lessons["two_groups"]
    ((student, tutor, node),) = rows(
        settings,
        f"SELECT student_id, tutor_id, node_id FROM dim.room_membership WHERE {RUN_FILTER} "
        "AND room_role = 'pre_class' ORDER BY student_id LIMIT 1",
        run_id=run_id,
        lesson=lesson,
    )
    ((other_node,),) = rows(
        settings,
        f"SELECT any(node_id) FROM dim.room_membership WHERE {RUN_FILTER} "
        "AND tutor_id = {tutor:UInt64} AND node_id != {node:UInt64}",
        run_id=run_id,
        lesson=lesson,
        tutor=tutor,
        node=node,
    )
    assert other_node
    execute(
        settings,
        "INSERT INTO dim.room_membership SELECT run_id, lesson_id, lesson_date, room_id, "
        "room_role, student_id, tutor_id, class_id, {other:UInt64}, tutor_node_id "
        f"FROM dim.room_membership WHERE {RUN_FILTER} AND student_id = {{student:UInt64}} "
        "AND room_role = 'pre_class'",
        run_id=run_id,
        lesson=lesson,
        student=student,
        other=other_node,
    )
    execute(
        settings,
        f"DELETE FROM dim.room_membership WHERE {RUN_FILTER} AND student_id = {{student:UInt64}} "
        "AND room_role = 'pre_class' AND node_id = {node:UInt64}",
        run_id=run_id,
        lesson=lesson,
        student=student,
        node=node,
    )

    # A missing student: every membership row of one student is gone.
    execute(
        settings,
        f"DELETE FROM dim.room_membership WHERE {RUN_FILTER} AND student_id = "
        f"(SELECT min(student_id) FROM dim.room_membership WHERE {RUN_FILTER})",
        run_id=run_id,
        lesson=lessons["missing"],
    )

    # An orphan node: its parent is not in the lesson's tree.
    execute(
        settings,
        "INSERT INTO dim.org_node SELECT run_id, lesson_id, lesson_date, 42, 4242, root_node_id, "
        "'group', 3, 7, concat(path, '/ghost'), 0 "
        f"FROM dim.org_node WHERE {RUN_FILTER} AND depth = 0",
        run_id=run_id,
        lesson=lessons["orphan"],
    )

    # A wrong room count: an extra in-class room for a tutor nobody has.
    execute(
        settings,
        "INSERT INTO dim.live_room SELECT run_id, lesson_id, lesson_date, 4343, 'in_class', 1, "
        "scope_node_id, root_node_id, biz_type, stream_policy, starts_at, ends_at, 0 "
        f"FROM dim.live_room WHERE {RUN_FILTER} AND room_role = 'main'",
        run_id=run_id,
        lesson=lessons["extra_room"],
    )

    # An extra student: a main-room seat for a student nobody enrolled.
    execute(
        settings,
        "INSERT INTO dim.room_membership SELECT run_id, lesson_id, lesson_date, room_id, "
        "room_role, 1, 0, 0, node_id, 0 "
        f"FROM dim.room_membership WHERE {RUN_FILTER} AND room_role = 'main' "
        "ORDER BY student_id LIMIT 1",
        run_id=run_id,
        lesson=lessons["extra"],
    )

    # A dangling member: a student's main-room seat points at a room that does not exist.
    ((dangling_student,),) = rows(
        settings,
        f"SELECT max(student_id) FROM dim.room_membership WHERE {RUN_FILTER}",
        run_id=run_id,
        lesson=lessons["dangling"],
    )
    seat = f"{RUN_FILTER} AND room_role = 'main' AND student_id = {{student:UInt64}}"
    execute(
        settings,
        "INSERT INTO dim.room_membership SELECT run_id, lesson_id, lesson_date, 4444, room_role, "
        f"student_id, tutor_id, class_id, node_id, tutor_node_id FROM dim.room_membership "
        f"WHERE {seat}",
        run_id=run_id,
        lesson=lessons["dangling"],
        student=dangling_student,
    )
    execute(
        settings,
        f"DELETE FROM dim.room_membership WHERE {seat} AND room_id != 4444",
        run_id=run_id,
        lesson=lessons["dangling"],
        student=dangling_student,
    )

    # A seat lost: a student with a tutor on camera misses the in-class room.
    execute(
        settings,
        f"DELETE FROM dim.room_membership WHERE {RUN_FILTER} AND room_role = 'in_class' "
        "AND student_id = (SELECT min(student_id) FROM dim.room_membership "
        f"WHERE {RUN_FILTER} AND room_role = 'in_class')",
        run_id=run_id,
        lesson=lessons["lost_seat"],
    )

    # The source moves on: a student of another course now has another tutor.
    moved_course, moved_lesson = world.lesson(lessons["moved_student"])
    index = next(i for i, tutor in enumerate(moved_course.tutor_of) if tutor)
    while (
        moved_course.students[index] in moved_lesson.withdrawn or index in moved_course.unassigned
    ):
        index += 1
    new_tutor = next(t for t in moved_course.tutors() if t != moved_course.tutor_of[index])
    stamper = Stamper(world.options.timezone)
    stamp = stamper.text(stamper.at(DAY, 9))
    write_file_atomically(
        world.settings.topics_dir / ASSIGNMENT_TOPIC,
        "check-test-move.jsonl",
        (
            assignment_line(
                moved_course, moved_course.students[index], new_tutor, 0, "active", stamp
            )
            + "\n"
        ).encode(),
    )
    land_preheat_topics(world.settings)

    result = check_run(settings, run_id)
    found = {(f.lesson_id, f.kind, f.count) for f in result.errors}
    moved_lessons = {
        lesson.lesson_id
        for lesson in moved_course.lessons
        if lesson.status == "scheduled" and moved_course.students[index] not in lesson.withdrawn
    }
    assert found == {
        (lessons["two_groups"], "member_in_two_groups", 1),
        (lessons["missing"], "missing_student", 1),
        (lessons["orphan"], "orphan_node", 1),
        (lessons["extra_room"], "rooms_per_policy", 1),
        (lessons["extra"], "extra_student", 1),
        (lessons["dangling"], "dangling_member", 1),
        (lessons["lost_seat"], "student_rooms_mismatch", 1),
        *((moved, "stale_assignment", 1) for moved in moved_lessons),
    }
    assert sorted(result.failed_lessons) == sorted(
        {lessons[name] for name in lessons if name != "moved_student"} | moved_lessons
    )
    details = {f.kind: f.detail for f in result.errors}
    assert details["rooms_per_policy"].endswith("(missing 0, extra 1)")
    assert str(student) in details["member_in_two_groups"]


def test_the_published_result_is_checked_against_the_source(world: PreheatWorld) -> None:
    report = run_preheat(world.settings, DAY)
    assert report.published_at is not None and report.withheld == []
    result = check_current(world.settings, day=DAY)
    assert result.lessons == report.built
    assert result.errors == []
