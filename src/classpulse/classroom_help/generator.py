"""A day of one-to-one lessons on the five live-classroom topics (contract A.1).

Each lesson is a room with a teacher and a student sending enter/leave, audio and video samples,
device samples and courseware events. A lesson is either clean or carries one labelled problem
(A.3) over a stretch of time; some problems get a help press (some redelivered, some expired, some
with a supervisor already in the room), some are never reported (proactive detection), and some
presses have nothing the labels can see. Every kind of bad input of contract section 0 is mixed
in, and a share of messages arrives late. Rooms come from the preheated lessons when given, plus
a share of unknown rooms. The expected marts are computed from the generated records by
``classpulse.classroom_help.rules``, never by SQL.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from classpulse.classroom_help import rules
from classpulse.classroom_help.records import (
    AV,
    COURSEWARE,
    DEVICE,
    ENTER,
    HELP,
    TOPICS,
    AvSample,
    CoursewareEvent,
    DeviceSample,
    EnterMessage,
    HelpRequest,
    Message,
    UnionMessage,
    render,
)
from classpulse.classroom_help.rules.labels import PROBLEM_LABELS

EXPECTED_DIR = "_expected"
FUTURE_LIMIT_MS = 300_000

# The problem a lesson is given: each problem label of the rules (rules.labels.PROBLEM_LABELS)
# but not_in_room, in their order, with device_abnormal as its three causes (the user's device, a
# busy CPU, the peer's device).
DEVICE_CAUSES = ("device", "cpu", "peer_device")
PROBLEMS = tuple(
    problem
    for label in PROBLEM_LABELS
    if label != "not_in_room"
    for problem in (DEVICE_CAUSES if label == "device_abnormal" else (label,))
)
REPORTING = ("pressed",) * 8 + ("redelivered", "expired", "fm_present", "unreported")


@dataclass(frozen=True, slots=True)
class KnownRoom:
    """A preheated room (dim.live_room_current) the generator puts a lesson in."""

    room_id: int
    tutor_id: int = 0
    student_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class LabelsOptions:
    day: date
    seed: int = 1
    lessons: int = 60
    lesson_minutes: int = 10
    sample_every_ms: int = 2_000
    timezone: str = "Asia/Shanghai"
    unknown_room_share: float = 0.1
    problem_share: float = 0.8
    uncovered_press_share: float = 0.05
    late_share: float = 0.002
    bad_share: float = 0.002  # per bad-input kind


@dataclass(slots=True)
class LessonPlan:
    room_id: int
    teacher_id: int
    student_id: int
    start: int
    end: int
    problem: str | None = None
    reporting: str | None = None
    resolved: bool = True


@dataclass
class LabelsDay:
    """What was generated: accepted records per topic, bad lines, late records and the plans."""

    accepted: dict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)
    late: list[Message] = field(default_factory=list)
    lessons: list[LessonPlan] = field(default_factory=list)
    lines: dict[str, list[tuple[int, str, Message | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def day_start_ms(day: date, timezone: str) -> int:
    return int(datetime.combine(day, time(0), ZoneInfo(timezone)).timestamp() * 1000)


class LessonSimulator:
    """Messages of one lesson, with its problem applied over [problem_from, problem_to)."""

    def __init__(self, plan: LessonPlan, options: LabelsOptions, rng: random.Random) -> None:
        self.plan = plan
        self.options = options
        self.rng = rng
        self.messages: list[Message] = []
        length = plan.end - plan.start
        self.problem_from = plan.start + rng.randrange(length // 4, length // 2)
        # the press comes 25-29 s into the problem, so the evidence window sees a third of it
        self.pressed_at = self.problem_from + rng.randrange(25_000, 29_000)
        # a problem that goes away ends before the verification window of its press
        verify_from = rules.verify_start(rules.decision_time(self.pressed_at))
        self.problem_to = (
            verify_from - rng.randrange(0, 3_000)
            if plan.resolved
            else self.problem_from + rng.randrange(120_000, 200_000)
        )

    def received(self, client_time: int) -> int:
        return client_time + self.rng.randrange(40, 400)

    def troubled(self, user_id: int, t: int, who: str = "requester") -> bool:
        owner = self.plan.student_id if who == "requester" else self.plan.teacher_id
        return user_id == owner and self.problem_from <= t < self.problem_to

    def simulate(self) -> list[Message]:
        plan = self.plan
        for user_id, role in ((plan.teacher_id, "teacher"), (plan.student_id, "student")):
            self.simulate_user(user_id, role)
        if plan.reporting == "fm_present":
            self.simulate_fm()
        self.press_help()
        return self.messages

    def envelope(self, user_id: int, role: str, t: int) -> dict[str, object]:
        return dict(
            room_id=self.plan.room_id,
            user_id=user_id,
            role=role,
            client_time=t,
            server_time=self.received(t),
        )

    def simulate_user(self, user_id: int, role: str) -> None:
        plan, rng, problem = self.plan, self.rng, self.plan.problem
        joined = plan.start + rng.randrange(0, 5_000)
        # the student has the requester's problems; the teacher the peer's
        mine = "requester" if role == "student" else "peer"
        if problem == "enter_fail" and role == "student":
            t = self.problem_from
            while t < self.problem_to:
                self.messages.append(
                    EnterMessage(
                        **self.envelope(user_id, role, t),
                        action="enter",
                        result="fail",
                        started_at=t - 3_000,
                        failed_component=rng.choice(
                            ("sdk", "gateway", "media", "message", "courseware")
                        ),
                    )
                )
                t += 8_000
        slow = problem == "enter_slow" and role == "student"
        self.messages.append(
            EnterMessage(
                **self.envelope(user_id, role, joined),
                action="enter",
                result="success",
                started_at=joined - (12_000 if slow else 1_500),
            )
        )
        absent = problem == "peer_absent" and role == "teacher"
        if absent:
            self.messages.append(
                EnterMessage(**self.envelope(user_id, role, self.problem_from), action="leave")
            )
            back = self.problem_to
            self.messages.append(
                EnterMessage(
                    **self.envelope(user_id, role, back),
                    action="enter",
                    result="success",
                    started_at=back - 2_000,
                )
            )
        step = self.options.sample_every_ms
        t = joined + 200
        while t < plan.end:
            away = (absent and self.problem_from <= t < self.problem_to) or (
                problem == "enter_fail"
                and role == "student"
                and self.problem_from <= t < self.problem_to
            )
            if not away:
                self.sample_av(user_id, role, t, mine)
                if (t - joined) % 10_000 < step:
                    self.sample_device(user_id, role, t + 100, mine)
                if rng.random() < 0.08:
                    self.courseware(user_id, role, t + 300, mine)
            t += step
        if problem == "courseware_load_fail" and role == "student":
            self.messages.append(
                CoursewareEvent(
                    **self.envelope(user_id, role, self.problem_from + 1_000),
                    action="load",
                    origin="self",
                    result="fail",
                )
            )
            if plan.resolved:
                self.messages.append(
                    CoursewareEvent(
                        **self.envelope(user_id, role, self.problem_to),
                        action="load",
                        origin="self",
                        result="ok",
                    )
                )
        self.messages.append(EnterMessage(**self.envelope(user_id, role, plan.end), action="leave"))

    def sample_av(self, user_id: int, role: str, t: int, mine: str) -> None:
        problem = self.plan.problem if self.troubled(user_id, t, mine) else None
        for media, offset in (("audio", 0), ("video", 50)):
            step = self.options.sample_every_ms
            sample = AvSample(
                **self.envelope(user_id, role, t + offset),
                media=media,
                interval_ms=step,
                bitrate_kbps=48 if media == "audio" else 600,
                freeze_ms=0,
                loss_pct=self.rng.randrange(0, 3),
                rtt_ms=self.rng.randrange(40, 200),
            )
            if problem == f"{media}_stall":
                sample.freeze_ms = self.rng.randrange(step // 2, step + 1)
            if (problem, media) in (("cannot_hear", "audio"), ("cannot_see", "video")):
                sample.bitrate_kbps = 0
            if problem == "net_bad":
                sample.loss_pct = self.rng.randrange(35, 60)
            if problem == "net_poor":
                sample.rtt_ms = self.rng.randrange(700, 900)
            self.messages.append(sample)

    def sample_device(self, user_id: int, role: str, t: int, mine: str) -> None:
        sample = DeviceSample(**self.envelope(user_id, role, t), cpu_pct=self.rng.randrange(10, 70))
        if self.plan.problem == "device" and self.troubled(user_id, t, mine):
            sample.mic = self.rng.choice(("missing", "denied", "error"))
        if self.plan.problem == "cpu" and self.troubled(user_id, t, mine):
            sample.cpu_pct = self.rng.randrange(90, 101)
        if self.plan.problem == "peer_device" and self.troubled(user_id, t, "peer"):
            sample.camera = self.rng.choice(("missing", "denied", "error"))
        self.messages.append(sample)

    def courseware(self, user_id: int, role: str, t: int, mine: str) -> None:
        action = self.rng.choice(("page_turn", "draw", "drag"))
        origin = self.rng.choice(("self", "peer"))
        event = CoursewareEvent(
            **self.envelope(user_id, role, t),
            action=action,
            origin=origin,
            result="ok",
            lag_ms=self.rng.randrange(50, 800) if origin == "peer" else None,
        )
        if self.troubled(user_id, t, mine):
            if self.plan.problem == "courseware_out_of_sync" and origin == "peer":
                event.lag_ms = self.rng.randrange(3_001, 9_000)
            if self.plan.problem == "cannot_draw" and origin == "self" and action != "page_turn":
                event.result = "fail"
        self.messages.append(event)
        # a troubled user's failing action follows: (problem, delay ms, action, origin)
        for problem, delay, failing, side in (
            ("courseware_out_of_sync", 1, "page_turn", "peer"),
            ("cannot_draw", 2, "draw", "self"),
        ):
            if self.plan.problem == problem and self.troubled(user_id, t, mine):
                self.messages.append(
                    CoursewareEvent(
                        **self.envelope(user_id, role, t + delay),
                        action=failing,
                        origin=side,
                        result="fail",
                    )
                )

    def simulate_fm(self) -> None:
        fm_id = 9_000_000 + self.plan.student_id % 1_000_000
        t = self.problem_from - 5_000
        self.messages.append(
            EnterMessage(
                **self.envelope(fm_id, "fm", t),
                action="enter",
                result="success",
                started_at=t - 1_000,
            )
        )
        while t < self.problem_to + 40_000:
            t += 5_000
            self.messages.append(DeviceSample(**self.envelope(fm_id, "fm", t)))
        self.messages.append(EnterMessage(**self.envelope(fm_id, "fm", t + 1), action="leave"))

    def press_help(self) -> None:
        plan = self.plan
        if plan.reporting in (None, "unreported"):
            return
        requester = plan.student_id
        h = self.pressed_at
        request_id = f"h{plan.room_id % 100_000_000}-{h}"
        press = HelpRequest(**self.envelope(requester, "student", h), request_id=request_id)
        if plan.reporting == "expired":
            press.server_time = h + self.rng.randrange(60_001, 120_000)
        self.messages.append(press)
        if plan.reporting == "redelivered":
            self.messages.append(
                HelpRequest(
                    **{
                        **self.envelope(requester, "student", h),
                        "server_time": press.server_time + 3_000,
                    },
                    request_id=request_id,
                )
            )
            # and a second press inside the duplicate horizon: merged
            again = h + self.rng.randrange(5_000, 30_000)
            self.messages.append(
                HelpRequest(
                    **self.envelope(requester, "student", again), request_id=f"{request_id}-again"
                )
            )


def corrupt(rng: random.Random, topic: str, line: str, kind: str) -> str:
    """A bad line of one kind from a good one (contract section 0)."""
    document = json.loads(line)
    if kind == "malformed_json":
        return line[: rng.randrange(1, len(line) - 1)]
    if kind == "missing_field":
        name = rng.choice(("room_id", "user_id", "role", "client_time", "server_time"))
        if rng.random() < 0.5:
            del document[name]
        else:
            document[name] = None
    elif kind == "wrong_type":
        choices = {
            ENTER: (("action", "Enter"), ("user_id", "abc")),
            AV: (("loss_pct", 101), ("freeze_ms", 10**6), ("media", "screen"), ("rtt_ms", -1)),
            DEVICE: (("mic", "OK"), ("cpu_pct", 120), ("camera", 1)),
            COURSEWARE: (("lag_ms", -5), ("origin", "other"), ("result", "N/A")),
            HELP: (("request_id", ""), ("role", "parent"), ("client_time", "yesterday")),
        }[topic]
        name, value = rng.choice(choices)
        document[name] = value
    elif kind == "future_timestamp":
        document["client_time"] = (
            document["server_time"] + FUTURE_LIMIT_MS + rng.randrange(1, 9_000_000)
        )
    return json.dumps(document, separators=(",", ":"))


def plan_lessons(
    options: LabelsOptions, rooms: Sequence[KnownRoom], rng: random.Random
) -> list[LessonPlan]:
    base = day_start_ms(options.day, options.timezone)
    length = options.lesson_minutes * 60_000
    plans: list[LessonPlan] = []
    for index in range(options.lessons):
        if rooms and rng.random() >= options.unknown_room_share:
            room = rooms[index % len(rooms)]
            room_id = room.room_id
            teacher = 2_000_000 + index
            student = room.student_ids[0] if room.student_ids else 1_000_000 + index
        else:
            room_id = 7_000_000_000 + index  # no preheated room
            teacher, student = 2_000_000 + index, 1_000_000 + index
        # lessons from 09:00 to 21:00 business time, on 30 s boundaries plus noise
        start = (
            base + 9 * 3_600_000 + rng.randrange(0, 12 * 120) * 30_000 + rng.randrange(0, 30_000)
        )
        plan = LessonPlan(room_id, teacher, student, start, start + length)
        draw = rng.random()
        if draw < options.problem_share:
            plan.problem = rng.choice(PROBLEMS)
            plan.reporting = rng.choice(REPORTING)
            plan.resolved = rng.random() < 0.85
        elif draw < options.problem_share + options.uncovered_press_share:
            plan.reporting = "pressed"  # nothing wrong the labels can see
        plans.append(plan)
    return plans


def generate_labels_day(
    options: LabelsOptions, out: Path, rooms: Sequence[KnownRoom] = ()
) -> LabelsDay:
    """Write the five topics under ``out/<topic>/`` and the expected marts under
    ``out/_expected/``; returns what was generated."""
    rng = random.Random(options.seed)
    result = LabelsDay()
    result.lessons = plan_lessons(options, rooms, rng)
    messages: list[Message] = []
    for plan in result.lessons:
        messages.extend(LessonSimulator(plan, options, rng).simulate())
    by_topic: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        if message.topic != HELP and rng.random() < options.late_share:
            message.server_time = message.client_time + rng.randrange(30_000, 120_000)
            result.late.append(message)
        by_topic[message.topic].append(message)
    for topic in TOPICS:
        write_topic(options, out, topic, by_topic[topic], rng, result)
    write_expected(options, out, result)
    return result


def write_topic(
    options: LabelsOptions,
    out: Path,
    topic: str,
    messages: list[Message],
    rng: random.Random,
    result: LabelsDay,
) -> None:
    """One file per business hour of arrival; lines in arrival (server_time) order."""
    directory = out / topic
    directory.mkdir(parents=True, exist_ok=True)
    zone = ZoneInfo(options.timezone)
    files: dict[str, list[str]] = defaultdict(list)
    for message in sorted(messages, key=lambda m: (m.server_time, m.client_time)):
        name = (
            datetime.fromtimestamp(message.server_time / 1000, zone).strftime("%Y%m%d%H") + ".jsonl"
        )
        lines = files[name]
        line = render(message)
        bad = None
        for kind in ("malformed_json", "missing_field", "wrong_type", "future_timestamp"):
            if rng.random() < options.bad_share:
                bad = kind
        if bad is not None:
            lines.append(corrupt(rng, topic, line, bad))
            result.rejected[(topic, bad)] += 1
            continue
        if rng.random() < 0.02:  # numbers as numeric strings are valid
            document = json.loads(line)
            document["user_id"] = str(document["user_id"])
            line = json.dumps(document, separators=(",", ":"))
        lines.append(line)
        message.split, message.position = name, len(lines)
        result.accepted[topic].append(message)
    for name, lines in files.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_expected(options: LabelsOptions, out: Path, result: LabelsDay) -> None:
    union: list[UnionMessage] = [
        m
        for topic in (ENTER, AV, DEVICE, COURSEWARE)
        for m in result.accepted[topic]  # type: ignore[misc]
    ]
    labels = rules.label_rows(union)
    requests = [m for m in result.accepted[HELP] if isinstance(m, HelpRequest)]
    triage = rules.triage_rows(labels, requests)
    expected = out / EXPECTED_DIR
    expected.mkdir(parents=True, exist_ok=True)
    for name, rows in (
        ("room_user_labels_30s", [row.as_dict() for row in labels]),
        ("help_request_triage", triage),
        ("help_triage_daily", rules.daily_rows(triage, options.timezone)),
    ):
        with open(expected / f"{name}.jsonl", "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, separators=(",", ":")) + "\n")
