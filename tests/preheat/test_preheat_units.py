"""Preheat pieces that need no warehouse: the generator, batch packing, the SQL files."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from classpulse.preheat import (
    BUILD_STEPS,
    PlannedLesson,
    PreheatError,
    estimate_seconds,
    pack_batches,
    read_statements,
)
from classpulse.preheat.changes import generate_changes
from classpulse.preheat.generator import ENROLLMENT_TOPIC, PREHEAT_TOPICS, generate
from classpulse.preheat.world import (
    POLICIES,
    PreheatGeneratorError,
    PreheatGeneratorOptions,
    build_huge_course,
    build_world,
)

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 2)


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_the_same_options_write_byte_identical_files(tmp_path: Path) -> None:
    options = PreheatGeneratorOptions(day=DAY, seed=5, scale=0.3, huge_lessons=(700,))
    first, second = tmp_path / "a", tmp_path / "b"
    generate(options, first)
    generate(options, second)
    generate_changes(options, first, 1, 10)
    generate_changes(options, second, 1, 10)
    assert tree(first) == tree(second)
    assert {Path(name).parts[0] for name in tree(first)} == set(PREHEAT_TOPICS)


def test_every_line_is_json_with_the_landing_columns(tmp_path: Path) -> None:
    result = generate(PreheatGeneratorOptions(day=DAY, seed=6, scale=0.2), tmp_path)
    enrollments = [
        json.loads(line)
        for path in sorted((tmp_path / ENROLLMENT_TOPIC).iterdir())
        for line in path.read_text().splitlines()
    ]
    assert len(enrollments) == result.enrollments > 0
    assert set(enrollments[0]) == {
        "lesson_id",
        "student_id",
        "course_id",
        "enrollment_status",
        "update_time",
    }
    statuses = Counter(row["enrollment_status"] for row in enrollments)
    assert statuses["enrolled"] > statuses["withdrawn"] > 0


def test_a_huge_lesson_has_500_students_per_tutor() -> None:
    options = PreheatGeneratorOptions(day=DAY, seed=1)
    course = build_huge_course(options, 30_000)
    assert len(course.students) == len(set(course.students)) == 30_000
    assert len(course.tutors()) == 60  # 3n+1 = 181 rooms, as in the seed
    assert max(Counter(course.tutor_of).values()) == 500
    assert course.lessons[0].lesson_id != build_huge_course(options, 600_000).lessons[0].lesson_id
    with pytest.raises(PreheatGeneratorError):
        build_huge_course(options, 0)


def test_seeds_never_share_lessons_or_courses() -> None:
    one = build_world(PreheatGeneratorOptions(day=DAY, seed=1))
    two = build_world(PreheatGeneratorOptions(day=DAY, seed=2))
    assert not {lesson.lesson_id for lesson in one.lessons()} & {
        lesson.lesson_id for lesson in two.lessons()
    }
    assert not {course.course_id for course in one.courses} & {
        course.course_id for course in two.courses
    }


def test_change_batches_build_on_the_earlier_ones(tmp_path: Path) -> None:
    options = PreheatGeneratorOptions(day=DAY, seed=7, scale=0.5)
    first = generate_changes(options, tmp_path / "a", 2, 12)
    second = generate_changes(options, tmp_path / "b", 2, 12)
    assert first.touched_lessons == second.touched_lessons and first.events == 12
    assert sum(first.kinds.values()) == 12
    with pytest.raises(PreheatGeneratorError):
        generate_changes(options, tmp_path, 0, 5)


def test_the_policy_catalogue_covers_the_seed_scenarios() -> None:
    assert {policy.biz_type for policy in POLICIES} == {
        "three_screen",
        "group",
        "small_class",
        "study_room",
    }
    assert {policy.stream_policy for policy in POLICIES} == {"rtmp", "rtc"}
    assert {policy.preheat_mode for policy in POLICIES} == {"minimal", "simple", "full"}
    assert len({policy.policy_id for policy in POLICIES}) == len(POLICIES)


def test_batches_pack_largest_first_and_keep_a_big_lesson_alone() -> None:
    lessons = [PlannedLesson(1, 600_000), PlannedLesson(2, 30_000), PlannedLesson(3, 40_000)]
    lessons += [PlannedLesson(10 + k, 100) for k in range(5)]
    batches = pack_batches(lessons, max_batch_students=50_000, max_batch_lessons=3)
    assert batches[0] == [1]
    assert sorted(lesson for batch in batches for lesson in batch) == sorted(
        lesson.lesson_id for lesson in lessons
    )
    sizes = {lesson.lesson_id: lesson.students for lesson in lessons}
    for batch in batches[1:]:
        assert sum(sizes[lesson] for lesson in batch) <= 50_000 and len(batch) <= 3
    assert batches == pack_batches(list(reversed(lessons)), 50_000, 3)
    with pytest.raises(PreheatError):
        pack_batches(lessons, max_batch_students=0)


def test_time_estimates_grow_with_the_work() -> None:
    assert 0 < estimate_seconds(0) < estimate_seconds(30_000) < estimate_seconds(600_000)
    assert estimate_seconds(30_000, lessons=1000) > estimate_seconds(30_000)


def test_engine_sql_files_split_into_statements() -> None:
    for step in (*BUILD_STEPS, "lesson_log", "publish", "plan", "diff", "changes"):
        assert len(read_statements(ROOT, step)) == 1, step
    checks = read_statements(ROOT, "check")
    assert len(checks) == 6 and all(text.lower().startswith(("--", "insert")) for text in checks)
    schema = read_statements(ROOT, "schema")
    assert sum("create or replace view" in text.lower() for text in schema) == 9
    with pytest.raises(PreheatError, match="missing engine SQL"):
        read_statements(ROOT, "no_such_step")


def test_values_reach_the_sql_only_as_server_side_parameters() -> None:
    placeholder = re.compile(r"\{(\w+):[^}]+\}")
    allowed = {"lessons", "run_id", "day", "batch_no", "batch_seconds", "check_id", "withheld"}
    allowed |= {"after", "upto", "timezone", "run_a", "run_b", "limit"}
    files = sorted((ROOT / "clickhouse" / "preheat").glob("*.sql"))
    assert len(files) > 10
    for path in files:
        text = path.read_text()
        assert set(placeholder.findall(text)) <= allowed, path.name
        assert "{" not in placeholder.sub("", text).replace("{}", ""), path.name
