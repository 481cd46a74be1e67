"""The preheat generator's world: id spaces, the policy catalogue, courses, lessons, tutors."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

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
