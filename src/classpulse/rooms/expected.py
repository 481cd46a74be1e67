"""The section-B marts computed in pure Python from the generator's valid records.

This is the oracle of the Flink and dbt tests, written from the contract's wording and
independent of the SQL: each beat's coverage interval is built explicitly, the intervals are
unioned by sorting, and every minute row is counted by scanning the sessions.

Rules (LIVE_CLASSROOM_CONTRACT.md B.2, B.3)
- An ``enter``/``beat`` at t from terminal τ covers [t, min(t + T, L)), L = the earliest
  ``leave`` of the same (bid, room, uid, τ) at time >= t; a leave at the same instant wins
  (empty coverage).
- A session is a maximal interval of the union over the user's terminals; touching
  intervals merge. ``end_reason`` = ``leave`` when online_to is a leave time of the user.
- Minute rows: a session intersects [m, m + 60 s) iff from < m + 60 s and to > m.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """One valid ``room_heartbeat`` message."""

    bid: int
    room_id: str
    uid: int
    terminal: str
    kind: str  # enter | beat | leave
    server_time: int  # epoch ms


@dataclass(frozen=True, slots=True)
class PushAck:
    """One valid ``room_push_ack`` message; ``sequence`` is its arrival order."""

    bid: int
    room_id: str
    uid: int
    terminal: str
    server_time: int
    max_msgid: int
    missing_msgids: tuple[int, ...]
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class PresenceSession:
    bid: int
    room_id: str
    uid: int
    online_from: int
    online_to: int
    end_reason: str  # leave | timeout
    terminals: int
    heartbeats: int


@dataclass(frozen=True, slots=True)
class ConcurrencyMinute:
    start_time: int  # epoch ms
    end_time: int
    bid: int
    room_id: str
    users_present: int
    peak_online: int
    sessions_started: int
    timeouts: int


@dataclass(frozen=True, slots=True)
class MessageLossDay:
    day: str  # YYYY-MM-DD, business date
    bid: int
    room_id: str
    uid: int
    terminal: str
    reports: int
    max_msgid: int
    gap_msgids: int
    lost_msgids: int
    gap_rate: float
    loss_rate: float


def coverage_intervals(
    beats: Iterable[Heartbeat], timeout_ms: int
) -> dict[tuple[int, str, int], list[tuple[int, int, str]]]:
    """Per (bid, room, uid): the non-empty coverage intervals (start, end, terminal)."""
    leaves: dict[tuple[int, str, int, str], list[int]] = defaultdict(list)
    starts: list[Heartbeat] = []
    for beat in beats:
        if beat.kind == "leave":
            leaves[(beat.bid, beat.room_id, beat.uid, beat.terminal)].append(beat.server_time)
        else:
            starts.append(beat)
    for times in leaves.values():
        times.sort()
    intervals: dict[tuple[int, str, int], list[tuple[int, int, str]]] = defaultdict(list)
    for beat in starts:
        end = beat.server_time + timeout_ms
        times = leaves.get((beat.bid, beat.room_id, beat.uid, beat.terminal), [])
        index = bisect.bisect_left(times, beat.server_time)
        if index < len(times):
            end = min(end, times[index])
        if end > beat.server_time:
            intervals[(beat.bid, beat.room_id, beat.uid)].append(
                (beat.server_time, end, beat.terminal)
            )
    return intervals


def presence_sessions(beats: Iterable[Heartbeat], timeout_ms: int) -> list[PresenceSession]:
    """room_presence_sessions: one row per maximal online interval of a user in a room."""
    beats = list(beats)
    leave_times: dict[tuple[int, str, int], set[int]] = defaultdict(set)
    beat_times: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    for beat in beats:
        key = (beat.bid, beat.room_id, beat.uid)
        if beat.kind == "leave":
            leave_times[key].add(beat.server_time)
        else:
            beat_times[key].append(beat.server_time)
    sessions: list[PresenceSession] = []
    for key, intervals in coverage_intervals(beats, timeout_ms).items():
        intervals.sort()
        times = sorted(beat_times[key])
        merged: list[tuple[int, int, set[str]]] = []
        for start, end, terminal in intervals:
            if merged and start <= merged[-1][1]:  # touching intervals merge
                last_start, last_end, terminals = merged[-1]
                terminals.add(terminal)
                merged[-1] = (last_start, max(last_end, end), terminals)
            else:
                merged.append((start, end, {terminal}))
        for start, end, terminals in merged:
            count = bisect.bisect_left(times, end) - bisect.bisect_left(times, start)
            reason = "leave" if end in leave_times[key] else "timeout"
            sessions.append(PresenceSession(*key, start, end, reason, len(terminals), count))
    sessions.sort(key=lambda s: (s.bid, s.room_id, s.uid, s.online_from))
    return sessions


def concurrency_1min(sessions: Iterable[PresenceSession]) -> list[ConcurrencyMinute]:
    """room_concurrency_1min: one row per room and minute with at least one user present."""
    by_minute: dict[tuple[int, str, int], list[PresenceSession]] = defaultdict(list)
    for session in sessions:
        minute = session.online_from - session.online_from % MINUTE_MS
        while minute < session.online_to:  # intersects iff from < m + 60 s and to > m
            by_minute[(session.bid, session.room_id, minute)].append(session)
            minute += MINUTE_MS
    rows = []
    for (bid, room_id, minute), present in by_minute.items():
        end = minute + MINUTE_MS
        instants = {minute} | {s.online_from for s in present if minute <= s.online_from < end}
        peak = max(
            len({s.uid for s in present if s.online_from <= instant < s.online_to})
            for instant in instants
        )
        rows.append(
            ConcurrencyMinute(
                start_time=minute,
                end_time=end,
                bid=bid,
                room_id=room_id,
                users_present=len({s.uid for s in present}),
                peak_online=peak,
                sessions_started=sum(minute <= s.online_from < end for s in present),
                timeouts=sum(
                    s.end_reason == "timeout" and minute < s.online_to <= end for s in present
                ),
            )
        )
    rows.sort(key=lambda r: (r.bid, r.room_id, r.start_time))
    return rows


def business_date(epoch_ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, zone).strftime("%Y-%m-%d")


def message_loss_daily(acks: Iterable[PushAck], timezone: str) -> list[MessageLossDay]:
    """room_message_loss_daily: per business day and (bid, room, uid, terminal)."""
    zone = ZoneInfo(timezone)
    groups: dict[tuple[str, int, str, int, str], list[PushAck]] = defaultdict(list)
    for ack in acks:
        day = business_date(ack.server_time, zone)
        groups[(day, ack.bid, ack.room_id, ack.uid, ack.terminal)].append(ack)
    rows = []
    for key, reports in groups.items():
        max_msgid = max(ack.max_msgid for ack in reports)
        gap = len({msgid for ack in reports for msgid in ack.missing_msgids})
        latest = max(reports, key=lambda ack: (ack.server_time, ack.sequence))
        lost = len(latest.missing_msgids)
        rows.append(
            MessageLossDay(
                *key,
                reports=len(reports),
                max_msgid=max_msgid,
                gap_msgids=gap,
                lost_msgids=lost,
                gap_rate=gap / max_msgid if max_msgid else 0.0,
                loss_rate=lost / max_msgid if max_msgid else 0.0,
            )
        )
    rows.sort(key=lambda r: (r.day, r.bid, r.room_id, r.uid, r.terminal))
    return rows
