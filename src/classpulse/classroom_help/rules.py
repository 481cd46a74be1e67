"""The marts of contract section A computed in pure Python: the oracle of the Flink jobs and dbt.

``label_rows`` applies A.3 to accepted union messages, ``triage_rows`` applies A.4 to the label
rows and the accepted help requests, ``daily_rows`` counts A.5's ``help_triage_daily``. Nothing
here reads SQL; parameters are inputs with the contract's defaults.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from classpulse.classroom_help.records import (
    TOPIC_RANK,
    AvSample,
    CoursewareEvent,
    DeviceSample,
    EnterMessage,
    HelpRequest,
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


# ---------------------------------------------------------------------------------------------
# Triage (A.4)

RULES = (
    # number, category, action, which rows it is evaluated on ("R": requester only, "P": peers
    # only, "RP": requester, else peers), condition on one label row
    (1, "device", "guide_device_check", "R", lambda r: r.device_abnormal == 1),
    (2, "peer_device", "guide_device_check", "P", lambda r: r.device_abnormal == 1),
    (3, "enter", "rejoin", "R", lambda r: r.in_room == 0 or r.enter_fail == 1),
    (4, "peer_absent", "call_peer", "R", lambda r: r.peer_in_room == 0),
    (5, "network", "switch_line", "RP", lambda r: r.net_quality == "bad"),
    (
        6,
        "media",
        "switch_line",
        "RP",
        lambda r: bool(r.audio_stall or r.video_stall or r.cannot_hear or r.cannot_see),
    ),
    (
        7,
        "courseware",
        "reload_courseware",
        "RP",
        lambda r: bool(r.courseware_load_fail or r.courseware_out_of_sync or r.cannot_draw),
    ),
)


@dataclass(frozen=True, slots=True)
class Dimension:
    """What the preheat publishes for a room (C); tutor_id feeds rule 4's target."""

    lesson_id: int
    tutor_id: int


def fires(rule: tuple, requester: LabelRow | None, peers: Sequence[LabelRow]) -> int | None:
    """The user a rule fires on (requester first, else the smallest firing peer), or None."""
    _, _, _, where, condition = rule
    if requester is None:
        return None
    if "R" in where and condition(requester):
        return requester.user_id
    if "P" in where:
        firing = sorted(p.user_id for p in peers if condition(p))
        if firing:
            return firing[0]
    return None


def first_rule(requester: LabelRow | None, peers: Sequence[LabelRow]) -> tuple | None:
    for rule in RULES:
        if fires(rule, requester, peers) is not None:
            return rule
    return None


class LabelIndex:
    """Label rows by (room, end_time): the evidence of one room in one window."""

    def __init__(self, rows: Iterable[LabelRow]) -> None:
        self.by_window: dict[tuple[int, int], list[LabelRow]] = defaultdict(list)
        for row in rows:
            self.by_window[(row.room_id, row.end_time)].append(row)

    def evidence(
        self, room_id: int, end_time: int, user_id: int, role: str
    ) -> tuple[LabelRow | None, list[LabelRow]]:
        rows = self.by_window.get((room_id, end_time), [])
        requester = next((r for r in rows if r.user_id == user_id), None)
        other = OTHER_ROLE.get(role)
        return requester, [r for r in rows if r.role == other and r.user_id != user_id]


def decision_time(h: int) -> int:
    return SLIDE_MS * (h // SLIDE_MS + 1)


def evidence_end(c: int) -> int:
    return WINDOW_MS * (c // WINDOW_MS)


def verify_start(c: int) -> int:
    return WINDOW_MS * -(-c // WINDOW_MS)


def primary_requests(
    requests: Iterable[HelpRequest],
) -> tuple[list[HelpRequest], list[HelpRequest]]:
    """First delivery per request_id (least server_time, then place) and the redeliveries."""
    first: dict[str, HelpRequest] = {}
    again: list[HelpRequest] = []
    for request in sorted(requests, key=lambda r: (r.server_time, r.split, r.position)):
        if request.request_id in first:
            again.append(request)
        else:
            first[request.request_id] = request
    return list(first.values()), again


def verify(
    rule: tuple, index: LabelIndex, room_id: int, user_id: int, role: str, c: int
) -> tuple[int, str]:
    v = verify_start(c)
    requester, peers = index.evidence(room_id, v + WINDOW_MS, user_id, role)
    resolved = requester is not None and fires(rule, requester, peers) is None
    return v, "resolved" if resolved else "escalated"


def triage_rows(
    labels: Sequence[LabelRow],
    requests: Iterable[HelpRequest],
    dimensions: Mapping[int, Dimension] | None = None,
) -> list[dict[str, object]]:
    """help_request_triage (A.4, A.5) without the dimension columns, ordered by request_id."""
    dimensions = dimensions or {}
    index = LabelIndex(labels)
    primaries, _ = primary_requests(requests)
    primaries.sort(key=lambda r: (r.client_time, r.request_id))
    opened: dict[tuple[int, int], list[int]] = defaultdict(list)
    rows: list[dict[str, object]] = []
    help_evidence: set[tuple[int, int]] = set()
    for request in primaries:
        h = request.client_time
        c = decision_time(h)
        e = evidence_end(c)
        help_evidence.add((request.room_id, e))
        row: dict[str, object] = {
            "request_id": request.request_id,
            "source": "help",
            "room_id": request.room_id,
            "user_id": request.user_id,
            "role": request.role,
            "request_time": h,
            "received_time": request.server_time,
            "decided_at": c,
            "evidence_end": e,
            "action": "",
            "target_user_id": 0,
            "verify_start": None,
            "verify_status": "",
            "handle_ms": c - h,
        }
        rows.append(row)
        earlier = opened[(request.room_id, request.user_id)]
        if any(h - DUPLICATE_HORIZON_MS <= t < h for t in earlier):
            row.update(outcome="merged", category="duplicate", handle_ms=0)
            continue
        earlier.append(h)
        requester, peers = index.evidence(request.room_id, e, request.user_id, request.role)
        if request.server_time - h > EXPIRY_MS:
            row.update(outcome="manual", category="expired")
        elif request.role == "fm" or requester is None:
            row.update(outcome="manual", category="no_evidence")
        elif requester.fm_in_room == 1:
            row.update(outcome="manual", category="fm_present")
        else:
            decide(row, index, request.room_id, request.user_id, request.role, c, dimensions)
    rows.extend(detected_rows(labels, index, help_evidence, dimensions))
    return sorted(rows, key=lambda r: str(r["request_id"]))


def decide(
    row: dict[str, object],
    index: LabelIndex,
    room_id: int,
    user_id: int,
    role: str,
    c: int,
    dimensions: Mapping[int, Dimension],
) -> None:
    requester, peers = index.evidence(room_id, evidence_end(c), user_id, role)
    rule = first_rule(requester, peers)
    if rule is None:
        row.update(outcome="manual", category="uncovered")
        return
    number, category, action, _, _ = rule
    target = fires(rule, requester, peers)
    if number == 4:
        dimension = dimensions.get(room_id)
        target = dimension.tutor_id if role == "student" and dimension else 0
    v, status = verify(rule, index, room_id, user_id, role, c)
    row.update(
        outcome="auto",
        category=category,
        action=action,
        target_user_id=target,
        verify_start=v,
        verify_status=status,
    )


def detected_rows(
    labels: Sequence[LabelRow],
    index: LabelIndex,
    help_evidence: set[tuple[int, int]],
    dimensions: Mapping[int, Dimension],
) -> list[dict[str, object]]:
    """Proactive detection (A.4): a problem two windows running, not three, nobody asked."""

    def category_at(room_id: int, user_id: int, role: str, end: int) -> str | None:
        requester, peers = index.evidence(room_id, end, user_id, role)
        rule = first_rule(requester, peers)
        return None if rule is None else rule[1]

    rows: list[dict[str, object]] = []
    for x in labels:
        if x.role == "fm" or x.fm_in_room == 1:
            continue
        e = x.end_time
        kappa = category_at(x.room_id, x.user_id, x.role, e)
        if kappa is None:
            continue
        if category_at(x.room_id, x.user_id, x.role, e - WINDOW_MS) != kappa:
            continue
        if category_at(x.room_id, x.user_id, x.role, e - 2 * WINDOW_MS) == kappa:
            continue
        if (x.room_id, e) in help_evidence or (x.room_id, e - WINDOW_MS) in help_evidence:
            continue
        row: dict[str, object] = {
            "request_id": f"det:{x.room_id}:{x.user_id}:{e}",
            "source": "detected",
            "room_id": x.room_id,
            "user_id": x.user_id,
            "role": x.role,
            "request_time": e,
            "received_time": e,
            "decided_at": e,
            "evidence_end": e,
            "action": "",
            "target_user_id": 0,
            "verify_start": None,
            "verify_status": "",
            "handle_ms": 0,
        }
        decide(row, index, x.room_id, x.user_id, x.role, e, dimensions)
        rows.append(row)
    return rows


def business_date(epoch_ms: int, timezone: str = "Asia/Shanghai") -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC).astimezone(ZoneInfo(timezone))
    return moment.date().isoformat()


def daily_rows(
    triage: Iterable[Mapping[str, object]], timezone: str = "Asia/Shanghai"
) -> list[dict[str, object]]:
    """help_triage_daily (A.5): counts per business day, source and category."""
    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    for row in triage:
        key = (
            business_date(int(row["request_time"]), timezone),
            str(row["source"]),
            str(row["category"]),
        )
        item = counts.setdefault(
            key,
            dict(requests=0, auto=0, resolved=0, escalated=0, manual=0, merged=0, handle_ms_sum=0),
        )
        item["requests"] += 1
        item[str(row["outcome"])] += 1
        if row["verify_status"]:
            item[str(row["verify_status"])] += 1
        item["handle_ms_sum"] += int(row["handle_ms"])
    return [
        {"day": day, "source": source, "category": category, **item}
        for (day, source, category), item in sorted(counts.items())
    ]


# ---------------------------------------------------------------------------------------------
# Enrichment (C)

DIMENSION_COLUMNS = (
    "lesson_id",
    "lesson_date",
    "room_role",
    "expected_members",
    "tutor_id",
    "class_id",
    "org_node_id",
    "dim_run_id",
    "dim_status",
)


@dataclass(frozen=True, slots=True)
class PublishedRoom:
    """A row of dim.live_room_current."""

    room_id: int
    lesson_id: int
    lesson_date: str
    room_role: str
    expected_members: int
    tutor_id: int
    scope_node_id: int
    run_id: int


@dataclass(frozen=True, slots=True)
class PublishedMember:
    """A row of dim.room_membership_current."""

    lesson_id: int
    room_id: int
    student_id: int
    tutor_id: int
    class_id: int
    group_node_id: int


def dimension_columns(
    room_id: int,
    user_id: int,
    role: str,
    row_time: int,
    rooms: Iterable[PublishedRoom],
    members: Iterable[PublishedMember],
    *,
    timed_out: bool = False,
    timezone: str = "Asia/Shanghai",
) -> dict[str, object]:
    """C's dimension columns of one aggregated row: the room (greatest lesson_id wins), the
    student's membership in that lesson, and dim_status; never a reason to drop the row."""
    found = [room for room in rooms if room.room_id == room_id]
    unknown = {
        "lesson_id": 0,
        "lesson_date": business_date(row_time, timezone),
        "room_role": "",
        "expected_members": 0,
        "tutor_id": 0,
        "class_id": 0,
        "org_node_id": 0,
        "dim_run_id": 0,
    }
    if timed_out:
        return {**unknown, "dim_status": "lookup_timeout"}
    if not found:
        return {**unknown, "dim_status": "room_unknown"}
    room = max(found, key=lambda r: r.lesson_id)
    columns: dict[str, object] = {
        "lesson_id": room.lesson_id,
        "lesson_date": room.lesson_date,
        "room_role": room.room_role,
        "expected_members": room.expected_members,
        "tutor_id": room.tutor_id,
        "class_id": 0,
        "org_node_id": room.scope_node_id,
        "dim_run_id": room.run_id,
        "dim_status": "ok",
    }
    if role != "student":
        return columns
    member = next(
        (
            m
            for m in members
            if m.lesson_id == room.lesson_id and m.room_id == room_id and m.student_id == user_id
        ),
        None,
    )
    if member is None:
        return {**columns, "dim_status": "member_unknown"}
    return {
        **columns,
        "tutor_id": member.tutor_id,
        "class_id": member.class_id,
        "org_node_id": member.group_node_id,
    }


def enrich_rows(
    rows: Iterable[Mapping[str, object]],
    time_column: str,
    rooms: Sequence[PublishedRoom],
    members: Sequence[PublishedMember],
    *,
    timed_out: bool = False,
    timezone: str = "Asia/Shanghai",
) -> list[dict[str, object]]:
    """Rows with C's dimension columns; a triage row's rule 4 target becomes the requester's
    tutor_id (a student's; a teacher calls nobody)."""
    out = []
    for row in rows:
        columns = dimension_columns(
            int(row["room_id"]),
            int(row["user_id"]),
            str(row["role"]),
            int(row[time_column]),
            rooms,
            members,
            timed_out=timed_out,
            timezone=timezone,
        )
        enriched = {**row, **columns}
        if enriched.get("category") == "peer_absent":
            enriched["target_user_id"] = columns["tutor_id"] if row["role"] == "student" else 0
        out.append(enriched)
    return out
