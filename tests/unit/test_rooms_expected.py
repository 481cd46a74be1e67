"""The rooms oracle (classpulse.rooms.expected) on hand-made cases, and the rooms generator."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from classpulse.rooms.expected import (
    ConcurrencyMinute,
    Heartbeat,
    PresenceSession,
    PushAck,
    concurrency_1min,
    message_loss_daily,
    presence_sessions,
)
from classpulse.rooms.generator import RoomsOptions, generate_rooms_day, write_rooms_day

T = 30_000
M = 1_796_083_200_000  # a minute boundary (2026-12-01 08:00:00 Asia/Shanghai)


def beats(uid: int, *events: tuple[str, str, int]) -> list[Heartbeat]:
    return [Heartbeat(1, "r", uid, terminal, kind, M + at) for terminal, kind, at in events]


def spans(sessions: list[PresenceSession]) -> list[tuple[int, int, str, int, int]]:
    return [
        (s.online_from - M, s.online_to - M, s.end_reason, s.terminals, s.heartbeats)
        for s in sessions
    ]


def test_leave_at_the_instant_of_a_beat_wins() -> None:
    got = presence_sessions(
        beats(1, ("pc", "enter", 0), ("pc", "beat", 10_000), ("pc", "leave", 10_000)), T
    )
    assert spans(got) == [(0, 10_000, "leave", 1, 1)]


def test_touching_intervals_merge_and_a_millisecond_more_splits() -> None:
    assert spans(presence_sessions(beats(1, ("pc", "enter", 0), ("pc", "beat", T)), T)) == [
        (0, 2 * T, "timeout", 1, 2)
    ]
    assert spans(presence_sessions(beats(1, ("pc", "enter", 0), ("pc", "beat", T + 1)), T)) == [
        (0, T, "timeout", 1, 1),
        (T + 1, 2 * T + 1, "timeout", 1, 1),
    ]


def test_alternating_terminals_never_time_out() -> None:
    events = [("pc" if i % 2 == 0 else "app", "beat", i * 20_000) for i in range(10)]
    events += [("pc", "leave", 185_000), ("app", "leave", 185_000)]
    assert spans(presence_sessions(beats(1, *events), T)) == [(0, 185_000, "leave", 2, 10)]


def test_one_terminal_leaving_keeps_the_user_online_on_the_other() -> None:
    got = presence_sessions(
        beats(
            1,
            ("pc", "enter", 0),
            ("h5", "enter", 5_000),
            ("pc", "leave", 10_000),
            ("h5", "beat", 15_000),
        ),
        T,
    )
    assert spans(got) == [(0, 45_000, "timeout", 2, 3)]


def test_minute_rows_peak_and_timeouts_in_the_minute_they_end() -> None:
    sessions = presence_sessions(
        beats(1, ("pc", "enter", 50_000))  # [50 s, 80 s): minutes 0 and 1, times out in 1
        + beats(2, ("pc", "enter", 0), ("pc", "leave", 10_000))  # [0, 10 s)
        + beats(3, ("pc", "enter", 30_000)),  # [30 s, 60 s): ends at the minute's end
        T,
    )
    assert concurrency_1min(sessions) == [
        ConcurrencyMinute(M, M + 60_000, 1, "r", 3, 2, 3, 1),
        ConcurrencyMinute(M + 60_000, M + 120_000, 1, "r", 1, 1, 0, 1),
    ]


def test_gap_is_the_union_and_loss_the_latest_report() -> None:
    acks = [
        PushAck(1, "r", 1, "pc", M, 20, (12, 15), 0),
        PushAck(1, "r", 1, "pc", M + 2_000, 30, (15,), 1),
        PushAck(1, "r", 1, "pc", M + 2_000, 30, (), 2),  # same instant, later message: latest
    ]
    (row,) = message_loss_daily(acks, "Asia/Shanghai")
    assert (row.reports, row.max_msgid, row.gap_msgids, row.lost_msgids) == (3, 30, 2, 0)
    assert (row.gap_rate, row.loss_rate) == (2 / 30, 0.0)


def test_generator_is_deterministic_and_covers_every_behaviour(tmp_path: Path) -> None:
    options = RoomsOptions(start=date(2026, 12, 1), scale=0.0005, rooms=4)
    first = write_rooms_day(tmp_path / "a", options)
    write_rooms_day(tmp_path / "b", options)

    def digest(root: Path) -> dict[str, str]:
        return {
            str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*"))
            if path.is_file()
        }

    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert all(count > 0 for count in first.behaviours.values())
    assert all(count > 0 for counts in first.rejected.values() for count in counts.values())
    assert first.late_heartbeats
    assert max(len(room.users) for room in first.rooms) == 30  # 60k x scale
    reasons = {s.end_reason for s in first.sessions}
    assert reasons == {"leave", "timeout"}
    assert any(row.lost_msgids for row in first.loss)
    assert any(row.gap_msgids > row.lost_msgids for row in first.loss)


def test_alternating_users_of_a_generated_day_have_no_false_timeout() -> None:
    day = generate_rooms_day(RoomsOptions(start=date(2026, 12, 1), scale=0.0005, rooms=4))
    # the fourth user of every room alternates (generator.BEHAVIOURS order)
    alternating = {(room.room_id, room.users[3]) for room in day.rooms if len(room.users) > 3}
    sessions = [s for s in day.sessions if (s.room_id, s.uid) in alternating]
    assert sessions and all(s.end_reason == "leave" and s.terminals == 2 for s in sessions)
    assert len(sessions) == len(alternating)
