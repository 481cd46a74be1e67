"""Signal generator: a simulated day of an online school on the seven contract topics.

``classpulse generate`` simulates one business day (``--start``, business time zone from
settings, Asia/Shanghai by default): live lessons in rooms with a teacher and students
(courseware actions on ``timeline_client_topic``, audio/video quality every few seconds on
``agora_record``), recorded-course sessions (``qos_log``), registrations and account updates
(``uc_account-user``, ``uc_account-student``), the channel dictionary and course-consultant
order follow-ups. It injects every kind of bad input named in
``shared/spec/DATA_CONTRACT.md`` and writes, next to the topics, what it generated:
``_manifest.json`` (parameters, counts per topic and reason, anomaly counts, late events
per mart, mart totals) and ``_expected/<mart>.jsonl``, the complete offline mart rows
computed here from the generator's own records (late events included), plus
``_expected/late_events/<mart>.jsonl``, the events a real-time window drops.

Layout and order
- One file per topic per UTC hour of arrival (``YYYYMMDDTHH0000Z.jsonl``), or with
  ``--rate`` one small file per topic per second of replay
  (``YYYYMMDDTHHMMSSmmmZ-<tick>.jsonl``); file-name order is time order.
- Inside a file, events follow arrival order; event times are in order up to a jitter
  below 2 s, except the injected late events, each written right after an event whose
  event time is at least ``late_min`` (default 5 min) ahead of it.
- Numbers are written as JSON numbers or as numeric strings (mixed within and across
  messages); ids of snapshot topics (id, channel_id, student_id, order_id) are strings, or
  JSON integers in about one message in five (the same ids); classroom ids of qos_log and
  agora_record are strings, or JSON integers in about one message in ten;
  nullable numbers of ``agora_record`` (user_id, agora_channel_id) may be ``null``; a
  student's ``channel_id`` may be ``null`` or absent (a valid student, level ``other``).
- Every rejected message is an extra, corrupted copy of a valid one, written right after
  it; the valid messages alone are the simulated day.
- Run it twice with the same options and every file is byte-identical: each component
  draws from its own ``random.Random`` seeded from ``--seed``, nothing reads the clock.

Rules decided where the contract leaves room (also listed in the manifest's ``rules``)
- Rejection precedence: not a JSON object -> ``malformed_json``; a required field absent
  or null -> ``missing_field``; a numeric field (required or not) holding a non-numeric
  string, or a required datetime field (register_date_time, update_time) holding a string
  that is not a valid ``YYYY-MM-DD HH:MM:SS`` (``yesterday``, ``N/A``,
  ``2024-02-30 10:00:00``) -> ``wrong_type``; ``timeline_client_topic`` with
  ``data.timestamp - createTime > 300000`` ms -> ``future_timestamp``. Each injected bad
  message has exactly one defect; every numeric and required datetime field of a topic gets
  at least one ``wrong_type`` copy (with a positive share). Numeric means an integer as a
  JSON number or a string matching ``-?[0-9]+``.
- Late events are injected only into events that feed a windowed mart: classified student
  events (classroom_performance_1min), student agora records with a usable metric
  (av_quality_30s) and PPT_SUCCESS messages that produce a row
  (recorded_course_enter_time). A late courseware message keeps its client
  ``data.timestamp`` and gets the ``createTime`` of the event it follows (the server got
  it late). Lateness is measured on ``data.timestamp``, ``messageCreateTime`` and
  ``extra.data_time``. A late agora record counts once per metric it feeds (audio, video),
  the unit of ``event_count``. registrations_hourly_by_level and cc_daily_tracking are
  latest-version aggregates without a window: no late events (stale snapshot versions
  are counted as the anomaly ``stale_snapshot_versions`` instead).
- Share semantics: a share is the fraction of candidate messages (valid messages of the
  topic; feeding events for late) that get the defect; with a positive share each topic
  (for late: each mart) gets at least one.
- classroom_performance_1min and av_quality_30s windows are epoch-aligned (UTC);
  all datetime strings in ``_expected`` are in the business time zone, to the second, except
  recorded_course_enter_time's ``event_time`` and ``create_time`` (epoch fields: to the
  millisecond, ``YYYY-MM-DD HH:MM:SS.mmm``).
- recorded_course_enter_time: earlier events are valid qos_log messages of the same
  ``user_id`` (numeric) and ``classroom_id`` (string) with ``extra.data_time`` strictly
  below the PPT_SUCCESS's and at least ``data_time - lookback`` (3 h inclusive). Among
  earliest-time ties the smallest ``event_time`` wins. ``user_type`` and ``event_time``
  come from that earliest event (the seed's left side); ``create_time`` is the
  PPT_SUCCESS's ``event_time`` (the seed used processing time, which nothing can check).
- av_quality_30s: ``event_avg`` = event_sum / event_count as a float.
- Snapshots: latest version per id by ``update_time`` (string order of
  ``YYYY-MM-DD HH:MM:SS``), ties to the later message; channels too.
  registrations_hourly_by_level: ``reg_hour`` from the latest user's
  ``register_date_time``; the test-account rule applies to the latest user's ``name``.
- cc_daily_tracking: ``attribution_date`` = date part of ``confirm_date_time`` (business
  time zone), ``update_time`` = greatest ``update_time`` among the counted orders.
"""

from __future__ import annotations

import bisect
import gc
import json
import random
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import compress
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from classpulse.topics import (
    TOPICS,
    TopicDirectoryWriter,
    TopicSink,
    list_complete_files,
    write_file_atomically,
)

HOUR_MS = 3_600_000
JITTER_BOUND_MS = 2_000
FUTURE_LIMIT_MS = 300_000
REASONS: tuple[str, ...] = ("malformed_json", "missing_field", "wrong_type", "future_timestamp")
MANIFEST_NAME = "_manifest.json"
EXPECTED_DIR = "_expected"
LATE_DIR = "late_events"

TIMELINE = "timeline_client_topic"
AGORA = "agora_record"
QOS = "qos_log"
STUDENT = "uc_account-student"
USER = "uc_account-user"
CHANNEL = "blink_stg_activity__channel_name_dictionary_da"
ORDER = "data_pack_order_info"

CLASSROOM_MART = "classroom_performance_1min"
RECORDED_MART = "recorded_course_enter_time"
AV_MART = "av_quality_30s"
REGISTRATION_MART = "registrations_hourly_by_level"
CC_MART = "cc_daily_tracking"
MARTS: tuple[str, ...] = (CLASSROOM_MART, RECORDED_MART, AV_MART, REGISTRATION_MART, CC_MART)
MART_COLUMNS: dict[str, tuple[str, ...]] = {
    CLASSROOM_MART: (
        "start_time",
        "end_time",
        "webserver_id",
        "user_id",
        "role",
        "event",
        "event_count",
    ),
    RECORDED_MART: (
        "user_id",
        "classroom_id",
        "user_type",
        "spend_time",
        "event_time",
        "create_time",
    ),
    AV_MART: (
        "start_time",
        "end_time",
        "user_id",
        "web_server_id",
        "classroom_id",
        "user_type",
        "extra_uid",
        "event",
        "event_sum",
        "event_avg",
        "event_count",
    ),
    REGISTRATION_MART: ("reg_hour", "level", "leads"),
    CC_MART: ("cc_id", "cc_index", "type", "attribution_date", "update_time"),
}

Path_ = tuple[str, ...]
REQUIRED_FIELDS: dict[str, tuple[Path_, ...]] = {
    TIMELINE: (
        ("createTime",),
        ("data", "userid"),
        ("data", "roomid"),
        ("data", "timestamp"),
        ("data", "role"),
        ("data", "msgid"),
        ("data", "msg", "msgtype"),
    ),
    AGORA: (("event",), ("user_type",), ("messageCreateTime",)),
    QOS: (("classroom_id",), ("user_id",), ("event_time",), ("sub_event",), ("extra", "data_time")),
    STUDENT: (("id",), ("update_time",)),  # channel_id may be null or absent: level other
    USER: (("id",), ("name",), ("register_date_time",), ("status",), ("update_time",)),
    CHANNEL: (("id",), ("level",), ("update_time",)),
    ORDER: (("id",), ("cc_id",), ("status",), ("update_time",)),
}
NUMERIC_FIELDS: dict[str, tuple[Path_, ...]] = {
    TIMELINE: REQUIRED_FIELDS[TIMELINE] + (("data", "msg", "msg_data", "page_index"),),
    AGORA: (
        ("messageCreateTime",),
        ("user_id",),
        ("agora_channel_id",),
        ("agora_videoState", "fr"),
        ("agora_videoState", "uid"),
        ("agora_audioState", "lost"),
        ("agora_audioState", "uid"),
    ),
    QOS: (("user_id",), ("event_time",), ("extra", "data_time"), ("extra", "msg", "pptIndex")),
    STUDENT: (),
    USER: (),
    CHANNEL: (),
    ORDER: (("cc_id",), ("status",)),
}

# Required datetime fields ('YYYY-MM-DD HH:MM:SS'); an invalid one is wrong_type.
DATETIME_FIELDS: dict[str, tuple[Path_, ...]] = {
    TIMELINE: (),
    AGORA: (),
    QOS: (),
    STUDENT: (("update_time",),),
    USER: (("register_date_time",), ("update_time",)),
    CHANNEL: (("update_time",),),
    ORDER: (("update_time",),),
}
# Ids written as a JSON integer or a string ("42" and 42 are the same id).
ID_FIELDS: dict[str, tuple[str, ...]] = {
    STUDENT: ("id", "channel_id"),
    USER: ("id",),
    CHANNEL: ("id",),
    ORDER: ("id", "student_id", "order_id"),
}

STUDENT_EVENTS: tuple[str, ...] = (
    "STUDENT_MOVE_PICTURE",
    "STUDENT_HOVER_PICTURE",
    "STUDENT_LINE_DRAW",
    "STUDENT_AUDIO_PLAY",
    "STUDENT_AUDIO_PAUSE",
    "STUDENT_MATCH_WRONG",
    "STUDENT_MATCH_CORRECT",
)
LEVELS_AD = ("A", "B", "C", "D")
OTHER_LEVELS = ("E", "S", "a", "VIP")


class GeneratorError(RuntimeError):
    """The generator cannot run with these options or output."""


# ---------------------------------------------------------------------------------------
# Options, clock and random streams


@dataclass(frozen=True)
class GeneratorOptions:
    """Everything that determines the generated bytes."""

    start: date
    seed: int = 1
    scale: float = 1.0
    timezone: str = "Asia/Shanghai"
    malformed_share: float = 0.001
    missing_share: float = 0.001
    wrong_type_share: float = 0.001
    future_share: float = 0.001
    late_share: float = 0.002
    late_min_seconds: int = 300
    lookback_seconds: int = 10_800

    def validate(self) -> None:
        if not self.scale > 0:
            raise GeneratorError(f"scale must be positive, got {self.scale}")
        for name in ("malformed_share", "missing_share", "wrong_type_share", "future_share"):
            if not 0 <= getattr(self, name) <= 0.2:
                raise GeneratorError(f"{name} must be between 0 and 0.2")
        if not 0 <= self.late_share <= 0.2:
            raise GeneratorError("late_share must be between 0 and 0.2")
        if not 30 <= self.late_min_seconds <= 3_000:
            raise GeneratorError("late_min_seconds must be between 30 and 3000")
        if not 60 <= self.lookback_seconds <= 86_400:
            raise GeneratorError("lookback_seconds must be between 60 and 86400")
        try:
            ZoneInfo(self.timezone)
        except Exception as error:
            raise GeneratorError(f"unknown time zone {self.timezone!r}") from error

    def share_of(self, reason: str) -> float:
        return {
            "malformed_json": self.malformed_share,
            "missing_field": self.missing_share,
            "wrong_type": self.wrong_type_share,
            "future_timestamp": self.future_share,
        }[reason]

    def scaled(self, base: float, minimum: int = 1) -> int:
        return max(minimum, round(base * self.scale))


class BusinessClock:
    """Epoch milliseconds of the business day and their business-time strings."""

    def __init__(self, day: date, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self.day = day
        self.day_start_ms = self.epoch_ms(day, 0, 0, 0)
        self.day_end_ms = self.epoch_ms(day + timedelta(days=1), 0, 0, 0)
        self._cache: dict[int, str] = {}

    def epoch_ms(self, day: date, hour: int, minute: int, second: int) -> int:
        moment = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=self.zone)
        return int(moment.timestamp()) * 1000

    def format(self, ms: int) -> str:
        """``YYYY-MM-DD HH:MM:SS`` in the business time zone (milliseconds dropped)."""
        second = ms // 1000
        text = self._cache.get(second)
        if text is None:
            text = datetime.fromtimestamp(second, self.zone).strftime("%Y-%m-%d %H:%M:%S")
            self._cache[second] = text
        return text

    def format_ms(self, ms: int) -> str:
        """``YYYY-MM-DD HH:MM:SS.mmm`` in the business time zone (an epoch field's own precision)."""
        return f"{self.format(ms - ms % 1000)}.{ms % 1000:03d}"

    def at_day_fraction(self, hours: float) -> int:
        return self.day_start_ms + int(hours * HOUR_MS)


def derive_random(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible random stream per component."""
    return random.Random(":".join(["classpulse", str(seed), *map(str, parts)]))


def allot(carry: float, share: float, candidates: int) -> tuple[int, float]:
    """How many of ``candidates`` get a defect; the remainder carries to the next chunk."""
    wanted = carry + share * candidates
    count = min(candidates, int(wanted))
    return count, wanted - count


def initial_carry(share: float) -> float:
    """A positive share guarantees at least one occurrence."""
    return 1.0 if share > 0 else 0.0


# ---------------------------------------------------------------------------------------
# Number formatting: JSON numbers or numeric strings


def quote_number(value: int) -> str:
    return f'"{value}"'


BARE = str
QUOTED = quote_number
# pattern 0: all bare, 1: all quoted, 2: even positions quoted, 3: odd positions quoted
PATTERN_TABLE = (0,) * 12 + (1,) * 2 + (2,) * 3 + (3,) * 3


def make_quoters(width: int) -> tuple[tuple[Callable[[int], str], ...], ...]:
    return (
        (BARE,) * width,
        (QUOTED,) * width,
        tuple(QUOTED if i % 2 == 0 else BARE for i in range(width)),
        tuple(QUOTED if i % 2 == 1 else BARE for i in range(width)),
    )


QUOTERS_8 = make_quoters(8)
QUOTERS_7 = make_quoters(7)
QUOTERS_4 = make_quoters(4)


def format_nullable(value: int | None, quoter: Callable[[int], str]) -> str:
    return "null" if value is None else quoter(value)


def dump_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------
# Courseware message kinds (timeline_client_topic)


@dataclass(frozen=True)
class MessageKind:
    """One kind of courseware message: ids, the msg_data fragments, and its event."""

    name: str
    role: int
    msgid: int
    msgtype: int
    fragments: tuple[str, ...]  # JSON fragments of msg_data without page_index; () = none
    event: int  # index into STUDENT_EVENTS, -1 when the message carries no event
    weight: int  # per mille within its participant's table


def build_fragments(
    target_ids: Sequence[str], target_type: str, action: str, sub_actions: Sequence[str]
) -> tuple[str, ...]:
    return tuple(
        f'"target_id":{dump_json(target)},"target_type":{dump_json(target_type)},'
        f'"action":{dump_json(action)},"sub_action":{dump_json(sub)}'
        for target in target_ids
        for sub in sub_actions
    )


PICTURES = tuple(f"pic_{n}" for n in range(1, 9))
LINES = tuple(f"line_{n}" for n in range(1, 5))
AUDIOS = tuple(f"audio_{n}" for n in range(1, 5))


def build_student_kinds() -> list[MessageKind]:
    event = STUDENT_EVENTS.index
    return [
        MessageKind("move", 2, 305, 116, build_fragments(PICTURES, "shape", "move", ("drag", "drop")), event("STUDENT_MOVE_PICTURE"), 200),
        MessageKind("hover", 2, 305, 116, build_fragments(PICTURES, "shape", "mouse", ("over",)), event("STUDENT_HOVER_PICTURE"), 150),
        MessageKind("line", 2, 305, 116, build_fragments(LINES, "shape", "add", ("pen", "line")), event("STUDENT_LINE_DRAW"), 120),
        MessageKind("audio_play", 2, 305, 116, build_fragments(AUDIOS, "template", "audio", ("start",)), event("STUDENT_AUDIO_PLAY"), 90),
        MessageKind("audio_pause", 2, 305, 116, build_fragments(AUDIOS, "template", "audio", ("pause",)), event("STUDENT_AUDIO_PAUSE"), 60),
        MessageKind("match_wrong", 2, 305, 116, build_fragments(("match",), "template", "match", ("drop:wrong",)), event("STUDENT_MATCH_WRONG"), 60),
        MessageKind("match_correct", 2, 305, 116, build_fragments(("match",), "template", "match", ("drop:correct",)), event("STUDENT_MATCH_CORRECT"), 100),
        # valid, unclassified near misses
        MessageKind("hover_out", 2, 305, 116, build_fragments(PICTURES, "shape", "mouse", ("out",)), -1, 40),
        MessageKind("audio_stop", 2, 305, 116, build_fragments(AUDIOS, "template", "audio", ("stop",)), -1, 20),
        MessageKind("match_option", 2, 305, 116, build_fragments(("option_2",), "template", "match", ("drop:correct",)), -1, 20),
        MessageKind("match_case", 2, 305, 116, build_fragments(("match",), "template", "match", ("drop:Correct",)), -1, 10),
        MessageKind("shape_case", 2, 305, 116, build_fragments(PICTURES[:2], "Shape", "move", ("drag",)), -1, 10),
        MessageKind("rotate", 2, 305, 116, build_fragments(PICTURES[:4], "shape", "rotate", ("cw",)), -1, 20),
        MessageKind("other_msgtype", 2, 305, 117, build_fragments(PICTURES[:4], "shape", "move", ("drag",)), -1, 20),
        MessageKind("other_msgid", 2, 306, 116, build_fragments(PICTURES[:4], "shape", "move", ("drag",)), -1, 10),
        MessageKind("chat", 2, 101, 1, build_fragments(("chat",), "text", "send", ("plain",)), -1, 40),
        MessageKind("hand_up", 2, 102, 5, build_fragments(("hand",), "button", "raise", ("up",)), -1, 30),
    ]  # fmt: skip


def build_teacher_kinds() -> list[MessageKind]:
    return [
        MessageKind("page_turn", 1, 305, 116, build_fragments(("ppt",), "page", "turn", ("next", "prev")), -1, 400),
        MessageKind("teacher_move", 1, 305, 116, build_fragments(PICTURES, "shape", "move", ("drag",)), -1, 250),
        MessageKind("teacher_audio", 1, 305, 116, build_fragments(AUDIOS, "template", "audio", ("start",)), -1, 150),
        MessageKind("teacher_match", 1, 305, 116, build_fragments(("match",), "template", "match", ("drop:correct",)), -1, 100),
        MessageKind("teacher_chat", 1, 101, 1, build_fragments(("chat",), "text", "send", ("plain",)), -1, 100),
    ]  # fmt: skip


STUDENT_KINDS = build_student_kinds()
TEACHER_KINDS = build_teacher_kinds()
HEARTBEAT_STUDENT = MessageKind("heartbeat", 2, 100, 2, (), -1, 0)
HEARTBEAT_TEACHER = MessageKind("heartbeat", 1, 100, 2, (), -1, 0)
KINDS: list[MessageKind] = [*STUDENT_KINDS, *TEACHER_KINDS, HEARTBEAT_STUDENT, HEARTBEAT_TEACHER]
KIND_INDEX = {id(kind): index for index, kind in enumerate(KINDS)}
HEARTBEAT_STUDENT_INDEX = KIND_INDEX[id(HEARTBEAT_STUDENT)]
HEARTBEAT_TEACHER_INDEX = KIND_INDEX[id(HEARTBEAT_TEACHER)]
KIND_EVENT = tuple(kind.event for kind in KINDS)
KIND_FEEDS = tuple(kind.event >= 0 for kind in KINDS)


def build_pick_table(kinds: Sequence[MessageKind]) -> tuple[int, ...]:
    table: list[int] = []
    for kind in kinds:
        table.extend([KIND_INDEX[id(kind)]] * kind.weight)
    if len(table) != 1000:
        raise AssertionError("kind weights must add up to 1000")
    return tuple(table)


STUDENT_PICK = build_pick_table(STUDENT_KINDS)
TEACHER_PICK = build_pick_table(TEACHER_KINDS)

# ---------------------------------------------------------------------------------------
# The simulated world


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


# Timeline record: (create_ms, client_ms, user_id, room_id, kind, fragment, page)
TimelineRecord = tuple[int, int, int, int, int, int, int]
# Agora record: (arrival_ms, create_ms, classroom_id, user_type, user_id, channel_id, event,
#                fr, video_uid, lost, audio_uid, feeds the mart); fr/lost None = state absent
AgoraRecord = tuple[
    int, int, str | None, str, int | None, int | None, str, int | None, int, int | None, int, bool
]
# Qos record: (event_ms, data_ms, classroom_id, user_type, user_id, sub_event, ppt_index, seq)
QosRecord = tuple[int, int, str, str, int, str, int | None, int]
# Snapshot record: (arrival_ms, seq, payload)
SnapshotRecord = tuple[int, int, dict[str, Any]]


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
                (
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
            append((moment + 20 + int(rand() * 1180), moment + offset, user, room, heartbeat, 0, 0))
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
            (
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
            (event_ms, data_ms, classroom, user_type, user, sub_event, ppt, len(self.records))
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
# Accounts, channels and orders (snapshot topics)

NORMAL_NAMES = (
    "王小明", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴敏",
    "Lucy Wang", "Tom Li", "Amy Zhang", "Kevin Liu", "Emma Chen", "Jack Zhao",
)  # fmt: skip
TEST_NAMES = (
    "测试学员{n}",
    "test_user{n}",
    "DM_demo{n}",
    "qa测试{n}",
    "autotest{n}",
    "Contestant {n}",
)
NEAR_MISS_NAMES = ("Test Li {n}", "TEST{n}", "xDM_{n}", "dm_lower{n}", "测 试{n}", "Tester {n}")
FINAL_STATUSES = (("NORMAL", 880), ("FROZEN", 50), ("DELETED", 30), ("normal", 20), ("LOCKED", 20))


@dataclass
class SnapshotBuilder:
    """Collects snapshot versions; arrival is update_time plus a small delivery delay."""

    rng: random.Random
    clock: BusinessClock
    records: dict[str, list[SnapshotRecord]] = field(
        default_factory=lambda: {STUDENT: [], USER: [], CHANNEL: [], ORDER: []}
    )
    sequence: int = 0

    def add(
        self,
        topic: str,
        update_ms: int,
        payload: dict[str, Any],
        arrival_delay_ms: int | None = None,
    ) -> None:
        payload["update_time"] = self.clock.format(update_ms)
        delay = arrival_delay_ms if arrival_delay_ms is not None else int(self.rng.random() * 1_500)
        self.records[topic].append(((update_ms // 1000) * 1000 + delay, self.sequence, payload))
        self.sequence += 1

    def add_stale(self, topic: str, payload: dict[str, Any], after_ms: int) -> None:
        """Re-send an old version (its old update_time) well after newer ones."""
        resent = dict(payload)
        arrival = after_ms + self.rng.randint(600_000, 3_600_000)
        self.records[topic].append((arrival, self.sequence, resent))
        self.sequence += 1


def build_channels(
    options: GeneratorOptions, clock: BusinessClock, snapshots: SnapshotBuilder
) -> tuple[list[str], list[str]]:
    """Channel dictionary; returns (ids with level A-D at first version, other-level ids)."""
    rng = derive_random(options.seed, "channels")
    regular: list[str] = []
    other: list[str] = []
    count = max(len(OTHER_LEVELS) + 4, round(20 + 4 * options.scale))
    for k in range(count):
        channel_id = str(100 + k)
        level = (
            OTHER_LEVELS[k]
            if k < len(OTHER_LEVELS)
            else (rng.choice(OTHER_LEVELS) if rng.random() < 0.1 else rng.choice(LEVELS_AD))
        )
        (regular if level in LEVELS_AD else other).append(channel_id)
        created = clock.day_start_ms - rng.randrange(30, 400) * 86_400_000
        payload = {
            "id": channel_id,
            "chinese_name": f"渠道{k}",
            "english_name": f"channel_{k}",
            "level": level,
            "pid": str(10 + k % 7),
            "create_time": clock.format(created),
            "update_time": "",
            "dept_id": str(900 + k % 5),
        }
        first = clock.day_start_ms + rng.randrange(0, HOUR_MS // 2)  # before any account
        snapshots.add(CHANNEL, first, payload)
        if k == len(OTHER_LEVELS) or rng.random() < 0.25:
            changed = dict(payload, level=rng.choice(LEVELS_AD + OTHER_LEVELS[:1]))
            later = first + rng.randrange(HOUR_MS, 15 * HOUR_MS)
            snapshots.add(CHANNEL, later, changed)
            if k == len(OTHER_LEVELS):
                snapshots.add_stale(CHANNEL, payload, later)
    return regular, other


@dataclass
class AccountPlan:
    user_id: int
    register_ms: int
    name: str
    final_status: str
    channel_id: str | None  # None: the student has no channel (null, or the key absent)
    has_user: bool = True
    has_student: bool = True
    channel_absent: bool = False  # with channel_id None: the key is left out


def pick_weighted(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    roll = rng.random() * sum(weight for _, weight in options)
    for value, weight in options:
        roll -= weight
        if roll < 0:
            return value
    return options[-1][0]


def pick_register_ms(rng: random.Random, clock: BusinessClock) -> int:
    """Registrations spread over the day, peaking late morning and evening."""
    hours = [
        (h, 1 + 3 * (9 <= h <= 11) + 4 * (19 <= h <= 21) + 2 * (14 <= h <= 17)) for h in range(24)
    ]
    hour = int(pick_weighted(rng, [(str(h), w) for h, w in hours]))
    return clock.at_day_fraction(hour) + rng.randrange(0, HOUR_MS)


def pick_account_name(rng: random.Random, index: int, number: int) -> str:
    """The first accounts cover every test-account and near-miss shape, then a few percent."""
    if index < len(TEST_NAMES):
        return TEST_NAMES[index].format(n=number)
    if index < len(TEST_NAMES) + len(NEAR_MISS_NAMES):
        return NEAR_MISS_NAMES[index - len(TEST_NAMES)].format(n=number)
    roll = rng.random()
    if roll < 0.04:
        return rng.choice(TEST_NAMES).format(n=number)
    if roll < 0.07:
        return rng.choice(NEAR_MISS_NAMES).format(n=number)
    return f"{rng.choice(NORMAL_NAMES)}{number % 1000}"


def plan_accounts(
    options: GeneratorOptions,
    clock: BusinessClock,
    world: World,
    regular: list[str],
    other: list[str],
) -> list[AccountPlan]:
    rng = derive_random(options.seed, "accounts")
    plans: list[AccountPlan] = []
    new_accounts = options.scaled(420, minimum=16)
    for k in range(new_accounts):
        user_id = 3_000_000 + k
        plans.append(
            AccountPlan(
                user_id=user_id,
                register_ms=pick_register_ms(rng, clock),
                name=pick_account_name(rng, k, user_id),
                final_status=("FROZEN", "normal")[k % 2]
                if k in (15, 16)
                else pick_weighted(rng, FINAL_STATUSES),
                channel_id=pick_student_channel(rng, k, regular, other),
                has_user=k != 13 and (k < 18 or rng.random() >= 0.03),
                has_student=k != 14 and (k < 18 or rng.random() >= 0.04),
            )
        )
        if k in (18, 19):  # a NORMAL account with no channel: null (18) or absent (19)
            plans[-1].channel_id, plans[-1].channel_absent = None, k == 19
            plans[-1].final_status, plans[-1].name = (
                "NORMAL",
                f"{NORMAL_NAMES[k % len(NORMAL_NAMES)]}{k}",
            )
            plans[-1].has_user = plans[-1].has_student = True
    for k, user_id in enumerate(
        rng.sample(world.learners, min(len(world.learners), options.scaled(180)))
    ):
        plans.append(
            AccountPlan(
                user_id=user_id,
                register_ms=clock.day_start_ms - rng.randrange(1, 30 * 86_400) * 1000,
                name=f"{rng.choice(NORMAL_NAMES)}{user_id % 1000}",
                final_status=pick_weighted(rng, FINAL_STATUSES),
                channel_id=pick_student_channel(rng, k + 100, regular, other),
            )
        )
    return plans


def pick_student_channel(
    rng: random.Random, index: int, regular: list[str], other: list[str]
) -> str | None:
    if index == 17:
        return "99999"
    roll = rng.random()
    if roll < 0.02:
        return None  # no channel at all (null or absent)
    if roll < 0.07:
        return str(90_000 + rng.randrange(0, 9_000))  # no such channel
    if roll < 0.17 and other:
        return rng.choice(other)
    return rng.choice(regular)


def emit_account(
    plan: AccountPlan, index: int, clock: BusinessClock, snapshots: SnapshotBuilder
) -> None:
    """User and student versions of one account, with status changes, ties and stale re-sends."""
    rng = snapshots.rng
    user_key = str(plan.user_id)
    registered_today = plan.register_ms >= clock.day_start_ms
    # a registration is published when it happens; older accounts get today's re-sync
    today = (
        plan.register_ms
        if registered_today
        else clock.at_day_fraction(1) + rng.randrange(0, 5 * HOUR_MS)
    )
    last_ms = clock.day_end_ms - 2_000
    first_ms = min(today + rng.randrange(0, 120_000), last_ms - 10_000)
    user = {
        "id": user_key,
        "name": plan.name,
        "register_date_time": clock.format(plan.register_ms),
        "status": "NORMAL",
        "update_time": "",
    }
    if plan.has_user:
        snapshots.add(USER, first_ms, user)
        versions_ms = first_ms
        if plan.final_status != "NORMAL" or rng.random() < 0.15:
            versions_ms = rng.randrange(first_ms + 1_000, max(first_ms + 2_000, last_ms))
            changed = dict(user, status=plan.final_status)
            snapshots.add(USER, versions_ms, changed)
            if index % 50 == 3 or rng.random() < 0.03:
                snapshots.add_stale(USER, user, versions_ms)
            if index % 50 == 4 or rng.random() < 0.02:
                tie = dict(changed, status="NORMAL" if plan.final_status != "NORMAL" else "FROZEN")
                snapshots.add(USER, versions_ms, tie, arrival_delay_ms=1_900)
    if plan.has_student:
        student_ms = min(first_ms + rng.randrange(1_000, 300_000), last_ms - 5_000)
        moves = index % 50 == 5 or rng.random() < 0.2
        first_channel = rng.choice(("100", "101", "99998")) if moves else plan.channel_id
        absent = plan.channel_absent or (plan.channel_id is None and rng.random() < 0.5)
        student = {"id": user_key, "channel_id": first_channel, "update_time": ""}
        if absent and first_channel is None:
            del student["channel_id"]
        snapshots.add(STUDENT, student_ms, student)
        if moves:  # a channel set -> null sequence when the final channel is None
            moved_ms = rng.randrange(student_ms + 1_000, max(student_ms + 2_000, last_ms))
            moved = dict(student, channel_id=plan.channel_id)
            if absent and plan.channel_id is None:
                del moved["channel_id"]
            snapshots.add(STUDENT, moved_ms, moved)
            if index % 50 == 6 or rng.random() < 0.03:
                snapshots.add_stale(STUDENT, student, moved_ms)


def emit_orphan_students(
    options: GeneratorOptions, clock: BusinessClock, snapshots: SnapshotBuilder, regular: list[str]
) -> None:
    """Students whose id never appears on the user topic."""
    rng = snapshots.rng
    for k in range(options.scaled(12)):
        moment = clock.at_day_fraction(1) + rng.randrange(0, 22 * HOUR_MS)
        snapshots.add(
            STUDENT,
            moment,
            {"id": str(4_000_000 + k), "channel_id": rng.choice(regular), "update_time": ""},
        )


ORDER_FLOWS = (
    ("confirmed", 450),
    ("confirmed_then_canceled", 80),
    ("following", 250),
    ("created", 70),
    ("confirmed_without_time", 40),
    ("confirmed_yesterday", 80),
    ("refund_requested", 30),
)


def build_orders(
    options: GeneratorOptions, clock: BusinessClock, world: World, snapshots: SnapshotBuilder
) -> None:
    rng = derive_random(options.seed, "orders")
    consultants = [300 + k for k in range(options.scaled(10, minimum=3))]
    for k in range(options.scaled(260, minimum=len(ORDER_FLOWS))):
        flow = ORDER_FLOWS[k][0] if k < len(ORDER_FLOWS) else pick_weighted(rng, ORDER_FLOWS)
        emit_order(
            rng, clock, snapshots, k, flow, rng.choice(consultants), rng.choice(world.learners)
        )


def emit_order(
    rng: random.Random,
    clock: BusinessClock,
    snapshots: SnapshotBuilder,
    k: int,
    flow: str,
    cc_id: int,
    student: int,
) -> None:
    created = clock.at_day_fraction(9) + rng.randrange(0, 11 * HOUR_MS)
    ceiling = clock.day_end_ms - 2_000
    base: dict[str, Any] = {
        "id": str(70_000_000 + k),
        "leads_flow_event_id": str(71_000_000 + k),
        "group_id": str(500 + k % 9),
        "cc_id": cc_id,
        "student_id": str(student),
        "order_id": str(88_000_000 + k),
        "leads_id": str(72_000_000 + k),
        "confirm_date_time": None,
        "create_time": clock.format(created),
        "update_time": "",
        "order_create_time": clock.format(created - rng.randrange(0, 3_600) * 1000),
        "canceled_date_time": None,
        "apply_refund_date": None,
        "status": 1,
    }
    if flow == "confirmed_yesterday":
        confirm = clock.day_start_ms - rng.randrange(60, 86_000) * 1000
        snapshots.add(ORDER, created, dict(base, status=3, confirm_date_time=clock.format(confirm)))
        return
    versions: list[tuple[int, dict[str, Any]]] = [(created, dict(base))]
    moment = min(created + rng.randrange(600, 7_200) * 1000, ceiling)
    versions.append((moment, dict(base, status=2)))
    if flow in (
        "confirmed",
        "confirmed_then_canceled",
        "confirmed_without_time",
        "refund_requested",
    ):
        moment = min(moment + rng.randrange(300, 5_400) * 1000, ceiling)
        confirm = None if flow == "confirmed_without_time" else clock.format(moment)
        versions.append((moment, dict(base, status=3, confirm_date_time=confirm)))
        if flow == "confirmed_then_canceled":
            moment = min(moment + rng.randrange(1_800, 10_800) * 1000, ceiling)
            versions.append(
                (moment, dict(versions[-1][1], status=4, canceled_date_time=clock.format(moment)))
            )
        if flow == "refund_requested":
            moment = min(moment + rng.randrange(1_800, 10_800) * 1000, ceiling)
            versions.append(
                (moment, dict(versions[-1][1], status=5, apply_refund_date=clock.format(moment)))
            )
    elif flow == "created":
        versions = versions[:1]
    for update_ms, payload in versions:
        snapshots.add(ORDER, update_ms, payload)
    if len(versions) > 1 and (k % 40 == 7 or rng.random() < 0.03):
        snapshots.add_stale(ORDER, versions[-2][1], versions[-1][0])


def build_snapshots(
    options: GeneratorOptions, clock: BusinessClock, world: World
) -> SnapshotBuilder:
    snapshots = SnapshotBuilder(derive_random(options.seed, "snapshots"), clock)
    regular, other = build_channels(options, clock, snapshots)
    for index, plan in enumerate(plan_accounts(options, clock, world, regular, other)):
        emit_account(plan, index, clock, snapshots)
    emit_orphan_students(options, clock, snapshots, regular)
    build_orders(options, clock, world, snapshots)
    return snapshots


# ---------------------------------------------------------------------------------------
# Bad input: rejected copies


def get_path(document: dict[str, Any], path: Path_) -> Any:
    value: Any = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def corrupt_malformed(rng: random.Random, line: str) -> str:
    roll = rng.random()
    if roll < 0.7:
        return line[: rng.randint(max(1, len(line) // 4), len(line) - 2)]
    if roll < 0.85:
        return "{'" + line[2:]
    return rng.choice(
        ("<html>502 Bad Gateway</html>", "ERROR connection reset by peer", '{"createTime":')
    )


def corrupt_missing(rng: random.Random, topic: str, document: dict[str, Any]) -> str:
    path = rng.choice(REQUIRED_FIELDS[topic])
    parent = get_path(document, path[:-1]) if len(path) > 1 else document
    if rng.random() < 0.8:
        del parent[path[-1]]
    else:
        parent[path[-1]] = None
    return dump_json(document)


WRONG_VALUES = ("abc", "12a", "N/A", "one", "x9")
# Not a valid 'YYYY-MM-DD HH:MM:SS' (contract: wrong_type); an empty string is left out (it could
# be read as a missing value).
BAD_DATETIMES = (
    "yesterday",
    "N/A",
    "2024-02-30 10:00:00",
    "2026-13-01 10:00:00",
    "2026-11-20 24:00:00",
    "2026-11-20",
    "2026/11/20 10:00:00",
    "2026-11-20T10:00:00",
)


def wrong_type_fields(topic: str) -> tuple[Path_, ...]:
    """The fields a wrong_type copy may break: every numeric and required datetime field."""
    return NUMERIC_FIELDS[topic] + DATETIME_FIELDS[topic]


def corrupt_wrong_type(
    rng: random.Random, topic: str, document: dict[str, Any], uncovered: list[Path_]
) -> str | None:
    """Break one field; fields no copy broke yet go first, so every field gets one."""
    present = [path for path in wrong_type_fields(topic) if get_path(document, path) is not None]
    if not present:
        return None
    fresh = [path for path in uncovered if path in present]
    path = fresh[0] if fresh else rng.choice(present)
    if path in uncovered:
        uncovered.remove(path)
    parent = get_path(document, path[:-1]) if len(path) > 1 else document
    bad = BAD_DATETIMES if path in DATETIME_FIELDS[topic] else WRONG_VALUES
    parent[path[-1]] = rng.choice(bad)
    return dump_json(document)


def corrupt_future(rng: random.Random, document: dict[str, Any], first: bool) -> str:
    created = int(document["createTime"])
    ahead = (
        FUTURE_LIMIT_MS + 1 if first else FUTURE_LIMIT_MS + 1 + int(rng.expovariate(1 / 3_600_000))
    )
    value = created + ahead
    document["data"]["timestamp"] = (
        value if isinstance(document["data"]["timestamp"], int) else str(value)
    )
    return dump_json(document)


# ---------------------------------------------------------------------------------------
# Topic handlers: order, late events, formatting, ground truth


@dataclass
class Chunk:
    """One topic's messages of one hour in write order; the lists are aligned."""

    lines: list[str]
    emit_keys: list[int]  # arrival order key; a late or rejected line shares its predecessor's
    records: list[Any]  # the generator's record, None for a rejected line
    late: set[int]  # positions of late events


@dataclass
class TopicStats:
    messages: int = 0
    valid: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    late_events: int = 0
    numeric_string_messages: int = 0
    files: int = 0

    def as_manifest(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "valid": self.valid,
            "rejected": dict(self.rejected),
            "rejected_total": sum(self.rejected.values()),
            "late_events": self.late_events,
            "numeric_string_messages": self.numeric_string_messages,
            "files": self.files,
        }


@dataclass
class LateEvent:
    topic: str
    offset: int
    columns: dict[str, Any]


@dataclass
class ExpectedMart:
    """A mart's expected rows as JSON lines, plus the totals the manifest reports."""

    lines: list[str]
    totals: dict[str, int]


ARRIVAL = itemgetter(0)
KIND_OF = itemgetter(4)  # timeline record
FEEDS = itemgetter(11)  # agora record
AUDIO_SUFFIX = "_AUDIO_STATE"
VIDEO_SUFFIX = "_VIDEO_STATE"
EVENT_TIME_INDEX = 1  # client/create/data time in timeline, agora and qos records


class BaseTopic:
    """Shared chunk logic: sort by arrival, place late events, format, add rejected copies."""

    topic = ""
    late_capable = False

    def __init__(self, options: GeneratorOptions, clock: BusinessClock) -> None:
        self.options = options
        self.clock = clock
        self.stats = TopicStats()
        self.rng = derive_random(options.seed, "arrange", self.topic)
        self.format_rng = derive_random(options.seed, "format", self.topic)
        self.reject_carry = {reason: initial_carry(options.share_of(reason)) for reason in REASONS}
        self.late_carry = initial_carry(options.late_share)
        self.late_min_ms = options.late_min_seconds * 1000
        self.future_injected = 0
        self.uncovered_wrong_type: list[Path_] = list(wrong_type_fields(self.topic))
        self.integer_ids = 0
        self.id_rng = derive_random(options.seed, "ids", self.topic)

    # per-topic hooks -------------------------------------------------------------------
    def feeding_positions(self, records: list[Any]) -> list[int]:
        return []

    def can_anchor(self, record: Any) -> bool:
        return True

    def make_late(self, record: Any, anchor: Any) -> Any:
        return record

    def format_all(self, records: list[Any]) -> list[str]:
        raise NotImplementedError

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        raise NotImplementedError

    def reasons(self) -> tuple[str, ...]:
        applicable = ["malformed_json", "missing_field"]
        if wrong_type_fields(self.topic):
            applicable.append("wrong_type")
        if self.topic == TIMELINE:
            applicable.append("future_timestamp")
        return tuple(applicable)

    # chunk pipeline --------------------------------------------------------------------
    def arrange(self, records: list[Any]) -> Chunk:
        records.sort(key=ARRIVAL)
        ordered, keys, late = self.place_late(records)
        self.check_order(ordered, late)
        chunk = self.inject_rejected(Chunk(self.format_all(ordered), keys, ordered, late))
        self.stats.late_events += len(late)
        return chunk

    def place_late(self, records: list[Any]) -> tuple[list[Any], list[int], set[int]]:
        anchors = self.choose_late(records) if self.late_capable else {}
        if not anchors:
            return records, list(map(ARRIVAL, records)), set()
        moved = {index for group in anchors.values() for index in group}
        ordered: list[Any] = []
        late: set[int] = set()
        previous = 0
        for cut in sorted(moved | anchors.keys()):
            ordered.extend(records[previous:cut])
            previous = cut + 1
            if cut in moved:
                continue
            anchor = records[cut]
            ordered.append(anchor)
            for late_index in anchors[cut]:
                late.add(len(ordered))
                ordered.append(self.make_late(records[late_index], anchor))
        ordered.extend(records[previous:])
        keys = list(map(ARRIVAL, ordered))
        for position in sorted(late):
            keys[position] = keys[position - 1]  # written with (right after) its anchor
        return ordered, keys, late

    def choose_late(self, records: list[Any]) -> dict[int, list[int]]:
        """Late event position -> the event it is written after (>= late_min ahead)."""
        feeding = self.feeding_positions(records)
        wanted, self.late_carry = allot(self.late_carry, self.options.late_share, len(feeding))
        if not wanted:
            return {}
        arrivals = list(map(ARRIVAL, records))
        chosen: set[int] = set()
        anchors: dict[int, list[int]] = {}
        for index in self.rng.sample(feeding, min(len(feeding), wanted * 4 + 8)):
            if len(chosen) == wanted:
                break
            if index in anchors:
                continue
            delay = self.late_min_ms + self.rng.randint(10_000, 600_000)
            target = records[index][EVENT_TIME_INDEX] + delay + JITTER_BOUND_MS
            anchor = self.find_anchor(records, arrivals, index, target, chosen)
            if anchor is not None:
                chosen.add(index)
                anchors.setdefault(anchor, []).append(index)
        self.late_carry += wanted - len(chosen)
        return anchors

    def find_anchor(
        self, records: list[Any], arrivals: list[int], index: int, target: int, chosen: set[int]
    ) -> int | None:
        position = bisect.bisect_left(arrivals, target, lo=index + 1)
        for candidate in range(position, min(len(records), position + 400)):
            if candidate not in chosen and self.can_anchor(records[candidate]):
                return candidate
        return None

    def check_order(self, ordered: list[Any], late: set[int]) -> None:
        """Each late event is at least late_min behind the events written before it.

        The other events are in order up to the jitter by construction (arrival minus event
        time stays within a range narrower than 2 s); the tests re-check both from the files.
        """
        for position in late:
            anchor = position - 1
            while anchor in late:
                anchor -= 1
            behind = ordered[anchor][EVENT_TIME_INDEX] - ordered[position][EVENT_TIME_INDEX]
            if behind < self.late_min_ms:
                raise GeneratorError(f"{self.topic}: a late event is only {behind} ms behind")

    def inject_rejected(self, chunk: Chunk) -> Chunk:
        size = len(chunk.lines)
        self.stats.messages += size
        self.stats.valid += size
        if not size:
            return chunk
        extra: dict[int, list[str]] = defaultdict(list)
        for reason in self.reasons():
            count, carry = allot(self.reject_carry[reason], self.options.share_of(reason), size)
            self.reject_carry[reason] = carry
            if reason == "wrong_type" and self.options.wrong_type_share > 0:
                # every numeric and datetime field gets a wrong_type copy early on
                count = min(size, max(count, len(self.uncovered_wrong_type)))
            for position in sorted(self.rng.sample(range(size), count)):
                line = self.corrupt(reason, chunk.lines[position])
                if line is not None:
                    extra[position].append(line)
                    self.stats.rejected[reason] += 1
                    self.stats.messages += 1
        if not extra:
            return chunk
        merged = Chunk([], [], [], set())
        previous = 0
        for position in sorted(extra):
            shift = len(merged.lines) - previous
            merged.late.update(late + shift for late in chunk.late if previous <= late <= position)
            merged.lines.extend(chunk.lines[previous : position + 1])
            merged.emit_keys.extend(chunk.emit_keys[previous : position + 1])
            merged.records.extend(chunk.records[previous : position + 1])
            bad = extra[position]
            merged.lines.extend(bad)
            merged.emit_keys.extend([chunk.emit_keys[position]] * len(bad))
            merged.records.extend([None] * len(bad))
            previous = position + 1
        shift = len(merged.lines) - previous
        merged.late.update(late + shift for late in chunk.late if late >= previous)
        merged.lines.extend(chunk.lines[previous:])
        merged.emit_keys.extend(chunk.emit_keys[previous:])
        merged.records.extend(chunk.records[previous:])
        return merged

    def write_classroom_ids(self, lines: list[str]) -> list[str]:
        """About one message in ten carries its classroom_id as a JSON integer (the same id)."""
        rand, start = self.id_rng.random, len(CLASSROOM_PREFIX)
        for index, line in enumerate(lines):
            if rand() < 0.1 and line.startswith(CLASSROOM_PREFIX):
                end = line.index('"', start)
                value = line[start:end]
                if value.isdigit() and not value.startswith("0"):
                    lines[index] = '{"classroom_id":' + value + line[end + 1 :]
                    self.integer_ids += 1
        return lines

    def corrupt(self, reason: str, line: str) -> str | None:
        rng = self.rng
        if reason == "malformed_json":
            return corrupt_malformed(rng, line)
        document = json.loads(line)
        if reason == "missing_field":
            return corrupt_missing(rng, self.topic, document)
        if reason == "wrong_type":
            return corrupt_wrong_type(rng, self.topic, document, self.uncovered_wrong_type)
        self.future_injected += 1
        return corrupt_future(rng, document, self.future_injected == 1)


CLASSROOM_PREFIX = '{"classroom_id":"'


def number_slot(pattern: int, position: int) -> str:
    """``%d`` or ``"%d"``: where a pattern writes a number or a numeric string."""
    return '"%d"' if QUOTERS_8[pattern][position] is QUOTED else "%d"


def build_timeline_templates() -> tuple[tuple[tuple[str, ...], ...], ...]:
    """[pattern][kind][fragment] -> %-template over (createTime, userid, roomid, timestamp[, page])."""
    patterns = []
    for pattern in range(4):
        q = QUOTERS_8[pattern]
        kinds = []
        for kind in KINDS:
            head = (
                f'{{"createTime":{number_slot(pattern, 0)},"data":{{"userid":{number_slot(pattern, 1)},'
                f'"roomid":{number_slot(pattern, 2)},"timestamp":{number_slot(pattern, 3)},'
                f'"role":{q[4](kind.role)},"msgid":{q[5](kind.msgid)},"msg":{{"msgtype":{q[6](kind.msgtype)}'
            )
            if not kind.fragments:
                kinds.append((head + "}}}",))
                continue
            kinds.append(
                tuple(
                    f'{head},"msg_data":{{{fragment.replace("%", "%%")},'
                    f'"page_index":{number_slot(pattern, 7)}}}}}}}}}'
                    for fragment in kind.fragments
                )
            )
        patterns.append(tuple(kinds))
    return tuple(patterns)


TIMELINE_TEMPLATES = build_timeline_templates()
KIND_HAS_DATA = tuple(bool(kind.fragments) for kind in KINDS)


class TimelineTopic(BaseTopic):
    topic = TIMELINE
    late_capable = True

    def __init__(self, options: GeneratorOptions, clock: BusinessClock) -> None:
        super().__init__(options, clock)
        self.windows: dict[tuple[int, int, int, int], int] = {}
        self.late: list[LateEvent] = []
        self.unclassified = 0

    def feeding_positions(self, records: list[TimelineRecord]) -> list[int]:
        flags = map(KIND_FEEDS.__getitem__, map(KIND_OF, records))
        return list(compress(range(len(records)), flags))

    def can_anchor(self, record: TimelineRecord) -> bool:
        return KIND_FEEDS[record[4]]

    def make_late(self, record: TimelineRecord, anchor: TimelineRecord) -> TimelineRecord:
        return (anchor[0], *record[1:])  # the server received it with the anchor

    def format_all(self, records: list[TimelineRecord]) -> list[str]:
        rand = self.format_rng.random
        patterns, width = PATTERN_TABLE, len(PATTERN_TABLE)
        templates, has_data = TIMELINE_TEMPLATES, KIND_HAS_DATA
        lines: list[str] = []
        append = lines.append
        quoted = 0
        for created, client, user, room, kind, fragment, page in records:
            pattern = patterns[int(rand() * width)]
            quoted += pattern != 0
            if has_data[kind]:
                append(templates[pattern][kind][fragment] % (created, user, room, client, page))
            else:
                append(templates[pattern][kind][0] % (created, user, room, client))
        self.stats.numeric_string_messages += quoted
        return lines

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        windows, get, events = self.windows, self.windows.get, KIND_EVENT
        unclassified = 0
        for record in chunk.records:
            if record is None:
                continue
            event = events[record[4]]
            if event < 0:
                unclassified += 1
                continue
            client = record[1]
            key = (client - client % 60_000, record[3], record[2], event)
            windows[key] = get(key, 0) + 1
        self.unclassified += unclassified
        for position in sorted(chunk.late):
            self.late.append(self.describe_late(chunk.records[position], start_offset + position))

    def describe_late(self, record: TimelineRecord, offset: int) -> LateEvent:
        client, user, room, event = record[1], record[2], record[3], KIND_EVENT[record[4]]
        window = client - client % 60_000
        columns = {
            "start_time": self.clock.format(window),
            "end_time": self.clock.format(window + 60_000),
            "webserver_id": room,
            "user_id": user,
            "role": 2,
            "event": STUDENT_EVENTS[event],
            "event_time": self.clock.format(client),
            "event_time_ms": client,
        }
        return LateEvent(TIMELINE, offset, columns)

    def expected(self) -> ExpectedMart:
        """Rows in order of first appearance (deterministic, no sort needed)."""
        template = (
            '{"start_time":"%s","end_time":"%s","webserver_id":%d,"user_id":%d,"role":2,'
            '"event":"%s","event_count":%d}'
        )
        fmt, names = self.clock.format, STUDENT_EVENTS
        lines = [
            template % (fmt(window), fmt(window + 60_000), room, user, names[event], count)
            for (window, room, user, event), count in self.windows.items()
        ]
        return ExpectedMart(lines, {"rows": len(lines), "event_count": sum(self.windows.values())})


def build_agora_templates() -> dict[tuple[int, bool, bool], str]:
    """(pattern, has video, has audio) -> %-template for records without null keys."""
    templates = {}
    for pattern in range(4):
        q = QUOTERS_7[pattern]

        def slot(position: int, quoters: tuple[Callable[[int], str], ...] = q) -> str:
            return '"%d"' if quoters[position] is QUOTED else "%d"

        for video in (False, True):
            for audio in (False, True):
                text = (
                    f'{{"classroom_id":"%s","user_type":"%s","user_id":{slot(1)},'
                    f'"agora_channel_id":{slot(2)},"event":"%s"'
                )
                if video:
                    text += f',"agora_videoState":{{"fr":{slot(3)},"uid":{slot(4)}}}'
                if audio:
                    text += f',"agora_audioState":{{"lost":{slot(5)},"uid":{slot(6)}}}'
                templates[(pattern, video, audio)] = text + f',"messageCreateTime":{slot(0)}}}'
    return templates


AGORA_TEMPLATES = build_agora_templates()


def format_agora_slowly(record: AgoraRecord, pattern: int) -> tuple[str, bool]:
    """Records with a null key (rare): built piece by piece."""
    _, created, classroom, user_type, user, channel, event, fr, video_uid, lost, audio_uid, _ = (
        record
    )
    q = QUOTERS_7[pattern]
    room = "null" if classroom is None else f'"{classroom}"'
    text = (
        f'{{"classroom_id":{room},"user_type":"{user_type}","user_id":{format_nullable(user, q[1])},'
        f'"agora_channel_id":{format_nullable(channel, q[2])},"event":"{event}"'
    )
    if fr is not None:
        text += f',"agora_videoState":{{"fr":{q[3](fr)},"uid":{q[4](video_uid)}}}'
    if lost is not None:
        text += f',"agora_audioState":{{"lost":{q[5](lost)},"uid":{q[6](audio_uid)}}}'
    text += f',"messageCreateTime":{q[0](created)}}}'
    has_string = pattern in (1, 2) or (
        pattern == 3 and (user is not None or fr is not None or lost is not None)
    )
    return text, has_string


class AgoraTopic(BaseTopic):
    topic = AGORA
    late_capable = True

    def __init__(self, options: GeneratorOptions, clock: BusinessClock) -> None:
        super().__init__(options, clock)
        self.windows: dict[tuple[Any, ...], list[int]] = {}
        self.late: list[LateEvent] = []
        self.bad_quality = 0
        self.null_keys = 0
        self.non_student = 0

    def feeding_positions(self, records: list[AgoraRecord]) -> list[int]:
        return list(compress(range(len(records)), map(FEEDS, records)))

    def can_anchor(self, record: AgoraRecord) -> bool:
        return record[11]

    def format_all(self, records: list[AgoraRecord]) -> list[str]:
        rand = self.format_rng.random
        patterns, width, templates = PATTERN_TABLE, len(PATTERN_TABLE), AGORA_TEMPLATES
        lines: list[str] = []
        append = lines.append
        quoted = 0
        for record in records:
            _, created, classroom, user_type, user, channel, event, fr, vuid, lost, auid, _ = record
            pattern = patterns[int(rand() * width)]
            if classroom is None or user is None or channel is None:
                line, has_string = format_agora_slowly(record, pattern)
                append(line)
                quoted += has_string
                continue
            quoted += pattern != 0
            template = templates[(pattern, fr is not None, lost is not None)]
            if fr is None and lost is None:
                append(template % (classroom, user_type, user, channel, event, created))
            elif fr is None:
                append(template % (classroom, user_type, user, channel, event, lost, auid, created))
            elif lost is None:
                append(template % (classroom, user_type, user, channel, event, fr, vuid, created))
            else:
                values = (classroom, user_type, user, channel, event, fr, vuid, lost, auid, created)
                append(template % values)
        self.stats.numeric_string_messages += quoted
        return self.write_classroom_ids(lines)

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        windows, get = self.windows, self.windows.get
        null_keys = bad_quality = non_student = 0
        for record in chunk.records:
            if record is None:
                continue
            _, created, classroom, user_type, user, channel, event, fr, vuid, lost, auid, _ = record
            if user is None or channel is None or classroom is None:
                null_keys += 1
                user = -1 if user is None else user
                channel = -1 if channel is None else channel
                classroom = "-1" if classroom is None else classroom
            if (lost is not None and lost >= 10) or (fr is not None and 0 <= fr < 10):
                bad_quality += 1
            if user_type != "student":
                non_student += 1
                continue
            window = created - created % 30_000
            if lost is not None and lost >= 0:
                key = (window, user, channel, classroom, auid, event, AUDIO_SUFFIX)
                totals = get(key)
                if totals is None:
                    windows[key] = [lost, 1]
                else:
                    totals[0] += lost
                    totals[1] += 1
            if fr is not None and fr >= 0:
                key = (window, user, channel, classroom, vuid, event, VIDEO_SUFFIX)
                totals = get(key)
                if totals is None:
                    windows[key] = [fr, 1]
                else:
                    totals[0] += fr
                    totals[1] += 1
        self.null_keys += null_keys
        self.bad_quality += bad_quality
        self.non_student += non_student
        for position in sorted(chunk.late):
            self.late.extend(self.describe_late(chunk.records[position], start_offset + position))

    def describe_late(self, record: AgoraRecord, offset: int) -> list[LateEvent]:
        _, created, classroom, user_type, user, channel, event, fr, vuid, lost, auid, _ = record
        window = created - created % 30_000
        late = []
        for suffix, value, uid in ((AUDIO_SUFFIX, lost, auid), (VIDEO_SUFFIX, fr, vuid)):
            if value is None or value < 0:
                continue
            columns = {
                "start_time": self.clock.format(window),
                "end_time": self.clock.format(window + 30_000),
                "user_id": -1 if user is None else user,
                "web_server_id": -1 if channel is None else channel,
                "classroom_id": "-1" if classroom is None else classroom,
                "user_type": user_type,
                "extra_uid": uid,
                "event": event + suffix,
                "value": value,
                "event_time": self.clock.format(created),
                "event_time_ms": created,
            }
            late.append(LateEvent(AGORA, offset, columns))
        return late

    def expected(self) -> ExpectedMart:
        """Rows in order of first appearance (deterministic, no sort needed)."""
        template = (
            '{"start_time":"%s","end_time":"%s","user_id":%d,"web_server_id":%d,'
            '"classroom_id":"%s","user_type":"student","extra_uid":%d,"event":"%s%s",'
            '"event_sum":%d,"event_avg":%r,"event_count":%d}'
        )
        fmt = self.clock.format
        lines = []
        append = lines.append
        event_count = 0
        for (window, user, channel, classroom, uid, event, suffix), (
            total,
            count,
        ) in self.windows.items():
            event_count += count
            start, end = fmt(window), fmt(window + 30_000)
            append(
                template
                % (
                    start,
                    end,
                    user,
                    channel,
                    classroom,
                    uid,
                    event,
                    suffix,
                    total,
                    total / count,
                    count,
                )
            )
        return ExpectedMart(lines, {"rows": len(lines), "event_count": event_count})


def compute_recorded_rows(
    records: list[QosRecord], lookback_ms: int
) -> dict[int, tuple[QosRecord, QosRecord]]:
    """PPT_SUCCESS seq -> (the success, the earliest earlier event within the look-back)."""
    by_pair: dict[tuple[int, str], list[QosRecord]] = defaultdict(list)
    for record in records:
        by_pair[(record[4], record[2])].append(record)
    rows: dict[int, tuple[QosRecord, QosRecord]] = {}
    for events in by_pair.values():
        events.sort(key=lambda record: (record[1], record[0]))
        times = [record[1] for record in events]
        for record in events:
            if record[5] != "PPT_SUCCESS":
                continue
            low = bisect.bisect_left(times, record[1] - lookback_ms)
            high = bisect.bisect_left(times, record[1])
            if low < high:
                rows[record[7]] = (record, events[low])
    return rows


def build_qos_templates() -> dict[tuple[int, bool], str]:
    """(pattern, has pptIndex) -> %-template."""
    templates = {}
    for pattern in range(4):
        q = QUOTERS_4[pattern]

        def slot(position: int, quoters: tuple[Callable[[int], str], ...] = q) -> str:
            return '"%d"' if quoters[position] is QUOTED else "%d"

        head = (
            f'{{"classroom_id":"%s","user_type":"%s","user_id":{slot(1)},"event_time":{slot(0)},'
            f'"sub_event":"%s","extra":{{"data_time":{slot(2)}'
        )
        templates[(pattern, False)] = head + "}}"
        templates[(pattern, True)] = head + f',"msg":{{"pptIndex":{slot(3)}}}}}}}'
    return templates


QOS_TEMPLATES = build_qos_templates()


class QosTopic(BaseTopic):
    topic = QOS
    late_capable = True

    def __init__(
        self,
        options: GeneratorOptions,
        clock: BusinessClock,
        rows: dict[int, tuple[QosRecord, QosRecord]],
    ) -> None:
        super().__init__(options, clock)
        self.rows = rows
        self.late: list[LateEvent] = []
        self.successes = 0
        self.repeat_sessions = 0

    def feeding_positions(self, records: list[QosRecord]) -> list[int]:
        rows = self.rows
        return [index for index, record in enumerate(records) if record[7] in rows]

    def format_all(self, records: list[QosRecord]) -> list[str]:
        rand = self.format_rng.random
        patterns, width, templates = PATTERN_TABLE, len(PATTERN_TABLE), QOS_TEMPLATES
        lines: list[str] = []
        quoted = 0
        for event_ms, data_ms, classroom, user_type, user, sub_event, ppt, _ in records:
            pattern = patterns[int(rand() * width)]
            quoted += pattern != 0
            if ppt is None:
                values: tuple[Any, ...] = (classroom, user_type, user, event_ms, sub_event, data_ms)
                lines.append(templates[(pattern, False)] % values)
            else:
                values = (classroom, user_type, user, event_ms, sub_event, data_ms, ppt)
                lines.append(templates[(pattern, True)] % values)
        self.stats.numeric_string_messages += quoted
        return self.write_classroom_ids(lines)

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        for record in chunk.records:
            if record is not None and record[5] == "PPT_SUCCESS":
                self.successes += 1
        for position in sorted(chunk.late):
            record = chunk.records[position]
            row = self.row_of(*self.rows[record[7]])
            columns = {
                key: row[key] for key in ("user_id", "classroom_id", "user_type", "spend_time")
            }
            columns["session_start_time"] = row["event_time"]
            columns["event_time"] = self.clock.format_ms(record[0])
            columns["event_time_ms"] = record[0]
            columns["data_time_ms"] = record[1]
            self.late.append(LateEvent(QOS, start_offset + position, columns))

    def row_of(self, success: QosRecord, earliest: QosRecord) -> dict[str, Any]:
        return {
            "user_id": success[4],
            "classroom_id": success[2],
            "user_type": earliest[3],
            "spend_time": success[1] - earliest[1],
            "event_time": self.clock.format_ms(earliest[0]),
            "create_time": self.clock.format_ms(success[0]),
        }

    def expected(self) -> ExpectedMart:
        rows = [self.row_of(success, earliest) for success, earliest in self.rows.values()]
        rows.sort(
            key=lambda row: (
                row["user_id"],
                row["classroom_id"],
                row["create_time"],
                row["spend_time"],
            )
        )
        return ExpectedMart([dump_json(row) for row in rows], {"rows": len(rows)})


class SnapshotTopic(BaseTopic):
    """Users, students, channels, orders: latest version per id, ties to the later message."""

    def __init__(self, options: GeneratorOptions, clock: BusinessClock, topic: str) -> None:
        self.topic = topic
        super().__init__(options, clock)
        self.latest: dict[str, dict[str, Any]] = {}
        self.highest: dict[str, str] = {}
        self.stale = 0
        self.ties = 0

    def format_all(self, records: list[SnapshotRecord]) -> list[str]:
        lines = []
        for record in records:
            document = self.write_ids(record[2])
            if self.topic != ORDER:
                lines.append(dump_json(document))
                continue
            pattern = PATTERN_TABLE[int(self.format_rng.random() * len(PATTERN_TABLE))]
            if pattern in (1, 2):
                document["cc_id"] = str(document["cc_id"])
            if pattern in (1, 3):
                document["status"] = str(document["status"])
            self.stats.numeric_string_messages += pattern != 0
            lines.append(dump_json(document))
        return lines

    def write_ids(self, payload: dict[str, Any]) -> dict[str, Any]:
        """About one message in five carries its ids as JSON integers (the same ids)."""
        document = dict(payload)
        if self.id_rng.random() < 0.2:
            written = False
            for key in ID_FIELDS[self.topic]:
                value = document.get(key)
                if isinstance(value, str) and value.isdigit():
                    document[key] = int(value)
                    written = True
            self.integer_ids += written
        return document

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        for record in chunk.records:
            if record is None:
                continue
            payload = record[2]
            key, updated = payload["id"], payload["update_time"]
            highest = self.highest.get(key)
            if highest is not None and updated < highest:
                self.stale += 1
                continue
            if highest is not None and updated == highest:
                self.ties += 1
            self.highest[key] = updated
            self.latest[key] = payload


# ---------------------------------------------------------------------------------------
# Marts built from the latest snapshots


def is_test_account(name: str) -> bool:
    return "测试" in name or "test" in name or name.startswith("DM_")


def is_near_miss_test_account(name: str) -> bool:
    lowered = name.lower()
    return not is_test_account(name) and ("test" in lowered or "dm_" in lowered or "测 试" in name)


def registration_rows(
    users: dict[str, dict[str, Any]],
    students: dict[str, dict[str, Any]],
    channels: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    leads: dict[tuple[int, str], set[str]] = defaultdict(set)
    for student_id, student in students.items():
        user = users.get(student_id)
        if user is None or user["status"] != "NORMAL" or is_test_account(user["name"]):
            continue
        channel = channels.get(str(student.get("channel_id")))
        level = (
            channel["level"] if channel is not None and channel["level"] in LEVELS_AD else "other"
        )
        stamp = user["register_date_time"]
        reg_hour = int(stamp[0:4] + stamp[5:7] + stamp[8:10] + stamp[11:13])
        leads[(reg_hour, level)].add(student_id)
    return [
        {"reg_hour": hour, "level": level, "leads": len(ids)}
        for (hour, level), ids in sorted(leads.items())
    ]


def is_tracked_order(order: dict[str, Any]) -> bool:
    return int(order["status"]) == 3 and order["confirm_date_time"] is not None


def cc_tracking_rows(orders: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[tuple[int, str], list[Any]] = {}
    for order in orders.values():
        if not is_tracked_order(order):
            continue
        key = (int(order["cc_id"]), order["confirm_date_time"][:10])
        entry = counts.setdefault(key, [0, ""])
        entry[0] += 1
        entry[1] = max(entry[1], order["update_time"])
    return [
        {
            "cc_id": cc_id,
            "cc_index": count,
            "type": 1,
            "attribution_date": day,
            "update_time": updated,
        }
        for (cc_id, day), (count, updated) in sorted(counts.items())
    ]


# ---------------------------------------------------------------------------------------
# Output: batch files, paced replay


def hour_file_name(hour: int) -> str:
    return datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y%m%dT%H0000Z") + ".jsonl"


def tick_file_name(emit_key: int, tick: int) -> str:
    moment = datetime.fromtimestamp(emit_key // 1000, UTC).strftime("%Y%m%dT%H%M%S")
    return f"{moment}{emit_key % 1000:03d}Z-{tick:08d}.jsonl"


@dataclass
class FileIndex:
    """Start offsets of the files of each topic, to name a message's file and line."""

    starts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    names: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def record(self, topic: str, start_offset: int, name: str) -> None:
        self.starts[topic].append(start_offset)
        self.names[topic].append(name)

    def locate(self, topic: str, offset: int) -> tuple[str | None, int | None]:
        starts = self.starts.get(topic)
        if not starts:
            return None, None
        position = bisect.bisect_right(starts, offset) - 1
        return self.names[topic][position], offset - starts[position] + 1


class BatchOutput:
    """One file (or Kafka batch) per topic per hour."""

    def __init__(self, sink: TopicSink, files: FileIndex) -> None:
        self.sink = sink
        self.files = files

    def write_hour(self, hour: int, chunks: dict[str, tuple[int, Chunk]]) -> None:
        name = hour_file_name(hour)
        for topic, (start_offset, chunk) in chunks.items():
            if chunk.lines:
                self.sink.write_chunk(topic, name, chunk.lines)
                self.files.record(topic, start_offset, name)

    def finish(self) -> None:
        return None


class ReplayOutput:
    """``--rate``: every second, the next ``rate`` messages (all topics, arrival order)."""

    def __init__(
        self,
        sink: TopicSink,
        files: FileIndex,
        rate: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink = sink
        self.files = files
        self.per_tick = max(1, int(rate))
        self.sleep = sleep
        self.clock = clock
        self.tick = 0
        self.started = clock()
        self.pending: list[tuple[int, int, int, str]] = []  # (emit key, topic, offset, line)

    def write_hour(self, hour: int, chunks: dict[str, tuple[int, Chunk]]) -> None:
        merged: list[tuple[int, int, int, str]] = []
        for topic_index, topic in enumerate(TOPICS):
            if topic in chunks:
                start_offset, chunk = chunks[topic]
                merged.extend(
                    (key, topic_index, start_offset + position, line)
                    for position, (key, line) in enumerate(
                        zip(chunk.emit_keys, chunk.lines, strict=True)
                    )
                )
        merged.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
        # A tick ends only between different emit keys: a late event and the rejected copies
        # share the emit key of the line they follow, so they stay in its file.
        for position, entry in enumerate(merged):
            self.pending.append(entry)
            following = merged[position + 1][0] if position + 1 < len(merged) else None
            if len(self.pending) >= self.per_tick and following != entry[0]:
                self.flush_tick()

    def flush_tick(self) -> None:
        if not self.pending:
            return
        by_topic: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for _, topic_index, offset, line in self.pending:
            by_topic[topic_index].append((offset, line))
        name = tick_file_name(self.pending[0][0], self.tick)
        for topic_index in sorted(by_topic):
            topic = TOPICS[topic_index]
            entries = by_topic[topic_index]
            self.sink.write_chunk(topic, name, [line for _, line in entries])
            self.files.record(topic, entries[0][0], name)
        self.pending = []
        self.tick += 1
        delay = self.started + self.tick - self.clock()
        if delay > 0:
            self.sleep(delay)

    def finish(self) -> None:
        self.flush_tick()


# ---------------------------------------------------------------------------------------
# The run


@dataclass
class GenerationResult:
    manifest: dict[str, Any]
    messages: int
    seconds: float

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


ProgressCallback = Callable[[int, int, int], None]


def prepare_output(out: Path, clean: bool, writes_topics: bool) -> None:
    """Refuse to mix runs: earlier generator output is removed only with ``clean``."""
    leftovers = [topic for topic in TOPICS if list_complete_files(out, topic)]
    if leftovers and writes_topics and not clean:
        raise GeneratorError(
            f"{out} already holds topic files ({', '.join(leftovers)}); use --clean to replace them"
        )
    if clean:
        for topic in TOPICS:
            shutil.rmtree(out / topic, ignore_errors=True)
        shutil.rmtree(out / EXPECTED_DIR, ignore_errors=True)
        (out / MANIFEST_NAME).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def generate(
    options: GeneratorOptions,
    out: Path,
    *,
    sink: TopicSink | None = None,
    rate: float | None = None,
    clean: bool = False,
    on_progress: ProgressCallback | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> GenerationResult:
    """Simulate the day, write the topics to ``sink`` (default: files under ``out``) and the
    manifest and expected marts under ``out``."""
    options.validate()
    began = time.perf_counter()
    out = Path(out)
    prepare_output(out, clean, writes_topics=sink is None)
    target: TopicSink = sink if sink is not None else TopicDirectoryWriter(out)
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived tuples: the cyclic collector only costs time here
    try:
        handlers, files, messages = write_topics(options, target, rate, on_progress, sleep)
    finally:
        target.close()
        if collecting:
            gc.enable()
    to_files = isinstance(target, TopicDirectoryWriter)
    if not to_files:
        files = FileIndex()  # Kafka: offsets only, no files or lines
    for topic, starts in files.starts.items():
        handlers[topic].stats.files = len(starts)
    expected = compute_expected(handlers)
    manifest = build_manifest(options, handlers, expected, rate)
    manifest["sink"] = "files" if to_files else "kafka"
    write_expected(out, handlers, expected, files)
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    write_file_atomically(out, MANIFEST_NAME, text.encode("utf-8"))
    return GenerationResult(manifest, messages, time.perf_counter() - began)


def write_topics(
    options: GeneratorOptions,
    target: TopicSink,
    rate: float | None,
    on_progress: ProgressCallback | None,
    sleep: Callable[[float], None],
) -> tuple[dict[str, Any], FileIndex, int]:
    """Simulate hour by hour (lessons stream in as their hour comes) and write each chunk."""
    clock = BusinessClock(options.start, options.timezone)
    world = build_world(options, clock)
    snapshots = build_snapshots(options, clock, world)
    qos = build_qos_records(options, clock, world)
    rows = compute_recorded_rows(qos.records, options.lookback_seconds * 1000)
    handlers = build_handlers(options, clock, rows)
    handlers[QOS].repeat_sessions = qos.repeat_sessions
    buckets = bucket_static_records(snapshots, qos)
    hours = sorted(
        {hour for per_topic in buckets.values() for hour in per_topic} | lesson_hours(world)
    )
    files = FileIndex()
    output: BatchOutput | ReplayOutput = (
        ReplayOutput(target, files, rate, sleep=sleep) if rate else BatchOutput(target, files)
    )
    offsets = dict.fromkeys(TOPICS, 0)
    lessons = iter(world.lessons)
    next_lesson = next(lessons, None)
    for done, hour in enumerate(hours, start=1):
        while next_lesson is not None and next_lesson.start_ms < (hour + 1) * HOUR_MS:
            simulate_lesson(options, next_lesson, buckets)
            next_lesson = next(lessons, None)
        chunks: dict[str, tuple[int, Chunk]] = {}
        for topic in TOPICS:
            chunk = handlers[topic].arrange(buckets[topic].pop(hour, []))
            handlers[topic].accept_chunk(chunk, offsets[topic])
            chunks[topic] = (offsets[topic], chunk)
            offsets[topic] += len(chunk.lines)
        output.write_hour(hour, chunks)
        if on_progress is not None:
            on_progress(done, len(hours), sum(offsets.values()))
    output.finish()
    return handlers, files, sum(offsets.values())


def build_handlers(
    options: GeneratorOptions, clock: BusinessClock, rows: dict[int, tuple[QosRecord, QosRecord]]
) -> dict[str, Any]:
    return {
        TIMELINE: TimelineTopic(options, clock),
        AGORA: AgoraTopic(options, clock),
        QOS: QosTopic(options, clock, rows),
        STUDENT: SnapshotTopic(options, clock, STUDENT),
        USER: SnapshotTopic(options, clock, USER),
        CHANNEL: SnapshotTopic(options, clock, CHANNEL),
        ORDER: SnapshotTopic(options, clock, ORDER),
    }


def bucket_static_records(
    snapshots: SnapshotBuilder, qos: QosBuilder
) -> dict[str, dict[int, list[Any]]]:
    buckets: dict[str, dict[int, list[Any]]] = {topic: defaultdict(list) for topic in TOPICS}
    for record in qos.records:
        buckets[QOS][record[0] // HOUR_MS].append(record)
    for topic, records in snapshots.records.items():
        for snapshot in records:
            buckets[topic][snapshot[0] // HOUR_MS].append(snapshot)
    return buckets


def lesson_hours(world: World) -> set[int]:
    hours: set[int] = set()
    for lesson in world.lessons:
        hours.update(range(lesson.start_ms // HOUR_MS, (lesson.end_ms + 2_000) // HOUR_MS + 1))
    return hours


def simulate_lesson(
    options: GeneratorOptions, lesson: Lesson, buckets: dict[str, dict[int, list[Any]]]
) -> None:
    timeline = buckets[TIMELINE]
    rng = derive_random(options.seed, "timeline", lesson.number)
    for record in simulate_lesson_timeline(lesson, rng):
        timeline[record[0] // HOUR_MS].append(record)
    agora = buckets[AGORA]
    rng = derive_random(options.seed, "agora", lesson.number)
    for agora_record in simulate_lesson_agora(lesson, rng):
        agora[agora_record[0] // HOUR_MS].append(agora_record)


# ---------------------------------------------------------------------------------------
# Manifest and expected marts

RULES = (
    "rejection precedence: malformed_json, then missing_field (absent or null), then wrong_type (any numeric field holding a non-numeric string, or a required datetime that is not a valid YYYY-MM-DD HH:MM:SS), then future_timestamp (timeline data.timestamp - createTime > 300000 ms)",
    "uc_account-student.channel_id may be null or absent: the student is valid and counts under level other",
    'ids (snapshot id, channel_id, student_id, order_id; classroom_id of qos_log and agora_record) arrive as strings or JSON integers; "42" and 42 are the same id',
    "numeric: an integer JSON number or a string matching -?[0-9]+",
    "late events: only in events feeding classroom_performance_1min, av_quality_30s, recorded_course_enter_time; measured on data.timestamp, messageCreateTime, extra.data_time; each written after an event at least late_min ahead in the same file",
    "av_quality_30s late events count once per metric (audio, video) the record feeds",
    "registrations_hourly_by_level and cc_daily_tracking have no window: no late events",
    "windows of 1 min and 30 s are epoch-aligned (UTC); datetime strings in _expected are business time zone, seconds, except recorded_course_enter_time's event_time and create_time (and its late events' event_time), epoch fields kept to the millisecond",
    "recorded_course_enter_time: user_type and event_time of the earliest earlier event, create_time = the PPT_SUCCESS event_time; look-back inclusive; earliest-time ties take the smallest event_time",
    "av_quality_30s: event_avg = event_sum / event_count (float)",
    "snapshot latest version: greatest update_time, ties to the later message (file-name then line order); channels too",
    "cc_daily_tracking: attribution_date = confirm_date_time date part; update_time = greatest update_time of the counted orders",
    "shares: fraction of candidates (valid messages; feeding events for late); a positive share yields at least one per topic (late: per mart)",
)


def compute_expected(handlers: dict[str, Any]) -> dict[str, ExpectedMart]:
    """The complete offline rows of every mart, late events included."""
    registrations = registration_rows(
        handlers[USER].latest, handlers[STUDENT].latest, handlers[CHANNEL].latest
    )
    tracking = cc_tracking_rows(handlers[ORDER].latest)
    return {
        CLASSROOM_MART: handlers[TIMELINE].expected(),
        RECORDED_MART: handlers[QOS].expected(),
        AV_MART: handlers[AGORA].expected(),
        REGISTRATION_MART: ExpectedMart(
            [dump_json(row) for row in registrations],
            {"rows": len(registrations), "leads": sum(row["leads"] for row in registrations)},
        ),
        CC_MART: ExpectedMart(
            [dump_json(row) for row in tracking],
            {"rows": len(tracking), "cc_index": sum(row["cc_index"] for row in tracking)},
        ),
    }


def late_events_by_mart(handlers: dict[str, Any]) -> dict[str, list[LateEvent]]:
    return {
        CLASSROOM_MART: handlers[TIMELINE].late,
        RECORDED_MART: handlers[QOS].late,
        AV_MART: handlers[AGORA].late,
        REGISTRATION_MART: [],
        CC_MART: [],
    }


def build_manifest(
    options: GeneratorOptions,
    handlers: dict[str, Any],
    expected: dict[str, ExpectedMart],
    rate: float | None,
) -> dict[str, Any]:
    timeline: TimelineTopic = handlers[TIMELINE]
    agora: AgoraTopic = handlers[AGORA]
    recorded: QosTopic = handlers[QOS]
    users, students, channels, orders = (
        handlers[topic] for topic in (USER, STUDENT, CHANNEL, ORDER)
    )
    stats = {topic: handlers[topic].stats for topic in TOPICS}
    anomalies = {
        reason: sum(stat.rejected[reason] for stat in stats.values()) for reason in REASONS
    }
    anomalies.update(
        {
            "late_events": sum(stat.late_events for stat in stats.values()),
            "numeric_string_messages": sum(stat.numeric_string_messages for stat in stats.values()),
            "unclassified_timeline_messages": timeline.unclassified,
            "av_bad_quality_records": agora.bad_quality,
            "av_null_keys": agora.null_keys,
            "av_non_student_records": agora.non_student,
            "ppt_success_without_row": recorded.successes - len(recorded.rows),
            "ppt_repeat_sessions": recorded.repeat_sessions,
            "test_accounts": sum(is_test_account(user["name"]) for user in users.latest.values()),
            "test_account_near_misses": sum(
                is_near_miss_test_account(user["name"]) for user in users.latest.values()
            ),
            "non_normal_status_users": sum(
                user["status"] != "NORMAL" for user in users.latest.values()
            ),
            "other_level_channels": sum(
                channel["level"] not in LEVELS_AD for channel in channels.latest.values()
            ),
            "students_missing_channel": sum(
                str(student.get("channel_id")) not in channels.latest
                for student in students.latest.values()
            ),
            "students_without_channel_id": sum(
                student.get("channel_id") is None for student in students.latest.values()
            ),
            "id_integer_messages": sum(
                handlers[topic].integer_ids for topic in (USER, STUDENT, CHANNEL, ORDER, QOS, AGORA)
            ),
            "students_without_user": sum(key not in users.latest for key in students.latest),
            "orders_not_eligible": sum(
                not is_tracked_order(order) for order in orders.latest.values()
            ),
            "orders_status_3_without_confirm": sum(
                int(order["status"]) == 3 and order["confirm_date_time"] is None
                for order in orders.latest.values()
            ),
            "stale_snapshot_versions": sum(
                handlers[topic].stale for topic in (USER, STUDENT, CHANNEL, ORDER)
            ),
            "snapshot_version_ties": sum(
                handlers[topic].ties for topic in (USER, STUDENT, CHANNEL, ORDER)
            ),
        }
    )
    late = late_events_by_mart(handlers)
    marts: dict[str, dict[str, Any]] = {}
    for mart in MARTS:
        summary: dict[str, Any] = dict(expected[mart].totals)
        summary["late_events"] = len(late[mart])
        summary["file"] = f"{EXPECTED_DIR}/{mart}.jsonl"
        summary["late_file"] = f"{EXPECTED_DIR}/{LATE_DIR}/{mart}.jsonl"
        summary["columns"] = list(MART_COLUMNS[mart])
        marts[mart] = summary
    parameters = asdict(options)
    parameters["start"] = options.start.isoformat()
    return {
        "generator": "classpulse generate",
        "format_version": 1,
        "parameters": parameters,
        "mode": "replay" if rate else "batch",
        "replay_rate": rate,
        "time": {
            "business_time_zone": options.timezone,
            "datetime_strings": "YYYY-MM-DD HH:MM:SS in the business time zone",
            "epoch_fields": "milliseconds since 1970-01-01 UTC",
            "windows": "1 min and 30 s windows epoch-aligned (UTC)",
            "reg_hour": "YYYYMMDDHH of register_date_time, business time zone",
        },
        "layout": {
            "topic_files": "<topic>/YYYYMMDDTHH0000Z.jsonl per UTC hour of arrival; with --rate "
            "<topic>/YYYYMMDDTHHMMSSmmmZ-<tick>.jsonl per second of replay",
            "expected": f"{EXPECTED_DIR}/<mart>.jsonl: complete offline rows, contract columns",
            "late_events": f"{EXPECTED_DIR}/{LATE_DIR}/<mart>.jsonl: one row per late event "
            "(av_quality_30s: per metric); offset = 0-based position in the topic (file-name "
            "then line order; the offset of a one-partition Kafka topic), file and line where "
            "written (null with --kafka)",
        },
        "ordering": {
            "jitter_bound_ms": JITTER_BOUND_MS,
            "late_min_ms": options.late_min_seconds * 1000,
            "event_time_fields": {
                TIMELINE: "data.timestamp",
                AGORA: "messageCreateTime",
                QOS: "extra.data_time",
            },
        },
        "topics": {topic: stats[topic].as_manifest() for topic in TOPICS},
        "totals": {
            "messages": sum(stat.messages for stat in stats.values()),
            "valid": sum(stat.valid for stat in stats.values()),
            "rejected": sum(sum(stat.rejected.values()) for stat in stats.values()),
        },
        "anomalies": anomalies,
        "late_events": {mart: marts[mart]["late_events"] for mart in MARTS},
        "marts": marts,
        "rules": list(RULES),
    }


def write_expected(
    out: Path, handlers: dict[str, Any], expected: dict[str, ExpectedMart], files: FileIndex
) -> None:
    directory = out / EXPECTED_DIR
    for mart in MARTS:
        lines = expected[mart].lines
        write_file_atomically(
            directory, f"{mart}.jsonl", "".join(f"{line}\n" for line in lines).encode()
        )
    for mart, late in late_events_by_mart(handlers).items():
        rows = []
        for event in late:
            name, line = files.locate(event.topic, event.offset)
            location = {
                "mart": mart,
                "topic": event.topic,
                "offset": event.offset,
                "file": name,
                "line": line,
            }
            rows.append({**location, **event.columns})
        write_file_atomically(directory / LATE_DIR, f"{mart}.jsonl", encode_rows(rows))


def encode_rows(rows: list[dict[str, Any]]) -> bytes:
    return "".join(dump_json(row) + "\n" for row in rows).encode("utf-8")


def default_start(timezone: str) -> date:
    """Today in the business time zone."""
    return datetime.now(ZoneInfo(timezone)).date()
