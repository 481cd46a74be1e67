"""Offline room marts (LIVE_CLASSROOM_CONTRACT.md B.3) through real dbt on the embedded warehouse.

A generated day (late heartbeats included) is written into the landing tables as the cleaning
jobs would land it; dbt builds ads.room_presence_sessions, room_concurrency_1min and
room_message_loss_daily, which must equal the pure-Python oracle rows of the generator
(:mod:`classpulse.rooms.expected`), computed independently of the SQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from clickhouse_connect.driver.client import Client

from classpulse.config import Settings
from classpulse.dbt import run_dbt
from classpulse.rooms.generator import RoomsOptions, generate_rooms_day

OPTIONS = RoomsOptions(start=date(2026, 12, 1), seed=3, scale=0.0003, rooms=5, late_share=0.01)


def land_day(client: Client, options: RoomsOptions):
    day = generate_rooms_day(options)
    client.insert(
        "ods.room_heartbeat_clean",
        [
            [f"room_heartbeat|room_heartbeat/0|{n}", "room_heartbeat/0", b.bid, b.room_id, b.uid]
            + [b.terminal, b.kind, b.server_time]
            for n, b in enumerate(day.heartbeats, 1)
        ],
        column_names=[
            "message_key", "source_split", "bid", "room_id", "uid", "terminal", "kind",
            "server_time",
        ],
    )
    client.insert(
        "ods.room_push_ack_clean",
        [
            [f"room_push_ack|room_push_ack/0|{a.sequence + 1}", "room_push_ack/0", a.sequence + 1]
            + [a.bid, a.room_id, a.uid, a.terminal, a.server_time, a.max_msgid]
            + [list(a.missing_msgids), len(a.missing_msgids)]
            for a in day.acks
        ],
        column_names=[
            "message_key", "source_split", "message_seq", "bid", "room_id", "uid", "terminal",
            "server_time", "max_msgid", "missing_msgids", "missing_count",
        ],
    )
    return day


def test_offline_room_marts_equal_the_oracle_late_heartbeats_included(
    dbt_warehouse: Settings, landing: Client, tmp_path: Path
) -> None:
    day = land_day(landing, OPTIONS)
    assert day.late_heartbeats and day.behaviours["alternating"] and day.behaviours["reconnect"]
    settings = replace(dbt_warehouse, home=tmp_path / "home")
    run_dbt(
        settings,
        ["build", "--select", "room_presence_sessions room_concurrency_1min room_message_loss_daily "
         "room_sessions room_heartbeats room_push_acks"],
    )
    sessions = landing.query(
        "SELECT bid, room_id, uid, online_from_ms, online_to_ms, end_reason, terminals, heartbeats "
        "FROM ads.room_presence_sessions ORDER BY bid, room_id, uid, online_from_ms"
    ).result_rows
    assert [tuple(row) for row in sessions] == [
        (s.bid, s.room_id, s.uid, s.online_from, s.online_to, s.end_reason, s.terminals, s.heartbeats)
        for s in day.sessions
    ]
    minutes = landing.query(
        "SELECT toUnixTimestamp(start_time) * 1000, toUnixTimestamp(end_time) * 1000, bid, room_id, "
        "users_present, peak_online, sessions_started, timeouts "
        "FROM ads.room_concurrency_1min ORDER BY bid, room_id, start_time"
    ).result_rows
    assert [tuple(row) for row in minutes] == [
        (m.start_time, m.end_time, m.bid, m.room_id, m.users_present, m.peak_online)
        + (m.sessions_started, m.timeouts)
        for m in day.concurrency
    ]
    assert any(m.peak_online < m.users_present for m in day.concurrency)  # the peak is exercised
    loss = landing.query(
        "SELECT toString(day), bid, room_id, uid, terminal, reports, max_msgid, gap_msgids, "
        "lost_msgids, gap_rate, loss_rate FROM ads.room_message_loss_daily "
        "ORDER BY day, bid, room_id, uid, terminal"
    ).result_rows
    assert [tuple(row) for row in loss] == [
        (r.day, r.bid, r.room_id, r.uid, r.terminal, r.reports, r.max_msgid, r.gap_msgids)
        + (r.lost_msgids, r.gap_rate, r.loss_rate)
        for r in day.loss
    ]


def test_rooms_now_lists_the_users_the_oracle_has_online(landing: Client) -> None:
    from classpulse.rooms.live import live_now

    day = land_day(landing, OPTIONS)
    room = max(day.rooms, key=lambda r: len(r.users))
    instants = {room.lesson_start + offset for offset in (0, 60_000, 600_000, 1_500_000)}
    instants |= {s.online_from for s in day.sessions[:20]} | {s.online_to for s in day.sessions[:20]}
    instants |= {s.online_to - 1 for s in day.sessions[:20]}
    for at in sorted(instants):
        online = {(s.bid, s.room_id, s.uid) for s in day.sessions if s.online_from <= at < s.online_to}
        live = live_now(landing, at_ms=at)
        by_room: dict[tuple[int, str], int] = {}
        for bid, room_id, _ in online:
            by_room[(bid, room_id)] = by_room.get((bid, room_id), 0) + 1
        assert {(r.bid, r.room_id): r.users_online for r in live.rooms} == by_room, at
        one = live_now(landing, at_ms=at, room_id=room.room_id)
        assert {(u.bid, u.room_id, u.uid) for u in one.users} == {
            key for key in online if key[1] == room.room_id
        }, at
