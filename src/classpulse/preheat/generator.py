"""Preheat source generator: a day of lessons, enrollments, tutor assignments and policies.

``classpulse preheat generate`` writes the inputs of the lesson preheat engine
(:mod:`classpulse.preheat`) as JSON-lines topics, landed by the loader like every other
source (DDL in ``clickhouse/landing/``):

- ``lesson_policy``: the policy catalogue (:data:`.world.POLICIES`), one version per policy;
- ``lesson_schedule``: every lesson (a course chapter) of the day with its bound policy;
- ``lesson_enrollment``: one row per (lesson, student);
- ``tutor_assignment``: one row per (course, student) from the course's tutoring source:
  a tutor and maybe a small class (head_teacher, early_childhood), an LPC and a WeChat
  group (supervision) or an LPC alone (zero_conversion); three-screen courses have none;
- ``lesson_change``: intra-day change notifications (:func:`generate_changes`).

Shape (from the seed, ``shared/seeds/lesson-preheat-org-engine.zh.txt``)
- Course sizes are heavy-tailed: most lessons have tens to hundreds of students, a few have
  thousands, the largest up to ``max_lesson_students`` (30k, the seed's largest lesson).
- A tutor leads 80 to 500 students (the seed's cap is 500); small classes hold 15-30
  students, WeChat groups 80-200. Groups of 6 and teams of 6 groups are not source data:
  the engine forms them (policy ``group_size``/``team_size``).
- ``huge_lessons`` adds one lesson per given size (the benchmark's 30k and 600k students)
  on the on-camera group policy, exactly 500 students per tutor, so 30k students give
  60 tutors and 181 rooms as in the seed. Its ids derive from its size and the seed, so
  lessons of different sizes never collide.

Versions and noise (what the landing tables' latest-version semantics must absorb)
- About 10% of lessons have an older schedule version (an hour earlier), 2% of
  assignments an older version with another tutor, 1% of enrollments a later
  ``withdrawn`` version; 3% of lessons are cancelled; 0.3% of students of tutor-based
  courses have no active assignment (they sit at the lesson's root node).
- Base versions are stamped the evening before the day (18:00 and 20:00 business time);
  change batch ``n`` is stamped ``08:00 + n`` minutes on the day.

Determinism: the same options give byte-identical files. Each part draws from its own
``random.Random`` seeded from ``seed``; nothing reads the clock. File names carry the
options (``<day>-day-seed<seed>-scale<scale>-<part>.jsonl``, ``<day>-huge<n>-seed<seed>-…``,
``<day>-changes<batch>-seed<seed>-…``) because the loader remembers files by name.

The world the lines describe (ids, policies, courses, lessons, tutors) is built in
:mod:`classpulse.preheat.world`; this module writes it out as topic lines.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from classpulse.preheat.world import (
    POLICIES,
    Course,
    Lesson,
    Policy,
    PreheatGeneratorOptions,
    Stamper,
    build_huge_course,
    build_world,
)
from classpulse.topics import TopicDirectoryWriter, list_complete_files

POLICY_TOPIC = "lesson_policy"
SCHEDULE_TOPIC = "lesson_schedule"
ENROLLMENT_TOPIC = "lesson_enrollment"
ASSIGNMENT_TOPIC = "tutor_assignment"
CHANGE_TOPIC = "lesson_change"
PREHEAT_TOPICS: tuple[str, ...] = (
    POLICY_TOPIC,
    SCHEDULE_TOPIC,
    ENROLLMENT_TOPIC,
    ASSIGNMENT_TOPIC,
    CHANGE_TOPIC,
)
LINES_PER_FILE = 200_000


@dataclass
class GenerationResult:
    lessons: int
    courses: int
    enrollments: int
    assignments: int
    files: int
    seconds: float
    lesson_ids: list[int]
    students_per_lesson: dict[int, int]


@dataclass
class ChangeBatch:
    """One batch of intra-day changes and the lessons the engine must re-preheat for it.

    ``touched_lessons`` follows the engine's rule: a lesson event touches its lesson; a
    ``tutor_changed`` touches every lesson of the course; a ``student_moved`` touches the
    course's lessons the student has an enrollment row in.
    """

    batch_no: int
    events: int
    kinds: Counter[str]
    touched_lessons: set[int]
    files: int


def policy_line(policy: Policy, stamp: str) -> str:
    return (
        f'{{"policy_id":{policy.policy_id},"policy_name":"{policy.policy_name}",'
        f'"biz_type":"{policy.biz_type}","stream_policy":"{policy.stream_policy}",'
        f'"org_policy":"{policy.org_policy}","room_policy":"{policy.room_policy}",'
        f'"preheat_mode":"{policy.preheat_mode}","group_size":{policy.group_size},'
        f'"team_size":{policy.team_size},"tutor_capacity":{policy.tutor_capacity},'
        f'"update_time":"{stamp}"}}'
    )


def schedule_line(course: Course, lesson: Lesson, stamp: str, shift_hours: float = 0) -> str:
    starts = lesson.starts_at + timedelta(hours=shift_hours)
    ends = lesson.ends_at + timedelta(hours=shift_hours)
    return (
        f'{{"lesson_id":{lesson.lesson_id},"course_id":{course.course_id},'
        f'"chapter_no":{lesson.chapter_no},"course_type":"{course.course_type}",'
        f'"lesson_date":"{lesson.lesson_date.isoformat()}",'
        f'"starts_at":"{Stamper.text(starts)}","ends_at":"{Stamper.text(ends)}",'
        f'"policy_id":{lesson.policy_id},"lesson_status":"{lesson.status}",'
        f'"update_time":"{stamp}"}}'
    )


def enrollment_lines(course: Course, lesson: Lesson, stamp: str, later: str) -> Iterator[str]:
    head = f'{{"lesson_id":{lesson.lesson_id},"student_id":'
    tail = (
        f',"course_id":{course.course_id},"enrollment_status":"enrolled","update_time":"{stamp}"}}'
    )
    for student in course.students:
        yield f"{head}{student}{tail}"
    withdrawn = (
        f',"course_id":{course.course_id},"enrollment_status":"withdrawn","update_time":"{later}"}}'
    )
    for student in sorted(lesson.withdrawn):
        yield f"{head}{student}{withdrawn}"


def assignment_line(
    course: Course, student: int, tutor: int, class_id: int, status: str, stamp: str
) -> str:
    return (
        f'{{"course_id":{course.course_id},"student_id":{student},'
        f'"tutoring_source":"{course.source}","tutor_id":{tutor},"class_id":{class_id},'
        f'"assignment_status":"{status}","update_time":"{stamp}"}}'
    )


def assignment_lines(course: Course, stamp: str, older: str) -> Iterator[str]:
    if not course.source:
        return
    for index, student in enumerate(course.students):
        if index in course.older_tutor:
            yield assignment_line(course, student, course.older_tutor[index], 0, "active", older)
        missing = course.unassigned.get(index)
        if missing == "none":
            continue
        status = "ended" if missing == "ended" else "active"
        yield assignment_line(
            course, student, course.tutor_of[index], course.class_of[index], status, stamp
        )


def lesson_rows(
    courses: Iterable[Course], stamper: Stamper, day: date, with_versions: bool, seed: int
) -> dict[str, Iterator[str]]:
    """Per topic, the lines of ``courses`` (generators, consumed in file-sized chunks)."""
    stamp = stamper.text(stamper.at(day - timedelta(days=1), 20))
    older = stamper.text(stamper.at(day - timedelta(days=1), 18))
    later = stamper.text(stamper.at(day - timedelta(days=1), 21))
    courses = list(courses)
    rng = random.Random(f"preheat-versions:{seed}")

    def schedules() -> Iterator[str]:
        for course in courses:
            for lesson in course.lessons:
                if with_versions and rng.random() < 0.10:
                    yield schedule_line(course, lesson, older, shift_hours=-1)
                yield schedule_line(course, lesson, stamp)

    def enrollments() -> Iterator[str]:
        for course in courses:
            for lesson in course.lessons:
                yield from enrollment_lines(course, lesson, stamp, later)

    def assignments() -> Iterator[str]:
        for course in courses:
            yield from assignment_lines(course, stamp, older)

    return {
        SCHEDULE_TOPIC: schedules(),
        ENROLLMENT_TOPIC: enrollments(),
        ASSIGNMENT_TOPIC: assignments(),
    }


def write_topic_lines(
    writer: TopicDirectoryWriter, topic: str, prefix: str, lines: Iterable[str]
) -> tuple[int, int]:
    """Write ``lines`` as ``<prefix>-<part>.jsonl`` files; return (lines, files)."""
    chunk: list[str] = []
    total = files = 0
    for line in lines:
        chunk.append(line)
        if len(chunk) == LINES_PER_FILE:
            files += 1
            writer.write_chunk(topic, f"{prefix}-{files:04d}.jsonl", chunk)
            total += len(chunk)
            chunk = []
    if chunk:
        files += 1
        writer.write_chunk(topic, f"{prefix}-{files:04d}.jsonl", chunk)
        total += len(chunk)
    return total, files


def generate(options: PreheatGeneratorOptions, root: Path) -> GenerationResult:
    """Write the day (and the huge lessons) under ``root``; return what was written."""
    started = time.perf_counter()
    stamper = Stamper(options.timezone)
    writer = TopicDirectoryWriter(Path(root))
    counts: Counter[str] = Counter()
    files = 0
    lesson_ids: list[int] = []
    students: dict[int, int] = {}
    course_count = 0
    try:
        policy_stamp = stamper.text(stamper.at(options.day - timedelta(days=7), 9))
        lines, written = write_topic_lines(
            writer,
            POLICY_TOPIC,
            f"policies-v{policy_catalogue_version()}",
            (policy_line(policy, policy_stamp) for policy in POLICIES),
        )
        files += written
        parts: list[tuple[str, list[Course], bool]] = []
        if options.include_day:
            world = build_world(options)
            scale = f"{options.scale:g}"
            parts.append(
                (f"{options.day:%Y%m%d}-day-seed{options.seed}-scale{scale}", world.courses, True)
            )
        for size in options.huge_lessons:
            course = build_huge_course(options, size)
            parts.append((f"{options.day:%Y%m%d}-huge{size}-seed{options.seed}", [course], False))
        for prefix, courses, with_versions in parts:
            course_count += len(courses)
            for course in courses:
                for lesson in course.lessons:
                    lesson_ids.append(lesson.lesson_id)
                    students[lesson.lesson_id] = len(course.students) - len(lesson.withdrawn)
            rows = lesson_rows(courses, stamper, options.day, with_versions, options.seed)
            for topic, topic_lines in rows.items():
                lines, written = write_topic_lines(writer, topic, prefix, topic_lines)
                counts[topic] += lines
                files += written
    finally:
        writer.close()
    return GenerationResult(
        lessons=len(lesson_ids),
        courses=course_count,
        enrollments=counts[ENROLLMENT_TOPIC],
        assignments=counts[ASSIGNMENT_TOPIC],
        files=files,
        seconds=time.perf_counter() - started,
        lesson_ids=lesson_ids,
        students_per_lesson=students,
    )


def policy_catalogue_version() -> int:
    """A short, stable fingerprint of :data:`POLICIES` for the policy file's name."""
    text = "|".join(repr(policy) for policy in POLICIES)
    return sum((index + 1) * ord(char) for index, char in enumerate(text)) % 100_000


def clean_topics(root: Path) -> int:
    """Delete earlier preheat topic files under ``root``; return how many were removed."""
    removed = 0
    for topic in PREHEAT_TOPICS:
        for path in list_complete_files(Path(root), topic):
            path.unlink()
            removed += 1
    return removed
