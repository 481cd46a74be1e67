"""A generated day of rooms (LIVE_CLASSROOM_CONTRACT.md B) through Kafka and the room jobs.

The generator's lines (bad messages and late heartbeats included, in arrival order) go to a
broker of the test's own with one partition per topic, so arrival order is the order every job
sees and "late" is deterministic. Every real-time mart then equals the pure-Python oracle
(:mod:`classpulse.rooms.expected`) over what the stream could count: sessions and minute rows
over the heartbeats that were on time, every late heartbeat in late_events, loss rows over all
reports; every rejected message is there with its reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import astuple
from datetime import date

import pytest
from flink_helpers import latest_versions
from rooms_kafka import (
    ROOM_JOBS,
    kafka_flink_session,
    one_partition_broker,
    produce_lines,
    read_json,
    run_room_jobs,
)

from classpulse.config import Settings
from classpulse.rooms.expected import concurrency_1min, presence_sessions
from classpulse.rooms.generator import RoomsDay, RoomsOptions, generate_rooms_day

OPTIONS = RoomsOptions(start=date(2026, 12, 1), seed=1, scale=0.0002, rooms=4, late_share=0.01)


@pytest.fixture(scope="module")
def generated_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, RoomsDay]]:
    with one_partition_broker(tmp_path_factory.mktemp("rooms-day") / "broker") as settings:
        day = generate_rooms_day(OPTIONS)
        lines = {topic: [line for _, line in rows] for topic, rows in day.lines.items()}
        produce_lines(settings, lines)
        run_room_jobs(settings, kafka_flink_session(), ROOM_JOBS)
        yield settings, day


def on_time_sessions(day: RoomsDay):
    late = set(day.late_heartbeats)
    return presence_sessions([b for b in day.heartbeats if b not in late], OPTIONS.timeout_ms)


def read_tuples(settings: Settings, mart: str, columns: str) -> Counter[tuple]:
    """The rows of ``mart`` as tuples of its ``columns`` (names separated by spaces)."""
    names = columns.split()
    return Counter(tuple(r[name] for name in names) for r in read_json(settings, mart))


def test_sessions_equal_the_oracle_over_the_heartbeats_on_time(generated_run) -> None:
    settings, day = generated_run
    assert day.late_heartbeats and day.behaviours["alternating"] and day.behaviours["reconnect"]
    got = read_tuples(
        settings,
        "room_presence_sessions",
        "bid room_id uid online_from_ms online_to_ms end_reason terminals heartbeats",
    )
    want = Counter(astuple(s) for s in on_time_sessions(day))  # the same fields, in order
    assert got == want


def test_minutes_equal_the_oracle_over_the_heartbeats_on_time(generated_run) -> None:
    settings, day = generated_run
    got = read_tuples(
        settings,
        "room_concurrency_1min",
        "start_time_ms bid room_id users_present peak_online sessions_started timeouts",
    )
    want = Counter(
        (
            m.start_time,
            m.bid,
            m.room_id,
            m.users_present,
            m.peak_online,
            m.sessions_started,
            m.timeouts,
        )
        for m in concurrency_1min(on_time_sessions(day))
    )
    assert got == want


def test_every_heartbeat_is_counted_or_late_and_every_bad_message_rejected(generated_run) -> None:
    settings, day = generated_run
    late = [r for r in read_json(settings, "late_events") if r["mart"] == "room_presence_sessions"]
    assert Counter(
        (
            r["extra_uid"],
            r["classroom_id"],
            r["user_id"],
            r["user_type"],
            r["event"],
            r["event_time_ms"],
        )
        for r in late
    ) == Counter(
        (b.bid, b.room_id, b.uid, b.terminal, b.kind, b.server_time) for b in day.late_heartbeats
    )
    counts = max(
        (
            r
            for r in read_json(settings, "mart_accounting")
            if r["mart"] == "room_presence_sessions"
        ),
        key=lambda r: r["events_in"],
    )
    assert counts["events_in"] == len(day.heartbeats)
    assert counts["events_counted"] + counts["events_late"] == counts["events_in"]
    assert counts["events_late"] == len(day.late_heartbeats)
    rejected = Counter((r["topic"], r["reason"]) for r in read_json(settings, "rejected_messages"))
    assert rejected == Counter(
        {
            (topic, reason): n
            for topic, reasons in day.rejected.items()
            for reason, n in reasons.items()
            if n
        }
    )


def test_loss_rows_equal_the_oracle(generated_run) -> None:
    settings, day = generated_run
    rows = latest_versions(
        read_json(settings, "room_message_loss_daily"), ("day", "bid", "room_id", "uid", "terminal")
    )
    assert (
        {
            key: (r["reports"], r["max_msgid"], r["gap_msgids"], r["lost_msgids"])
            for key, r in rows.items()
        }
        == {  # MessageLossDay: the key's five fields, then the four counts
            astuple(r)[:5]: astuple(r)[5:9] for r in day.loss
        }
    )
