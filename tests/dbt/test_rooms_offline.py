"""Offline room marts (LIVE_CLASSROOM_CONTRACT.md B.3) through real dbt on the embedded warehouse.

A generated day (late heartbeats included) is written into the landing tables as the cleaning
jobs would land it; dbt builds ads.room_presence_sessions, room_concurrency_1min and
room_message_loss_daily, which must equal the pure-Python oracle rows of the generator
(:mod:`classpulse.rooms.expected`), computed independently of the SQL.
"""

from __future__ import annotations

from dataclasses import astuple, replace
from datetime import UTC, date, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from classpulse.config import Settings
from classpulse.dbt import run_dbt
from classpulse.rooms.generator import RoomsOptions, generate_rooms_day

OPTIONS = RoomsOptions(start=date(2026, 12, 1), seed=3, scale=0.0003, rooms=5, late_share=0.01)


def insert_rows(client: Client, table: str, rows: list[dict[str, object]]) -> None:
    """Rows given as column -> value (every row with the same columns) into ``table``."""
    client.insert(table, [list(row.values()) for row in rows], column_names=list(rows[0]))


def land_day(client: Client, options: RoomsOptions):
    """The generated day's valid messages in the clean landing tables, as the cleaning jobs
    land them (one source split each)."""
    day = generate_rooms_day(options)
    insert_rows(
        client,
        "ods.room_heartbeat_clean",
        [
            {
                "message_key": f"room_heartbeat|0|{n}",
                "source_split": "room_heartbeat/0",
                "bid": b.bid,
                "room_id": b.room_id,
                "uid": b.uid,
                "terminal": b.terminal,
                "kind": b.kind,
                "server_time": b.server_time,
            }
            for n, b in enumerate(day.heartbeats, 1)
        ],
    )
    insert_rows(
        client,
        "ods.room_push_ack_clean",
        [
            {
                "message_key": f"room_push_ack|0|{a.sequence + 1}",
                "source_split": "room_push_ack/0",
                "message_seq": a.sequence + 1,
                "bid": a.bid,
                "room_id": a.room_id,
                "uid": a.uid,
                "terminal": a.terminal,
                "server_time": a.server_time,
                "max_msgid": a.max_msgid,
                "missing_msgids": list(a.missing_msgids),
                "missing_count": len(a.missing_msgids),
            }
            for a in day.acks
        ],
    )
    return day


def publish_room_dimension(client: Client, day) -> dict[str, tuple[int, str, int]]:
    """A stand-in for the preheat's published view dim.live_room_current: the first room has two
    lessons (the greatest lesson_id wins), the second one, the others none (room_unknown).
    Returns room_id -> (lesson_id, room_role, expected_members) as section C reads it."""
    client.command("CREATE DATABASE IF NOT EXISTS dim")
    client.command("DROP TABLE IF EXISTS dim.live_room_current")
    client.command(
        "CREATE TABLE dim.live_room_current (lesson_date Date, lesson_id UInt64, room_id UInt64, "
        "room_role LowCardinality(String), tutor_id UInt64, scope_node_id UInt64, "
        "expected_members UInt32, run_id UInt64) ENGINE = Memory"
    )
    first, second = int(day.rooms[0].room_id), int(day.rooms[1].room_id)
    rows = [
        [OPTIONS.start, 7001, first, "main", 0, 1, 40, 3],
        [OPTIONS.start, 7002, first, "in_class", 5, 2, 12, 3],
        [OPTIONS.start, 7100, second, "main", 0, 1, 9, 3],
    ]
    client.insert(
        "dim.live_room_current",
        rows,
        column_names=[
            "lesson_date",
            "lesson_id",
            "room_id",
            "room_role",
            "tutor_id",
            "scope_node_id",
            "expected_members",
            "run_id",
        ],
    )
    return {str(first): (7002, "in_class", 12), str(second): (7100, "main", 9)}


def build_room_marts(warehouse: Settings, tmp_path: Path) -> Settings:
    """dbt builds the room marts and the models they read from what landed; the settings it ran
    with (a home of the test's own)."""
    settings = replace(warehouse, home=tmp_path / "home")
    run_dbt(
        settings,
        [
            "build",
            "--select",
            "room_presence_sessions room_concurrency_1min room_message_loss_daily "
            "room_sessions room_heartbeats room_push_acks",
        ],
    )
    return settings


def test_offline_room_marts_equal_the_oracle_late_heartbeats_included(
    dbt_warehouse: Settings, landing: Client, tmp_path: Path
) -> None:
    day = land_day(landing, OPTIONS)
    rooms = publish_room_dimension(landing, day)
    assert day.late_heartbeats and day.behaviours["alternating"] and day.behaviours["reconnect"]
    build_room_marts(dbt_warehouse, tmp_path)
    sessions = landing.query(
        "SELECT bid, room_id, uid, online_from_ms, online_to_ms, end_reason, terminals, heartbeats "
        "FROM ads.room_presence_sessions ORDER BY bid, room_id, uid, online_from_ms"
    ).result_rows
    assert [tuple(row) for row in sessions] == [astuple(s) for s in day.sessions]
    minutes = landing.query(
        "SELECT toUnixTimestamp(start_time) * 1000, toUnixTimestamp(end_time) * 1000, bid, room_id, "
        "users_present, peak_online, sessions_started, timeouts "
        "FROM ads.room_concurrency_1min ORDER BY bid, room_id, start_time"
    ).result_rows
    assert [tuple(row) for row in minutes] == [astuple(m) for m in day.concurrency]
    assert any(m.peak_online < m.users_present for m in day.concurrency)  # the peak is exercised
    # section C: every row kept; known rooms carry the dimension, the others room_unknown
    enriched = landing.query(
        "SELECT room_id, lesson_id, room_role, dim_status, count() FROM ads.room_presence_sessions "
        "GROUP BY room_id, lesson_id, room_role, dim_status ORDER BY room_id"
    ).result_rows
    assert {row[0]: tuple(row[1:4]) for row in enriched} == {
        room.room_id: (rooms[room.room_id][0], rooms[room.room_id][1], "ok")
        if room.room_id in rooms
        else (0, "", "room_unknown")
        for room in day.rooms
        if any(s.room_id == room.room_id for s in day.sessions)
    }
    assert sum(row[4] for row in enriched) == len(day.sessions)
    minute_dims = landing.query(
        "SELECT DISTINCT room_id, lesson_id, expected_members, dim_status "
        "FROM ads.room_concurrency_1min"
    ).result_rows
    assert {row[0]: tuple(row[1:]) for row in minute_dims} == {
        room_id: (rooms[room_id][0], rooms[room_id][2], "ok")
        if room_id in rooms
        else (0, 0, "room_unknown")
        for room_id in {m.room_id for m in day.concurrency}
    }
    loss = landing.query(
        "SELECT toString(day), bid, room_id, uid, terminal, reports, max_msgid, gap_msgids, "
        "lost_msgids, gap_rate, loss_rate FROM ads.room_message_loss_daily "
        "ORDER BY day, bid, room_id, uid, terminal"
    ).result_rows
    assert [tuple(row) for row in loss] == [astuple(r) for r in day.loss]


def test_rooms_now_lists_the_users_the_oracle_has_online(landing: Client) -> None:
    from classpulse.rooms.live import live_now

    day = land_day(landing, OPTIONS)
    insert_rt_minutes(landing, day.concurrency)
    room = max(day.rooms, key=lambda r: len(r.users))
    instants = {room.lesson_start + offset for offset in (0, 60_000, 600_000, 1_500_000)}
    instants |= {s.online_from for s in day.sessions[:20]} | {
        s.online_to for s in day.sessions[:20]
    }
    instants |= {s.online_to - 1 for s in day.sessions[:20]}
    for at in sorted(instants):
        online = {
            (s.bid, s.room_id, s.uid) for s in day.sessions if s.online_from <= at < s.online_to
        }
        live = live_now(landing, at_ms=at)
        by_room: dict[tuple[int, str], int] = {}
        for bid, room_id, _ in online:
            by_room[(bid, room_id)] = by_room.get((bid, room_id), 0) + 1
        assert {(r.bid, r.room_id): r.users_online for r in live.rooms} == by_room, at
        for r in live.rooms:  # beside it, the rt mart's newest final minute
            ended = [
                m
                for m in day.concurrency
                if (m.bid, m.room_id) == (r.bid, r.room_id) and m.end_time <= at
            ]
            last = max(ended, key=lambda m: m.start_time) if ended else None
            assert (r.rt_minute_ms, r.rt_users_present, r.rt_peak_online) == (
                (last.start_time, last.users_present, last.peak_online) if last else (None,) * 3
            )
        one = live_now(landing, at_ms=at, room_id=room.room_id)
        assert {(u.bid, u.room_id, u.uid) for u in one.users} == {
            key for key in online if key[1] == room.room_id
        }, at


def utc(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def insert_rt_minutes(client: Client, minutes) -> None:
    """Minutes into rt.room_concurrency_1min_log, as the stream writes them."""
    client.insert(
        "rt.room_concurrency_1min_log",
        [
            [utc(m.start_time), utc(m.end_time), m.start_time, m.bid, m.room_id]
            + [m.users_present, m.peak_online, m.sessions_started, m.timeouts]
            for m in minutes
        ],
        column_names=[
            "start_time",
            "end_time",
            "start_time_ms",
            "bid",
            "room_id",
            "users_present",
            "peak_online",
            "sessions_started",
            "timeouts",
        ],
    )


def land_realtime_side(client: Client, day) -> None:
    """What the stream would have written: sessions over the heartbeats that were on time (the
    oracle's, independent of the SQL), the late ones as late events, the loss rows upserted."""
    from classpulse.rooms.expected import concurrency_1min, presence_sessions

    late = set(day.late_heartbeats)
    on_time = presence_sessions(
        [beat for beat in day.heartbeats if beat not in late], OPTIONS.timeout_ms
    )
    insert_rt_minutes(client, concurrency_1min(on_time))
    client.insert(
        "rt.room_presence_sessions_log",
        [
            [s.bid, s.room_id, s.uid, "", "", s.online_from, s.online_to, s.end_reason]
            + [s.terminals, s.heartbeats]
            for s in on_time
        ],
        column_names=[
            "bid",
            "room_id",
            "uid",
            "online_from",
            "online_to",
            "online_from_ms",
            "online_to_ms",
            "end_reason",
            "terminals",
            "heartbeats",
        ],
    )
    client.insert(
        "ods.late_events",
        [
            ["room_presence_sessions", "", b.server_time, b.uid, b.room_id, b.terminal, b.kind]
            + [b.bid, "room_heartbeat/0"]
            for b in day.late_heartbeats
        ],
        column_names=[
            "mart",
            "event_time",
            "event_time_ms",
            "user_id",
            "classroom_id",
            "user_type",
            "event",
            "extra_uid",
            "source_split",
        ],
    )
    client.insert(
        "rt.room_message_loss_daily_log",
        [
            [date.fromisoformat(r.day), r.bid, r.room_id, r.uid, r.terminal, r.reports]
            + [r.max_msgid, r.gap_msgids, r.lost_msgids, r.gap_rate, r.loss_rate, 1, 0]
            for r in day.loss
        ],
        column_names=[
            "day",
            "bid",
            "room_id",
            "uid",
            "terminal",
            "reports",
            "max_msgid",
            "gap_msgids",
            "lost_msgids",
            "gap_rate",
            "loss_rate",
            "version",
            "is_deleted",
        ],
    )


def test_reconciliation_explains_the_presence_difference_by_late_heartbeats_and_gx_passes(
    dbt_warehouse: Settings, landing: Client, tmp_path: Path
) -> None:
    from classpulse.quality import run_quality

    day = land_day(landing, OPTIONS)
    land_realtime_side(landing, day)
    settings = replace(dbt_warehouse, home=tmp_path / "home")
    run_dbt(
        settings,
        ["build", "--select", "+rt_vs_offline_reconciliation"],
    )
    rows = landing.query(
        "SELECT mart, toString(day), rt_total, ads_total, explained_by_late, unexplained, status "
        "FROM ads.rt_vs_offline_reconciliation WHERE mart LIKE 'room_%' ORDER BY mart, day"
    ).result_rows
    by_mart = {
        mart: (rt, ads, explained, unexplained, status)
        for mart, _, rt, ads, explained, unexplained, status in rows
    }
    assert set(by_mart) == {
        "room_presence_sessions",
        "room_concurrency_1min",
        "room_message_loss_daily",
    }
    assert all(row[3:] == (0, "ok") for row in by_mart.values())
    rt, ads, explained, _, _ = by_mart["room_presence_sessions"]
    assert ads == sum(s.heartbeats for s in day.sessions) and ads - rt == explained
    assert explained > 0  # the late heartbeats count offline only
    suites = sorted(
        path
        for layer in ("ods", "ads", "rt")
        for path in (settings.root / "expectations" / layer).glob("room_*.yml")
    )
    report = run_quality(settings, suites, build_docs=False)
    assert report.success, [
        (r.suite, r.error, [o for o in r.outcomes if not o.success]) for r in report.failed
    ]


def test_report_section_shows_the_busiest_rooms_timeouts_and_loss(
    dbt_warehouse: Settings, landing: Client, tmp_path: Path
) -> None:
    from classpulse.report import MartReader
    from classpulse.report.rooms import build_rooms_section, has_room_data

    day = land_day(landing, OPTIONS)
    settings = build_room_marts(dbt_warehouse, tmp_path)
    reader = MartReader(landing, settings.timezone)
    assert has_room_data(reader)
    section = build_rooms_section(reader, OPTIONS.start)
    assert not section.notes and len(section.charts) == 2
    assert all(chart.png.startswith(b"\x89PNG\r\n\x1a\n") for chart in section.charts)
    cards = {card.key: card.raw for card in section.cards}
    assert cards["rooms_peak_online"] == max(m.peak_online for m in day.concurrency)
    day_text = OPTIONS.start.isoformat()
    from zoneinfo import ZoneInfo

    from classpulse.rooms.expected import business_date

    zone = ZoneInfo(OPTIONS.timezone)
    assert cards["rooms_timeouts"] == sum(
        s.end_reason == "timeout" and business_date(s.online_to, zone) == day_text
        for s in day.sessions
    )
    busiest, by_terminal = section.tables
    top = max(day.concurrency, key=lambda m: m.peak_online)
    assert busiest.rows[0][2] == str(top.peak_online)
    assert {row[0] for row in by_terminal.rows} == {
        r.terminal for r in day.loss if r.day == day_text
    }
