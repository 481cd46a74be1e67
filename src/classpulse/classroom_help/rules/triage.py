"""Contract A.4 and A.5 in pure Python: help requests triaged by label rows; the daily counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from classpulse.classroom_help.records import (
    HelpRequest,
)
from classpulse.classroom_help.rules.labels import (
    DUPLICATE_HORIZON_MS,
    EXPIRY_MS,
    OTHER_ROLE,
    SLIDE_MS,
    WINDOW_MS,
    LabelRow,
)

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
