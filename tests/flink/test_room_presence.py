"""Room presence sessions (LIVE_CLASSROOM_CONTRACT.md B.2, B.3) on the mini-cluster over Kafka.

A broker of the module's own, one partition per topic (see rooms_kafka). Hand-made heartbeats, one rule per user, are produced to ``room_heartbeat``; the cleaning and
presence jobs run bounded; the sessions they commit equal both the sessions written out by hand
and the pure-Python oracle (:mod:`classpulse.rooms.expected`). A heartbeat sent after the
watermark passed it is accounted as late, never silently lost.

A second room's users share the function's keys: the function is partitioned by room and bucket
(uid mod PRESENCE_BUCKETS), here three buckets of eight users, and the users of one room in
different buckets must still add up to exactly the room's sessions and minute rows.

The users share the presence function's subtasks, and their timers interleave, closing by the
data's watermark and by the end of input: a user whose state is cleared must leave the others'
state and timers alone (PresenceTracker's class comment: with ``clearAll()`` users 2, 6, 7 and
10 lost their sessions here).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from rooms_kafka import (
    kafka_flink_session,
    one_partition_broker,
    produce_lines,
    read_json,
    run_room_jobs,
)

from classpulse.config import Settings
from classpulse.flink import pipeline
from classpulse.rooms.expected import Heartbeat, concurrency_1min, presence_sessions

T0 = 1_796_083_200_000  # 2026-12-01 08:00:00 Asia/Shanghai, a minute boundary
S = 1_000
TIMEOUT_MS = 30 * S
JOBS = ("clean_room_heartbeat", "mart_room_presence_sessions")


def beat(uid: int, terminal: str, kind: str, at: int, room: str = "501") -> str:
    document = {"bid": 1, "room_id": room, "uid": uid, "terminal": terminal, "kind": kind}
    return json.dumps({**document, "server_time": T0 + at})


# uid -> heartbeats; the rule each user exercises is in the comment, T = 30 s
SCENARIO: dict[int, list[tuple[str, str, int]]] = {
    # one terminal, beats 10 s apart, clean leave
    1: [
        ("pc", "enter", 0),
        ("pc", "beat", 10 * S),
        ("pc", "beat", 20 * S),
        ("pc", "leave", 25 * S),
    ],
    # timeout: offline at the last beat + 30 s (the first beat has no leave within T)
    2: [("pc", "enter", 5 * S), ("pc", "beat", 15 * S)],
    # a beat at the instant of the leave: the leave wins, the beat covers nothing
    3: [("pc", "enter", 0), ("pc", "beat", 10 * S), ("pc", "leave", 10 * S)],
    # touching intervals merge: [0, 30) and [30, 60) are one session
    4: [("pc", "enter", 0), ("pc", "beat", 30 * S)],
    # a gap of 30.001 s is two sessions
    5: [("pc", "enter", 0), ("pc", "beat", 30 * S + 1)],
    # alternating terminals, each alone 40 s apart (> T): never a false timeout
    6: [
        ("pc", "enter", 0),
        ("app", "enter", 20 * S),
        ("pc", "beat", 40 * S),
        ("app", "beat", 60 * S),
        ("pc", "beat", 80 * S),
        ("app", "leave", 90 * S),
        ("pc", "leave", 95 * S),
    ],
    # one terminal leaves, the other still covers: one session ending by the other's timeout
    7: [
        ("pc", "enter", 0),
        ("h5", "enter", 5 * S),
        ("pc", "leave", 10 * S),
        ("h5", "beat", 15 * S),
    ],
    # a leave cuts a terminal, re-enter 4 s later: two sessions
    8: [
        ("pc", "enter", 0),
        ("pc", "leave", 8 * S),
        ("pc", "enter", 12 * S),
        ("pc", "leave", 20 * S),
    ],
    # a lone enter that times out across a minute boundary
    10: [("mac", "enter", 50 * S)],
    # two terminals enter at one instant; one leaves at once, the other times out
    11: [("pc", "enter", 40 * S), ("app", "enter", 40 * S), ("pc", "leave", 40 * S)],
}
EXPECTED_SESSIONS = {
    (1, 0, 25 * S, "leave", 1, 3),
    (2, 5 * S, 45 * S, "timeout", 1, 2),
    (3, 0, 10 * S, "leave", 1, 1),  # the void beat sits at online_to: not inside
    (4, 0, 60 * S, "timeout", 1, 2),
    (5, 0, 30 * S, "timeout", 1, 1),
    (5, 30 * S + 1, 60 * S + 1, "timeout", 1, 1),
    (6, 0, 95 * S, "leave", 2, 5),
    (7, 0, 45 * S, "timeout", 2, 3),
    (8, 0, 8 * S, "leave", 1, 1),
    (8, 12 * S, 20 * S, "leave", 1, 1),
    (10, 50 * S, 80 * S, "timeout", 1, 1),
    (11, 40 * S, 70 * S, "timeout", 1, 2),  # the pc enter is void but lies at online_from
}
# (minute start, users_present, peak_online, sessions_started, timeouts), worked out by hand:
# minute 0 has ten users but at most eight at once (at 5 s); user 4's session ends exactly at
# 60 s and counts in minute 0, user 5's second one at 60.001 s in minute 1.
EXPECTED_MINUTES = {
    (0, 10, 8, 12, 4),
    (60 * S, 4, 4, 0, 3),
}
LATE_BEAT = (99, "pc", "beat", 30 * S)  # sent last, when the watermark is past it


def scenario_lines() -> list[str]:
    events = [
        (at, uid, terminal, kind) for uid, rows in SCENARIO.items() for terminal, kind, at in rows
    ]
    events.sort(key=lambda event: (event[0], event[1]))
    lines = [beat(uid, terminal, kind, at) for at, uid, terminal, kind in events]
    uid, terminal, kind, at = LATE_BEAT
    return [*lines, beat(uid, terminal, kind, at)]


def scenario_beats() -> list[Heartbeat]:
    return [
        Heartbeat(1, "501", uid, terminal, kind, T0 + at)
        for uid, rows in SCENARIO.items()
        for terminal, kind, at in rows
    ]


def oracle_sessions() -> set[tuple[Any, ...]]:
    return {
        (s.uid, s.online_from - T0, s.online_to - T0, s.end_reason, s.terminals, s.heartbeats)
        for s in presence_sessions(scenario_beats(), TIMEOUT_MS)
    }


def oracle_minutes() -> set[tuple[int, ...]]:
    return {
        (m.start_time - T0, m.users_present, m.peak_online, m.sessions_started, m.timeouts)
        for m in concurrency_1min(presence_sessions(scenario_beats(), TIMEOUT_MS))
    }


@pytest.fixture(scope="module")
def presence_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with one_partition_broker(tmp_path_factory.mktemp("presence") / "broker") as settings:
        produce_lines(settings, {"room_heartbeat": scenario_lines()})
        run_room_jobs(settings, kafka_flink_session(), JOBS)
        yield settings


def test_the_oracle_agrees_with_the_hand_written_sessions_and_minutes() -> None:
    assert oracle_sessions() == EXPECTED_SESSIONS
    assert oracle_minutes() == EXPECTED_MINUTES


def test_presence_sessions_follow_every_rule(presence_run: Settings) -> None:
    rows = read_json(presence_run, "room_presence_sessions")
    got = [
        (
            row["uid"],
            row["online_from_ms"] - T0,
            row["online_to_ms"] - T0,
            row["end_reason"],
            row["terminals"],
            row["heartbeats"],
        )
        for row in rows
    ]
    assert len(got) == len(set(got))  # each session once
    assert set(got) == EXPECTED_SESSIONS


def test_a_late_heartbeat_is_accounted_not_lost(presence_run: Settings) -> None:
    late = [
        row
        for row in read_json(presence_run, "late_events")
        if row["mart"] == "room_presence_sessions"
    ]
    assert [(row["user_id"], row["event_time_ms"] - T0) for row in late] == [(99, 30 * S)]
    counts = max(
        (
            row
            for row in read_json(presence_run, "mart_accounting")
            if row["mart"] == "room_presence_sessions"
        ),
        key=lambda row: row["events_in"],
    )
    events = sum(len(rows) for rows in SCENARIO.values()) + 1
    assert (counts["events_in"], counts["events_counted"], counts["events_late"]) == (
        events,
        events - 1,
        1,
    )


def test_concurrency_per_minute_counts_peak_starts_and_timeouts(presence_run: Settings) -> None:
    rows = read_json(presence_run, "room_concurrency_1min")
    got = [
        (
            row["start_time_ms"] - T0,
            row["users_present"],
            row["peak_online"],
            row["sessions_started"],
            row["timeouts"],
        )
        for row in rows
    ]
    assert len(got) == len(set(got))  # each minute once
    assert set(got) == EXPECTED_MINUTES
    assert {(row["start_time"], row["end_time"]) for row in rows} == {
        ("2026-12-01 08:00:00", "2026-12-01 08:01:00"),
        ("2026-12-01 08:01:00", "2026-12-01 08:02:00"),
    }


# -- one room over a few shared buckets ------------------------------------------------------
BUCKETS = 3
SHARED_ROOM = "502"


def shared_room_beats() -> list[Heartbeat]:
    """24 users of one room, seeded, in time order: each on one or two terminals from a random
    enter on, beating every 5-12 s (at any millisecond, so wakes fall between grid seconds),
    now and then leaving (and entering again) or falling silent for longer than T."""
    rng = random.Random(20261201)
    beats: list[Heartbeat] = []
    for uid in range(1, 25):
        terminals = ["pc", "app"][: rng.choice((1, 2))]
        entered: set[str] = set()
        at = rng.randrange(0, 40 * S)
        while at < 170 * S:
            terminal = rng.choice(terminals)
            if terminal not in entered:
                kind = "enter"
                entered.add(terminal)
            elif rng.random() < 0.1:
                kind = "leave"
                entered.discard(terminal)
            else:
                kind = "beat"
            beats.append(Heartbeat(1, SHARED_ROOM, uid, terminal, kind, T0 + at))
            silent = rng.random() < 0.12
            at += rng.randrange(31 * S, 50 * S) if silent else rng.randrange(5 * S, 12 * S)
    return sorted(beats, key=lambda beat: beat.server_time)


def shared_room_line(beat: Heartbeat) -> str:
    document = {"bid": beat.bid, "room_id": beat.room_id, "uid": beat.uid}
    return json.dumps(
        {**document, "terminal": beat.terminal, "kind": beat.kind, "server_time": beat.server_time}
    )


@pytest.fixture(scope="module")
def shared_room_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with one_partition_broker(tmp_path_factory.mktemp("buckets") / "broker") as settings:
        produce_lines(settings, {"room_heartbeat": map(shared_room_line, shared_room_beats())})
        pipeline.run_bounded(
            settings,
            jobs=JOBS,
            session=kafka_flink_session(),
            variables={"PRESENCE_BUCKETS": str(BUCKETS)},
        )
        yield settings


def test_the_shared_room_spans_every_bucket_with_many_users_each() -> None:
    beats = shared_room_beats()
    users_per_bucket = Counter(uid % BUCKETS for uid in {beat.uid for beat in beats})
    assert sorted(users_per_bucket.values()) == [8, 8, 8]
    sessions = presence_sessions(beats, TIMEOUT_MS)
    # every rule that moves a user between due times is exercised
    assert {session.end_reason for session in sessions} == {"leave", "timeout"}
    assert len(sessions) > 2 * len(users_per_bucket) * 8


def test_users_of_one_room_in_different_buckets_add_up_exactly(shared_room_run: Settings) -> None:
    expected_sessions = {
        (s.uid, s.online_from, s.online_to, s.end_reason, s.terminals, s.heartbeats)
        for s in presence_sessions(shared_room_beats(), TIMEOUT_MS)
    }
    sessions = [
        (
            row["uid"],
            row["online_from_ms"],
            row["online_to_ms"],
            row["end_reason"],
            row["terminals"],
            row["heartbeats"],
        )
        for row in read_json(shared_room_run, "room_presence_sessions")
    ]
    assert len(sessions) == len(set(sessions))
    assert set(sessions) == expected_sessions
    expected_minutes = {
        (m.start_time, m.users_present, m.peak_online, m.sessions_started, m.timeouts)
        for m in concurrency_1min(presence_sessions(shared_room_beats(), TIMEOUT_MS))
    }
    minutes = [
        (
            row["start_time_ms"],
            row["users_present"],
            row["peak_online"],
            row["sessions_started"],
            row["timeouts"],
        )
        for row in read_json(shared_room_run, "room_concurrency_1min")
        if row["room_id"] == SHARED_ROOM
    ]
    assert len(minutes) == len(set(minutes))
    assert set(minutes) == expected_minutes
