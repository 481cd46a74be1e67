"""The load of the live-classroom benchmark (``bench realtime``, issue 11): what is generated and
published, apart from what is measured (:mod:`classpulse.bench.realtime_labels`).

- the benchmark's day of the five live-classroom topics sized to the part-1 day, in rooms
  preheated and published into the benchmark's own warehouse, so the enrichment lookups find
  them (the generator's share of unknown rooms stays unknown);
- the topic files produced into Kafka, keyed by room;
- :class:`LivePacer`, the paced live load of the decision-latency measurement.
"""

from __future__ import annotations

import time
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classpulse.classroom_help.records import (
    TOPICS,
    AvSample,
    CoursewareEvent,
    DeviceSample,
    EnterMessage,
    HelpRequest,
    Message,
    render,
)
from classpulse.config import Settings

if TYPE_CHECKING:
    from classpulse.bench.realtime_labels import LabelsFigures

MESSAGES_PER_LESSON = 1_350  # the live-classroom generator's volume per 10-minute lesson
MINIMUM_LESSONS = 20
ROOM_ID_BASE = 40_000_000  # the benchmark's preheated rooms
DAY = date(2026, 11, 20)  # the part-1 day of bench realtime


# -- the day and its dimension ------------------------------------------------------------------


def lessons_for(options: Any) -> int:
    """As many lessons as give the live-classroom topics about the part-1 day's volume."""
    return max(MINIMUM_LESSONS, int(options.messages) // MESSAGES_PER_LESSON)


def bench_rooms(count: int) -> list[Any]:
    """The rooms the benchmark preheats: one tutor and one student each (deterministic)."""
    from classpulse.classroom_help.generator import KnownRoom

    return [
        KnownRoom(ROOM_ID_BASE + index, 3_000_000 + index, (1_000_000 + index,))
        for index in range(count)
    ]


def publish_rooms(settings: Settings, report: Any) -> None:
    """One preheat run of the benchmark's rooms into its warehouse, published (the lookups read
    dim.live_room_current and dim.room_membership_current)."""
    from classpulse.classroom_help.rules import PublishedMember, PublishedRoom
    from classpulse.preheat.publication import publish_dimension

    figures: LabelsFigures = report.labels
    rooms = bench_rooms(figures.lessons)
    run_id, lesson_base = 1, 90_000_000
    day = DAY.isoformat()
    publish_dimension(
        settings,
        [
            PublishedRoom(
                room.room_id, lesson_base + i, day, "small", 2, room.tutor_id, 500 + i % 7, run_id
            )
            for i, room in enumerate(rooms)
        ],
        [
            PublishedMember(
                lesson_base + i,
                room.room_id,
                room.student_ids[0],
                room.tutor_id,
                700 + i % 11,
                600 + i % 13,
            )
            for i, room in enumerate(rooms)
        ],
        run_id,
    )
    figures.published_rooms = len(rooms)


def produce_live_classroom(settings: Settings, topics_dir: Path, report: Any) -> None:
    """The five topics' files into Kafka (keyed by room, as every producer of them), counted in
    the benchmark's ``produced``; the day's part-1 producer knows only the part-1 topics."""
    from classpulse.kafka.produce import TopicProducer, file_lines, message_key
    from classpulse.topics import list_complete_files

    producer = TopicProducer(settings)
    for topic in TOPICS:
        producer.delivered.setdefault(topic, 0)
        if not (topics_dir / topic).is_dir():
            continue
        for path in list_complete_files(topics_dir, topic):
            for line in file_lines(path):
                producer.send(topic, line, message_key(topic, line))
    producer.flush()
    report.labels.produced = {topic: producer.delivered.get(topic, 0) for topic in TOPICS}
    report.produced.update(report.labels.produced)


# -- the paced live load ------------------------------------------------------------------------


class LivePacer:
    """A paced live load: every second each room's teacher and student send an audio and a video
    sample, the teacher a courseware page turn, every fifth second both a device sample; help
    presses from the rooms' students in turn at ``press_rate`` per second. Event time = send
    time; the message key is the room."""

    def __init__(self, producer: Any, rooms: list[tuple[int, int, int]], press_rate: float):
        self.producer = producer
        self.rooms = rooms  # (room_id, teacher_id, student_id)
        self.press_interval = 1.0 / press_rate
        self.begun: float | None = None
        self.ticks = 0
        self.presses = 0
        self.messages = 0
        self.sent: dict[str, int] = {}  # request_id -> produce time (epoch ms), measured only

    def send(self, message: Message) -> None:
        self.producer.send(message.topic, render(message).encode(), str(message.room_id).encode())
        self.messages += 1

    def enter(self) -> None:
        now = int(time.time() * 1000)
        for room, teacher, student in self.rooms:
            for user, role in ((teacher, "teacher"), (student, "student")):
                self.send(
                    EnterMessage(
                        room_id=room,
                        user_id=user,
                        role=role,
                        client_time=now,
                        server_time=now,
                        action="enter",
                        result="success",
                        started_at=now - 800,
                    )
                )

    def run_for(self, seconds: float, presses: bool, measured: bool) -> None:
        if self.begun is None:
            self.begun = time.monotonic()
        until = time.monotonic() + seconds
        next_press = time.monotonic()
        while True:
            due = self.begun + self.ticks
            if due >= until:
                # the next tick is due after this span: wait it out (returning at once made the
                # callers' loops spin, logging the same line hundreds of times)
                pause = until - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                break
            while presses and next_press < min(due, until):
                pause = next_press - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                self.press(measured)
                next_press += self.press_interval
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self.tick()
            self.ticks += 1

    def tick(self) -> None:
        now = int(time.time() * 1000)
        for room, teacher, student in self.rooms:
            for user, role in ((teacher, "teacher"), (student, "student")):
                envelope = {
                    "room_id": room,
                    "user_id": user,
                    "role": role,
                    "client_time": now,
                    "server_time": now,
                }
                self.send(AvSample(**envelope, media="audio", interval_ms=1000, bitrate_kbps=48))
                self.send(AvSample(**envelope, media="video", interval_ms=1000, bitrate_kbps=600))
                if self.ticks % 5 == 0:
                    self.send(DeviceSample(**envelope))
            self.send(
                CoursewareEvent(
                    room_id=room,
                    user_id=teacher,
                    role="teacher",
                    client_time=now,
                    server_time=now,
                    action="page_turn",
                    origin="self",
                    result="ok",
                )
            )

    def press(self, measured: bool) -> None:
        room, _, student = self.rooms[self.presses % len(self.rooms)]
        request_id = f"bench-{uuid.uuid4().hex[:12]}"
        now = int(time.time() * 1000)
        self.send(
            HelpRequest(
                room_id=room,
                user_id=student,
                role="student",
                client_time=now,
                server_time=now,
                request_id=request_id,
            )
        )
        self.presses += 1
        if measured:
            self.sent[request_id] = now
