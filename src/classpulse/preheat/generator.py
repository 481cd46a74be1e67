"""Preheat source generator: a day of lessons, enrollments, tutor assignments and policies.

``classpulse preheat generate`` writes the inputs of the lesson preheat engine
(:mod:`classpulse.preheat`) as JSON-lines topics, landed by the loader like every other
source (DDL in ``clickhouse/landing/``):

- ``lesson_policy``: the policy catalogue (:data:`POLICIES`), one version per policy;
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
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
STUDENT_BASE = 2_000_000  # the same id space as `classpulse generate`'s learners
TUTOR_BASE = 9_100_000
NEW_TUTOR_BASE = 9_800_000
CLASS_BASE = 80_000_000
# Lesson, course and change ids carry the seed's slot (seed % 100), so days generated
# with different seeds never share a lesson, a course or a change event.
COURSE_BASE = 1_000_000
LESSON_BASE = 70_000_000
HUGE_BASE = 9_000_000_000
HUGE_TUTOR_BASE = 5_000_000_000
SLOTS = 100
TUTOR_CAPACITY = 500


class PreheatGeneratorError(ValueError):
    """Options the generator cannot honour."""


@dataclass(frozen=True)
class Policy:
    """One row of the policy catalogue (the ``lesson_policy`` topic)."""

    policy_id: int
    policy_name: str
    biz_type: str
    stream_policy: str
    org_policy: str
    room_policy: str
    preheat_mode: str
    group_size: int = 6
    team_size: int = 6
    tutor_capacity: int = TUTOR_CAPACITY


# The seed's scenarios: three-screen lessons (RTMP, no tutor), tutor-on-camera group and
# small-class rooms (RTC, 3n+1 rooms), short-training WeChat groups, zero-conversion LPCs,
# study rooms, and the instant test lesson that must be usable within seconds.
POLICIES: tuple[Policy, ...] = (
    Policy(1, "three_screen_live", "three_screen", "rtmp", "flat", "main_only", "full"),
    Policy(
        2, "group_tutor_on_camera", "group", "rtc", "tutor_team_group", "tutor_on_camera", "full"
    ),
    Policy(
        3,
        "small_class_on_camera",
        "small_class",
        "rtc",
        "tutor_small_class",
        "tutor_on_camera",
        "full",
    ),
    Policy(
        4,
        "short_training_wechat",
        "three_screen",
        "rtmp",
        "lpc_wechat_group",
        "main_only",
        "simple",
    ),
    Policy(5, "zero_conversion_lpc", "three_screen", "rtmp", "lpc", "main_only", "simple"),
    Policy(6, "study_room", "study_room", "rtmp", "flat", "main_only", "minimal"),
    Policy(7, "group_lecture", "group", "rtc", "tutor_team_group", "main_only", "full"),
    Policy(8, "instant_test_lesson", "three_screen", "rtmp", "flat", "main_only", "minimal"),
)
POLICY_BY_ID = {policy.policy_id: policy for policy in POLICIES}
HUGE_LESSON_POLICY = 2

# course type -> (policy ids, weights)
COURSE_TYPES: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
    "special": ((1, 2, 7), (5, 3, 2)),
    "class": ((3, 2), (5, 3)),
    "short_training": ((4,), (1,)),
    "literacy": ((5, 6), (1, 1)),
    "programming": ((3, 8), (3, 1)),
}
COURSE_TYPE_WEIGHTS = {
    "special": 4,
    "class": 4,
    "short_training": 1,
    "literacy": 1,
    "programming": 1,
}
TUTOR_SOURCES = {
    "tutor_team_group": ("head_teacher", "early_childhood"),
    "tutor_small_class": ("head_teacher", "early_childhood"),
    "lpc_wechat_group": ("supervision",),
    "lpc": ("zero_conversion",),
    "flat": (),
}
CLASS_SIZES = {"tutor_small_class": (15, 30), "lpc_wechat_group": (80, 200)}


@dataclass(frozen=True)
class PreheatGeneratorOptions:
    """What to generate: ``scale`` 1 is about 46 courses, 53 lessons, 12k enrollments."""

    day: date
    seed: int = 1
    scale: float = 1.0
    timezone: str = "Asia/Shanghai"
    max_lesson_students: int = 30_000
    huge_lessons: tuple[int, ...] = ()
    include_day: bool = True

    def courses(self) -> int:
        return max(1, round(46 * self.scale))


@dataclass
class Lesson:
    lesson_id: int
    course_id: int
    chapter_no: int
    lesson_date: date
    starts_at: datetime
    ends_at: datetime
    policy_id: int
    status: str
    withdrawn: set[int] = field(default_factory=set)


@dataclass
class Course:
    """A course with its students and their tutor/class (parallel lists, one per student)."""

    course_id: int
    course_type: str
    policy_id: int
    source: str
    students: list[int]
    tutor_of: list[int]
    class_of: list[int]
    lessons: list[Lesson] = field(default_factory=list)
    older_tutor: dict[int, int] = field(default_factory=dict)  # student index -> old tutor
    unassigned: dict[int, str] = field(default_factory=dict)  # student index -> 'ended'|'none'

    @property
    def policy(self) -> Policy:
        return POLICY_BY_ID[self.policy_id]

    def tutors(self) -> list[int]:
        return sorted({tutor for tutor in self.tutor_of if tutor})

    def classes_by_tutor(self) -> dict[int, list[int]]:
        classes: dict[int, set[int]] = {}
        for tutor, class_id in zip(self.tutor_of, self.class_of, strict=True):
            if tutor and class_id:
                classes.setdefault(tutor, set()).add(class_id)
        return {tutor: sorted(ids) for tutor, ids in classes.items()}


@dataclass
class World:
    courses: list[Course]

    def lessons(self) -> Iterator[Lesson]:
        for course in self.courses:
            yield from course.lessons


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


class Stamper:
    """Business-time ISO timestamps with offset, cached per distinct instant."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def at(self, day: date, hour: float) -> datetime:
        base = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return base + timedelta(hours=hour)

    @staticmethod
    def text(moment: datetime) -> str:
        return moment.isoformat(timespec="milliseconds")


def draw_course_size(rng: random.Random, cap: int) -> int:
    draw = rng.random()
    if draw < 0.70:
        size = rng.randint(10, 200)
    elif draw < 0.95:
        size = rng.randint(200, 1000)
    elif draw < 0.995:
        size = rng.randint(1000, 5000)
    else:
        size = rng.randint(5000, 30_000)
    return max(1, min(size, cap))


def choose_weighted(rng: random.Random, options: dict[str, int]) -> str:
    names = list(options)
    return rng.choices(names, weights=[options[name] for name in names])[0]


def assign_tutors(
    rng: random.Random,
    students: list[int],
    org_policy: str,
    next_tutor: Iterator[int],
    next_class: Iterator[int],
    load: int,
) -> tuple[list[int], list[int]]:
    """Tutor and class per student: shuffled students cut into tutor chunks, then classes."""
    count = len(students)
    tutor_of = [0] * count
    class_of = [0] * count
    if org_policy == "flat":
        return tutor_of, class_of
    order = list(range(count))
    rng.shuffle(order)
    tutors = max(1, math.ceil(count / load))
    chunk = math.ceil(count / tutors)
    class_size = CLASS_SIZES.get(org_policy)
    for start in range(0, count, chunk):
        tutor = next(next_tutor)
        members = order[start : start + chunk]
        for index in members:
            tutor_of[index] = tutor
        if class_size is None:
            continue
        size = rng.randint(*class_size)
        for offset in range(0, len(members), size):
            class_id = next(next_class)
            for index in members[offset : offset + size]:
                class_of[index] = class_id
    return tutor_of, class_of


def counter_from(start: int) -> Iterator[int]:
    value = start
    while True:
        yield value
        value += 1


def build_world(options: PreheatGeneratorOptions) -> World:
    """The simulated day: courses, their students, tutors, classes and lessons."""
    rng = random.Random(f"preheat-world:{options.seed}")
    stamper = Stamper(options.timezone)
    count = options.courses()
    sizes = [draw_course_size(rng, options.max_lesson_students) for _ in range(count)]
    pool = max(12, int(sum(sizes) * 0.7), max(sizes))
    tutors = counter_from(TUTOR_BASE)
    classes = counter_from(CLASS_BASE)
    slot = options.seed % SLOTS
    lessons = counter_from(LESSON_BASE + slot * 1_000_000)
    courses: list[Course] = []
    for number, size in enumerate(sizes):
        course_type = choose_weighted(rng, COURSE_TYPE_WEIGHTS)
        policy_ids, weights = COURSE_TYPES[course_type]
        policy = POLICY_BY_ID[rng.choices(policy_ids, weights=weights)[0]]
        sources = TUTOR_SOURCES[policy.org_policy]
        students = sorted(STUDENT_BASE + k for k in rng.sample(range(pool), min(size, pool)))
        load = rng.randint(80, TUTOR_CAPACITY)
        tutor_of, class_of = assign_tutors(rng, students, policy.org_policy, tutors, classes, load)
        course = Course(
            course_id=COURSE_BASE + slot * 100_000 + number,
            course_type=course_type,
            policy_id=policy.policy_id,
            source=rng.choice(sources) if sources else "",
            students=students,
            tutor_of=tutor_of,
            class_of=class_of,
        )
        if sources:
            for index in range(len(students)):
                draw = rng.random()
                if draw < 0.003:
                    course.unassigned[index] = "ended" if rng.random() < 0.5 else "none"
                elif draw < 0.023:
                    course.older_tutor[index] = next(tutors)
        chapter = rng.randint(1, 40)
        for repeat in range(2 if rng.random() < 0.15 else 1):
            hour = rng.randint(8 * 4, 20 * 4) / 4 + repeat * 2.5
            starts = stamper.at(options.day, min(hour, 21.5))
            duration = rng.choice((30, 45, 60, 90))
            lesson = Lesson(
                lesson_id=next(lessons),
                course_id=course.course_id,
                chapter_no=chapter + repeat,
                lesson_date=options.day,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=duration),
                policy_id=policy.policy_id,
                status="cancelled" if rng.random() < 0.03 else "scheduled",
            )
            lesson.withdrawn = {s for s in students if rng.random() < 0.01}
            course.lessons.append(lesson)
        courses.append(course)
    return World(courses)


def build_huge_course(options: PreheatGeneratorOptions, students: int) -> Course:
    """One lesson of ``students`` students, 500 per tutor, on the on-camera group policy."""
    if students < 1:
        raise PreheatGeneratorError("a huge lesson needs at least one student")
    rng = random.Random(f"preheat-huge:{options.seed}:{students}")
    slot = options.seed % SLOTS
    key = HUGE_BASE + slot * 100_000_000 + students
    stamper = Stamper(options.timezone)
    ids = sorted(STUDENT_BASE + k for k in rng.sample(range(students * 2), students))
    tutor_base = HUGE_TUTOR_BASE + slot * 100_000_000 + (students // 1000) * 10_000
    tutor_of = [tutor_base + index // TUTOR_CAPACITY for index in range(students)]
    course = Course(
        course_id=key,
        course_type="special",
        policy_id=HUGE_LESSON_POLICY,
        source="head_teacher",
        students=ids,
        tutor_of=tutor_of,
        class_of=[0] * students,
    )
    starts = stamper.at(options.day, 19)
    course.lessons.append(
        Lesson(
            lesson_id=key,
            course_id=course.course_id,
            chapter_no=1,
            lesson_date=options.day,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=90),
            policy_id=HUGE_LESSON_POLICY,
            status="scheduled",
        )
    )
    return course


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
