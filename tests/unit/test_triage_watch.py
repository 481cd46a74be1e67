"""``classpulse triage watch`` on a real embedded warehouse: which help requests are open.

Rows go into rt.help_request_triage_log as the landing service writes them (an upsert log); the
expected open set is written out by hand from LIVE_CLASSROOM_CONTRACT.md A.4 (manual decisions,
automatic ones still in their verification window, escalated ones).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from classpulse.classroom_help.rules.enrichment import DIMENSION_COLUMNS
from classpulse.classroom_help.watch import open_requests, state_of
from classpulse.cli import main
from classpulse.config import Settings
from classpulse.loader import create_landing_tables, read_landing_tables
from classpulse.warehouse import get_client

T = 1_795_140_000_000  # a 30 s boundary
COLUMNS = [
    "request_id",
    "source",
    "room_id",
    "user_id",
    "role",
    "request_time",
    "received_time",
    "decided_at",
    "evidence_end",
    "outcome",
    "category",
    "action",
    "target_user_id",
    "verify_start",
    "verify_status",
    "handle_ms",
    "version",
    "is_deleted",
    *DIMENSION_COLUMNS,  # contract C's published room and member columns
    "processed_at",
]


def row(
    request_id: str,
    room: int,
    h: int,
    outcome: str,
    category: str,
    verify_start,
    status: str,
    version: int = 1,
) -> list:
    c = 15_000 * (h // 15_000 + 1)
    return [
        request_id,
        "help",
        room,
        200,
        "student",
        h,
        h + 200,
        c,
        30_000 * (c // 30_000),
        outcome,
        category,
        "switch_line" if outcome == "auto" else "",
        0,
        verify_start,
        status,
        c - h,
        version,
        0,
        501,
        datetime(2026, 11, 20).date(),
        "in_class",
        2,
        300,
        0,
        41,
        11,
        "ok",
        datetime.now(UTC),
    ]


@pytest.fixture
def triage_log(warehouse: Settings):
    client = get_client(warehouse)
    tables = [t for t in read_landing_tables(warehouse.root) if t.topic == "help_request_triage"]
    create_landing_tables(client, tables)
    client.command("TRUNCATE TABLE rt.help_request_triage_log")
    now_h = T + 120_000  # the newest decision is at T + 135 s
    client.insert(
        "rt.help_request_triage_log",
        [
            row("manual", 1, T + 1_000, "manual", "uncovered", None, ""),
            # decided at T + 135 s, verified on [T + 150 s, T + 180 s): not over yet
            row("verifying", 1, now_h, "auto", "network", T + 150_000, "escalated"),
            # verified on [T + 30 s, T + 60 s): over, and the problem stayed
            row("escalated", 1, T + 2_000, "auto", "media", T + 30_000, "escalated"),
            row("resolved", 1, T + 3_000, "auto", "media", T + 30_000, "resolved"),
            row("merged", 1, T + 4_000, "merged", "duplicate", None, ""),
            row("other-room", 2, T + 5_000, "manual", "uncovered", None, ""),
            # an upsert: first escalated, then the verdict resolved it
            row("upserted", 1, T + 6_000, "auto", "media", T + 30_000, "escalated", version=1),
            row("upserted", 1, T + 6_000, "auto", "media", T + 30_000, "resolved", version=2),
            row("too-old", 1, T - 3_600_000, "manual", "uncovered", None, ""),
        ],
        column_names=COLUMNS,
    )
    yield client
    client.close()


def test_open_requests_are_manual_verifying_and_escalated(triage_log) -> None:
    snapshot = open_requests(triage_log, since_ms=T - 60_000)
    assert snapshot.stream_now == T + 135_000
    assert sorted(item.request_id for item in snapshot.open) == [
        "escalated",
        "manual",
        "other-room",
        "verifying",
    ]
    assert snapshot.counts == {
        "manual": 2,
        "verifying": 1,
        "escalated": 1,
        "resolved": 2,
        "merged": 1,
    }
    in_room = open_requests(triage_log, since_ms=T - 60_000, room_id=2)
    assert [item.request_id for item in in_room.open] == ["other-room"]


def test_state_follows_the_verification_window() -> None:
    v = T + 30_000
    assert state_of("auto", v, "escalated", v + 29_999) == "verifying"
    assert state_of("auto", v, "escalated", v + 30_000) == "escalated"
    assert state_of("auto", v, "resolved", v + 30_000) == "resolved"
    assert state_of("manual", None, "", v) == "manual"


def test_watch_once_prints_the_open_requests(triage_log, warehouse: Settings) -> None:
    result = CliRunner().invoke(main, ["triage", "watch", "--once", "--since-minutes", "5"])
    assert result.exit_code == 0, result.output
    assert "escalated" in result.output and "verifying" in result.output
    assert "too-old" not in result.output and "resolved " not in result.output.split("\n", 2)[-1]


@pytest.mark.parametrize(
    "arguments",
    [["--interval", "0"], ["--room", "1 OR 1=1"], ["--limit", "0"], ["--since-minutes", "-5"]],
)
def test_watch_rejects_bad_parameters_with_a_reason(arguments: list[str]) -> None:
    result = CliRunner().invoke(main, ["triage", "watch", "--once", *arguments])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
