"""Contract A.3 in pure Python: a label row per user and sliding 30 s window of union messages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from classpulse.classroom_help.records import (
    TOPIC_RANK,
    AvSample,
    CoursewareEvent,
    DeviceSample,
    EnterMessage,
    UnionMessage,
)

WINDOW_MS = 30_000
SLIDE_MS = 15_000
SLOW_ENTER_MS = 10_000
DUPLICATE_HORIZON_MS = 60_000
EXPIRY_MS = 60_000

PROBLEM_LABELS = (
    "not_in_room",
    "enter_fail",
    "enter_slow",
    "peer_absent",
    "audio_stall",
    "video_stall",
    "cannot_hear",
    "cannot_see",
    "net_bad",
    "net_poor",
    "device_abnormal",
    "courseware_load_fail",
    "courseware_out_of_sync",
    "cannot_draw",
)


def order_key(message: UnionMessage) -> tuple[int, int, int, str, int]:
    """ "Latest" (A.3): client_time, server_time, topic in A.1 order, then place in the topic."""
    return (
        message.client_time,
        message.server_time,
        TOPIC_RANK[message.topic],
        message.split,
        message.position,
    )


@dataclass(slots=True)
class LabelRow:
    start_time: int
    end_time: int
    room_id: int
    user_id: int
    role: str
    messages: int
    in_room: int
    enter_attempts: int
    enter_fail: int
    enter_slow: int
    enter_fail_component: str
    audio_stall: int
    video_stall: int
    cannot_hear: int
    cannot_see: int
    net_quality: str
    device_abnormal: int
    courseware_load_fail: int
    courseware_out_of_sync: int
    cannot_draw: int
    peer_in_room: int = 0
    fm_in_room: int = 0
    problem_labels: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def stall(samples: Sequence[AvSample]) -> int:
    """≥ 20 % of the covered span frozen, in integers: 5·Σfreeze ≥ Σinterval."""
    if not samples:
        return 0
    return int(5 * sum(s.freeze_ms for s in samples) >= sum(s.interval_ms for s in samples))


def silent(samples: Sequence[AvSample]) -> int:
    return int(bool(samples) and all(s.bitrate_kbps == 0 for s in samples))


def net_quality(samples: Sequence[AvSample]) -> str:
    n = len(samples)
    if n == 0:
        return "none"
    loss = sum(s.loss_pct for s in samples)
    rtt = sum(s.rtt_ms for s in samples)
    if loss >= 10 * n or rtt >= 600 * n:
        return "bad"
    if loss >= 3 * n or rtt >= 300 * n:
        return "poor"
    return "good"


def label_user_window(
    start: int, room_id: int, user_id: int, window: list[UnionMessage]
) -> LabelRow:
    window = sorted(window, key=order_key)
    enters = [m for m in window if isinstance(m, EnterMessage)]
    audio = [m for m in window if isinstance(m, AvSample) and m.media == "audio"]
    video = [m for m in window if isinstance(m, AvSample) and m.media == "video"]
    devices = [m for m in window if isinstance(m, DeviceSample)]
    courseware = [m for m in window if isinstance(m, CoursewareEvent)]

    last_leave = max((order_key(m) for m in enters if m.action == "leave"), default=None)
    presence = [
        order_key(m)
        for m in window
        if isinstance(m, (AvSample, DeviceSample))
        or (isinstance(m, EnterMessage) and m.action == "enter" and m.result == "success")
    ]
    in_room = int(any(last_leave is None or key > last_leave for key in presence))
    attempts = [m for m in enters if m.action == "enter"]
    failed = [m for m in attempts if m.result == "fail"]
    succeeded = [m for m in attempts if m.result == "success"]
    last_load_fail = max(
        (order_key(m) for m in courseware if m.action == "load" and m.result == "fail"),
        default=None,
    )
    last_load_ok = max(
        (order_key(m) for m in courseware if m.action == "load" and m.result == "ok"),
        default=None,
    )
    return LabelRow(
        start_time=start,
        end_time=start + WINDOW_MS,
        room_id=room_id,
        user_id=user_id,
        role=window[-1].role,
        messages=len(window),
        in_room=in_room,
        enter_attempts=len(attempts),
        enter_fail=int(bool(failed) and not succeeded),
        enter_slow=int(any(m.client_time - (m.started_at or 0) > SLOW_ENTER_MS for m in succeeded)),
        enter_fail_component=(failed[-1].failed_component or "") if failed else "",
        audio_stall=stall(audio),
        video_stall=stall(video),
        cannot_hear=silent(audio),
        cannot_see=silent(video),
        net_quality=net_quality(audio + video),
        device_abnormal=int(
            any(state != "ok" for m in devices for state in (m.mic, m.speaker, m.camera))
            or any(m.cpu_pct >= 90 for m in devices)
        ),
        courseware_load_fail=int(
            last_load_fail is not None and (last_load_ok is None or last_load_ok < last_load_fail)
        ),
        courseware_out_of_sync=int(
            any(
                m.origin == "peer"
                and m.action != "load"
                and (m.result == "fail" or (m.lag_ms is not None and m.lag_ms > 3000))
                for m in courseware
            )
        ),
        cannot_draw=int(
            any(
                m.origin == "self" and m.action in ("draw", "drag") and m.result == "fail"
                for m in courseware
            )
        ),
    )


def problem_labels(row: LabelRow) -> list[str]:
    holds = {
        "not_in_room": row.in_room == 0,
        "enter_fail": row.enter_fail == 1,
        "enter_slow": row.enter_slow == 1,
        "peer_absent": row.role != "fm" and row.peer_in_room == 0,
        "audio_stall": row.audio_stall == 1,
        "video_stall": row.video_stall == 1,
        "cannot_hear": row.cannot_hear == 1,
        "cannot_see": row.cannot_see == 1,
        "net_bad": row.net_quality == "bad",
        "net_poor": row.net_quality == "poor",
        "device_abnormal": row.device_abnormal == 1,
        "courseware_load_fail": row.courseware_load_fail == 1,
        "courseware_out_of_sync": row.courseware_out_of_sync == 1,
        "cannot_draw": row.cannot_draw == 1,
    }
    return [name for name in PROBLEM_LABELS if holds[name]]


OTHER_ROLE = {"teacher": "student", "student": "teacher"}


def label_rows(messages: Iterable[UnionMessage]) -> list[LabelRow]:
    """room_user_labels_30s (A.3) over accepted union messages, ordered by window, room, user."""
    groups: dict[tuple[int, int, int], list[UnionMessage]] = defaultdict(list)
    for message in messages:
        start = message.client_time - message.client_time % WINDOW_MS
        groups[(start, message.room_id, message.user_id)].append(message)
    rows = [label_user_window(*key, window) for key, window in sorted(groups.items())]
    present: dict[tuple[int, int], set[str]] = defaultdict(set)
    for row in rows:
        if row.in_room:
            present[(row.start_time, row.room_id)].add(row.role)
    for row in rows:
        roles = present[(row.start_time, row.room_id)]
        other = OTHER_ROLE.get(row.role)
        row.peer_in_room = int(other is not None and other in roles)
        row.fm_in_room = int("fm" in roles)
        row.problem_labels = problem_labels(row)
    return rows
