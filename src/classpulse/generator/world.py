"""The simulated world: lessons (courseware and audio/video quality) and recorded courses."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from classpulse.generator.contract import HOUR_MS
from classpulse.generator.kinds import (
    HEARTBEAT_STUDENT_INDEX,
    HEARTBEAT_TEACHER_INDEX,
    KINDS,
    STUDENT_PICK,
    TEACHER_PICK,
)
from classpulse.generator.options import BusinessClock, GeneratorOptions, derive_random
from classpulse.generator.records import AgoraRecord, QosRecord, TimelineRecord


@dataclass
class Lesson:
    number: int
    start_ms: int
    end_ms: int
    room_id: int
    classroom_id: str
    teacher_id: int
    student_ids: list[int]
    has_assistant: bool


@dataclass
class World:
    learners: list[int]
    teachers: list[int]
    lessons: list[Lesson]


def build_world(options: GeneratorOptions, clock: BusinessClock) -> World:
    rng = derive_random(options.seed, "world")
    learners = [2_000_000 + k for k in range(options.scaled(900, minimum=12))]
    teachers = [9_000_000 + k for k in range(options.scaled(8, minimum=2))]
    rooms = [600_000 + k for k in range(options.scaled(12, minimum=2))]
    lessons: list[Lesson] = []
    for number in range(options.scaled(34)):
        slot = rng.randrange(0, 13 * 12)  # five-minute slots from 08:00 to 21:00
        start = clock.at_day_fraction(8) + slot * 300_000 + rng.randrange(0, 60_000)
        duration = rng.choice((25, 30, 40, 45, 50)) * 60_000
        size = 1 + int(rng.random() * 10)
        lessons.append(
            Lesson(
                number=number,
                start_ms=start,
                end_ms=start + duration,
                room_id=rng.choice(rooms),
                classroom_id=str(30_000_000 + number),
                teacher_id=rng.choice(teachers),
                student_ids=rng.sample(learners, min(size, len(learners))),
                has_assistant=rng.random() < 0.1,
            )
        )
    lessons.sort(key=lambda lesson: (lesson.start_ms, lesson.number))
    return World(learners=learners, teachers=teachers, lessons=lessons)


def simulate_lesson_timeline(lesson: Lesson, rng: random.Random) -> list[TimelineRecord]:
    """Courseware messages of one lesson, unsorted."""
    records: list[TimelineRecord] = []
    append = records.append
    rand = rng.random
    start, end, room = lesson.start_ms, lesson.end_ms, lesson.room_id
    pages = max(4, (end - start) // 150_000)
    page_ms = (end - start) // pages + 1
    participants = [(student, 2, 2.0 + 7.0 * rand()) for student in lesson.student_ids]
    participants.append((lesson.teacher_id, 1, 4.0))
    for user, role, per_minute in participants:
        table = STUDENT_PICK if role == 2 else TEACHER_PICK
        offset = int(rand() * 400) - 200  # client clock offset
        mean_gap = 60_000.0 / per_minute
        moment = start + int(rng.expovariate(1.0) * mean_gap)
        while moment < end:
            kind = table[int(rand() * 1000)]
            fragments = KINDS[kind].fragments
            append(
                TimelineRecord(
                    moment + 20 + int(rand() * 1180),
                    moment + offset,
                    user,
                    room,
                    kind,
                    int(rand() * len(fragments)),
                    1 + (moment - start) // page_ms,
                )
            )
            moment += 1 + int(rng.expovariate(1.0) * mean_gap)
        heartbeat = HEARTBEAT_STUDENT_INDEX if role == 2 else HEARTBEAT_TEACHER_INDEX
        for moment in range(start + int(rand() * 30_000), end, 30_000):
            append(
                TimelineRecord(
                    moment + 20 + int(rand() * 1180), moment + offset, user, room, heartbeat, 0, 0
                )
            )
    return records


def simulate_lesson_agora(lesson: Lesson, rng: random.Random) -> list[AgoraRecord]:
    """Audio/video quality records of one lesson, unsorted."""
    records: list[AgoraRecord] = []
    people: list[tuple[int, str]] = [(student, "student") for student in lesson.student_ids]
    people.append((lesson.teacher_id, "teacher"))
    if lesson.has_assistant:
        people.append((8_000_000 + lesson.number, "assistant"))
    for user, user_type in people:
        simulate_participant_agora(lesson, rng, user, user_type, records)
    return records


def simulate_participant_agora(
    lesson: Lesson, rng: random.Random, user: int, user_type: str, records: list[AgoraRecord]
) -> None:
    """One participant's records every 6-10 s, with bad stretches (high lost, low fr)."""
    append = records.append
    rand = rng.random
    start, end = lesson.start_ms, lesson.end_ms
    classroom, room = lesson.classroom_id, lesson.room_id
    is_student = user_type == "student"
    camera_off = is_student and rand() < 0.1
    audio_uid = 100_000_000 + user
    video_uid = audio_uid + 1 if rand() < 0.1 else audio_uid
    pending = draw_bad_stretches(rng, start, end)
    moment = start + int(rand() * 8_000)
    while moment < end:
        event = "AGORA_QOS"
        bad = False
        if pending:
            begin, stop = pending[0]
            if moment >= stop:
                event = "AGORA_RECONNECT"  # the first record after a bad stretch
                pending.pop(0)
            elif moment >= begin:
                bad = True
        if bad:
            lost: int | None = 20 + int(rand() * 60)
            fr: int | None = int(rand() * 9)
        else:
            roll = rand()
            lost = 0 if roll < 0.7 else (1 + int(rand() * 3) if roll < 0.95 else -1)
            fr = (15, 24, 30)[int(rand() * 3)] - int(rand() * 3) if rand() < 0.97 else -1
        if camera_off:
            fr = None
        elif rand() < 0.02:
            lost = None
        keys: tuple[int | None, int | None, str | None] = (user, room, classroom)
        if rand() < 0.006:
            keys = ((None, room, classroom), (user, None, classroom), (user, room, None))[
                int(rand() * 3)
            ]
        who, channel, where = keys
        feeds = is_student and ((lost is not None and lost >= 0) or (fr is not None and fr >= 0))
        append(
            AgoraRecord(
                moment + int(rand() * 1_500),
                moment,
                where,
                user_type,
                who,
                channel,
                event,
                fr,
                video_uid,
                lost,
                audio_uid,
                feeds,
            )
        )
        moment += 6_000 + int(rand() * 4_000)


def draw_bad_stretches(rng: random.Random, start: int, end: int) -> list[tuple[int, int]]:
    roll = rng.random()
    count = 0 if roll < 0.55 else (1 if roll < 0.85 else 2)
    stretches = []
    for _ in range(count):
        begin = rng.randrange(start, max(start + 1, end - 60_000))
        stretches.append((begin, begin + rng.randrange(20_000, 90_000)))
    return sorted(stretches)


# ---------------------------------------------------------------------------------------
# Recorded courses (qos_log)


@dataclass
class QosBuilder:
    """Collects qos_log events; data_time is unique per (user, classroom)."""

    rng: random.Random
    records: list[QosRecord] = field(default_factory=list)
    sessions: int = 0
    repeat_sessions: int = 0

    def add(
        self,
        data_ms: int,
        classroom: str,
        user_type: str,
        user: int,
        sub_event: str,
        ppt: int | None,
    ) -> None:
        event_ms = data_ms + 50 + int(self.rng.random() * 1_450)
        self.records.append(
            QosRecord(
                event_ms, data_ms, classroom, user_type, user, sub_event, ppt, len(self.records)
            )
        )

    def add_session(self, start: int, classroom: str, user_type: str, user: int) -> int:
        """One viewing: PPT_START, PPT_PAGE..., other events, usually PPT_SUCCESS; returns its end."""
        rng = self.rng
        self.sessions += 1
        moment = start
        self.add(moment, classroom, user_type, user, "PPT_START", 0)
        pages = rng.randint(8, 30)
        for page in range(1, pages + 1):
            moment += rng.randint(10_000, 120_000)
            self.add(moment, classroom, user_type, user, "PPT_PAGE", page)
            if rng.random() < 0.05:
                moment += rng.randint(1_000, 30_000)
                self.add(
                    moment,
                    classroom,
                    user_type,
                    user,
                    rng.choice(("PPT_PAUSE", "VIDEO_STUCK")),
                    None,
                )
        if rng.random() < 0.85:
            moment += rng.randint(2_000, 20_000)
            self.add(moment, classroom, user_type, user, "PPT_SUCCESS", pages)
            if rng.random() < 0.03:
                moment += rng.randint(5_000, 60_000)
                self.add(moment, classroom, user_type, user, "PPT_SUCCESS", pages)
        return moment


def build_qos_records(options: GeneratorOptions, clock: BusinessClock, world: World) -> QosBuilder:
    rng = derive_random(options.seed, "qos")
    builder = QosBuilder(rng)
    classrooms = [str(50_000_000 + k) for k in range(options.scaled(40, minimum=3))]
    for _ in range(options.scaled(300)):
        user, user_type = pick_recorded_viewer(rng, world)
        classroom = rng.choice(classrooms)
        start = clock.at_day_fraction(7) + rng.randrange(0, 15 * HOUR_MS)
        end = builder.add_session(start, classroom, user_type, user)
        while rng.random() < 0.2:
            gap = (
                rng.randint(5 * 60_000, 120 * 60_000)
                if rng.random() < 0.6
                else rng.randint(
                    options.lookback_seconds * 1000 + 60_000,
                    options.lookback_seconds * 1000 + 3 * HOUR_MS,
                )
            )
            if end + gap > clock.day_end_ms - HOUR_MS:
                break
            builder.repeat_sessions += 1
            end = builder.add_session(end + gap, classroom, user_type, user)
    add_qos_edge_cases(options, clock, builder, classrooms)
    return builder


def pick_recorded_viewer(rng: random.Random, world: World) -> tuple[int, str]:
    roll = rng.random()
    if roll < 0.9:
        return rng.choice(world.learners), "student"
    if roll < 0.97:
        return rng.choice(world.teachers), "teacher"
    return 7_000_000 + rng.randrange(0, 500), "parent"


def add_qos_edge_cases(
    options: GeneratorOptions, clock: BusinessClock, builder: QosBuilder, classrooms: list[str]
) -> None:
    """Orphan PPT_SUCCESS, equal data_time (not strictly earlier), look-back boundaries."""
    rng = builder.rng
    lookback = options.lookback_seconds * 1000
    edge_user = 6_000_000
    for number in range(options.scaled(9)):
        moment = clock.at_day_fraction(8) + rng.randrange(0, 14 * HOUR_MS)
        builder.add(
            moment, rng.choice(classrooms), "student", edge_user + number, "PPT_SUCCESS", 12
        )
    base = clock.at_day_fraction(9)
    equal_user, exact_user, beyond_user = (
        edge_user + 900_001,
        edge_user + 900_002,
        edge_user + 900_003,
    )
    builder.add(base, classrooms[0], "student", equal_user, "PPT_PAGE", 3)
    builder.add(base, classrooms[0], "student", equal_user, "PPT_SUCCESS", 3)
    builder.add(base, classrooms[0], "student", exact_user, "PPT_START", 0)
    builder.add(base + lookback, classrooms[0], "student", exact_user, "PPT_SUCCESS", 20)
    builder.add(base, classrooms[0], "student", beyond_user, "PPT_START", 0)
    builder.add(base + lookback + 1, classrooms[0], "student", beyond_user, "PPT_SUCCESS", 20)


# ---------------------------------------------------------------------------------------
