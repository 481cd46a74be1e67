"""Room presence and message loss (LIVE_CLASSROOM_CONTRACT.md B) on the mini-cluster.

Hand-made heartbeats, one rule each, with the expected sessions written out by hand; then a small
generated day whose sessions and loss rows equal the pure-Python oracle
(:mod:`classpulse.rooms.expected`). One file per topic, read in line order.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flink_helpers import FlinkRun, latest_versions, read_topic, run_all

from classpulse.config import Settings
from classpulse.flink.session import FlinkSession
from classpulse.rooms.generator import RoomsOptions, write_rooms_day

T0 = 1_796_083_200_000  # 2026-12-01 08:00:00 Asia/Shanghai, a minute boundary
S = 1_000
JOBS = (  # presence sessions: tests/flink/test_room_presence.py
    "clean_room_heartbeat",
    "clean_room_push_ack",
    "mart_room_message_loss_daily",
)


def beat(uid: int, terminal: str, kind: str, at: int, room: str = "501") -> str:
    return json.dumps(
        {
            "bid": 1,
            "room_id": room,
            "uid": uid,
            "terminal": terminal,
            "kind": kind,
            "server_time": T0 + at,
        }
    )


def ack(uid: int, terminal: str, at: int, max_msgid: int, missing: list[Any]) -> str:
    return json.dumps(
        {
            "bid": 1,
            "room_id": 501,
            "uid": str(uid),
            "terminal": terminal,
            "server_time": T0 + at,
            "max_msgid": max_msgid,
            "missing_msgids": missing,
        }
    )


def write_topic(topics: Path, topic: str, lines: list[str]) -> None:
    (topics / topic).mkdir(parents=True, exist_ok=True)
    (topics / topic / "part-0.jsonl").write_text("\n".join(lines) + "\n")


def run_rooms(
    session: FlinkSession, kafka: Settings, tmp_path: Path, beats: list[str], acks: list[str]
) -> FlinkRun:
    topics = tmp_path / "topics"
    write_topic(topics, "room_heartbeat", beats)
    write_topic(topics, "room_push_ack", acks)
    return run_all(session, kafka, tmp_path / "home", topics, JOBS)


BAD_BEATS = [
    ("{not json", "malformed_json"),
    ('{"bid":1,"room_id":"501","uid":9,"terminal":"pc","kind":"beat"}', "missing_field"),
    (
        '{"bid":1,"room_id":null,"uid":9,"terminal":"pc","kind":"beat","server_time":1}',
        "missing_field",
    ),
    (
        '{"bid":"x","room_id":"501","uid":9,"terminal":"pc","kind":"beat","server_time":1}',
        "wrong_type",
    ),
    ('{"bid":1,"room_id":"501","uid":9,"terminal":"","kind":"beat","server_time":1}', "wrong_type"),
    (
        '{"bid":1,"room_id":"501","uid":9,"terminal":"pc","kind":"Beat","server_time":1}',
        "wrong_type",
    ),
    (
        '{"bid":1,"room_id":"501","uid":9,"terminal":"pc","kind":"beat","server_time":{"a":1}}',
        "wrong_type",
    ),
]
BAD_ACKS = [
    ("[1,2]", "malformed_json"),
    (
        '{"bid":1,"room_id":501,"uid":9,"terminal":"pc","server_time":1,"max_msgid":5}',
        "missing_field",
    ),
    (
        '{"bid":1,"room_id":501,"uid":9,"terminal":"pc","server_time":1,"max_msgid":5,'
        '"missing_msgids":null}',
        "missing_field",
    ),
    (
        '{"bid":1,"room_id":501,"uid":9,"terminal":"pc","server_time":1,"max_msgid":-1,'
        '"missing_msgids":[]}',
        "wrong_type",
    ),
    (
        '{"bid":1,"room_id":501,"uid":9,"terminal":"pc","server_time":1,"max_msgid":5,'
        '"missing_msgids":"1,2"}',
        "wrong_type",
    ),
    (
        '{"bid":1,"room_id":501,"uid":9,"terminal":"pc","server_time":1,"max_msgid":5,'
        '"missing_msgids":[0]}',
        "wrong_type",
    ),
    (
        '{"bid":1,"room_id":501,"uid":9,"terminal":"pc","server_time":1,"max_msgid":5,'
        '"missing_msgids":[5]}',
        "wrong_type",
    ),
    (
        '{"bid":1,"room_id":501,"uid":9,"terminal":"pc","server_time":1,"max_msgid":5,'
        '"missing_msgids":[2,2]}',
        "wrong_type",
    ),
    (
        '{"bid":1,"room_id":501,"uid":9,"terminal":"pc","server_time":1,"max_msgid":5,'
        '"missing_msgids":[1.5]}',
        "wrong_type",
    ),
    (
        '{"bid":1,"room_id":501,"uid":9,"terminal":"pc","server_time":1,"max_msgid":5,'
        '"missing_msgids":["x"]}',
        "wrong_type",
    ),
]

# valid heartbeats of every kind and terminal (uid, terminal, kind, at); the presence rules
# they feed are tested in tests/flink/test_room_presence.py
VALID_BEATS = [
    (1, "pc", "enter", 0),
    (2, "app", "enter", 5 * S),
    (3, "h5", "enter", 6 * S),
    (1, "pc", "beat", 10 * S),
    (3, "mac", "beat", 15 * S),
    (1, "pc", "leave", 25 * S),
]


@pytest.fixture(scope="module")
def scenario(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path_factory: pytest.TempPathFactory
) -> FlinkRun:
    tmp_path = tmp_path_factory.mktemp("rooms")
    beats = [beat(uid, terminal, kind, at) for uid, terminal, kind, at in VALID_BEATS]
    beats += [line for line, _ in BAD_BEATS]
    acks = [
        ack(21, "pc", 0, 10, []),
        ack(21, "pc", 2 * S, 20, [12, 15]),  # gap 12 and 15
        ack(21, "pc", 4 * S, 30, ["15"]),  # 12 re-pulled; 15 still missing
        ack(21, "app", 4 * S, 0, []),  # max_msgid 0: rates 0
        ack(22, "pc", 6 * S, 40, [3, 4]),
        ack(22, "pc", 6 * S, 40, [3]),  # same instant: the later message is the latest
    ]
    acks += [line for line, _ in BAD_ACKS]
    return run_rooms(flink_session, flink_kafka, tmp_path, beats, acks)


def test_bad_input_is_rejected_with_its_reason_and_accounted(scenario: FlinkRun) -> None:
    rejected = read_topic(scenario, "rejected_messages")
    got = sorted((row["topic"], row["payload"], row["reason"]) for row in rejected)
    want = sorted(
        [("room_heartbeat", line, reason) for line, reason in BAD_BEATS]
        + [("room_push_ack", line, reason) for line, reason in BAD_ACKS]
    )
    assert got == want
    accounting: dict[str, dict[str, int]] = {}
    for row in read_topic(scenario, "topic_accounting"):
        current = accounting.get(row["topic"])
        if current is None or row["messages_read"] > current["messages_read"]:
            accounting[row["topic"]] = row
    beats_valid = len(VALID_BEATS)
    assert (accounting["room_heartbeat"]["accepted"], accounting["room_heartbeat"]["rejected"]) == (
        beats_valid,
        len(BAD_BEATS),
    )
    assert (accounting["room_push_ack"]["accepted"], accounting["room_push_ack"]["rejected"]) == (
        6,
        len(BAD_ACKS),
    )
    clean = read_topic(scenario, "room_heartbeat_clean")
    assert len(clean) == beats_valid
    assert len({row["message_key"] for row in clean}) == beats_valid


def test_message_gap_is_the_union_and_loss_the_latest_report(scenario: FlinkRun) -> None:
    rows = latest_versions(
        read_topic(scenario, "room_message_loss_daily"),
        ("day", "bid", "room_id", "uid", "terminal"),
    )
    got = {
        (row["uid"], row["terminal"]): (
            row["reports"],
            row["max_msgid"],
            row["gap_msgids"],
            row["lost_msgids"],
            row["gap_rate"],
            row["loss_rate"],
        )
        for row in rows.values()
    }
    assert got == {
        (21, "pc"): (3, 30, 2, 1, 2 / 30, 1 / 30),
        (21, "app"): (1, 0, 0, 0, 0.0, 0.0),
        (22, "pc"): (2, 40, 2, 1, 2 / 40, 1 / 40),
    }
    assert {row["day"] for row in rows.values()} == {"2026-12-01"}


def test_generated_day_loss_and_accounting_equal_the_oracle(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    topics = tmp_path / "topics"
    options = RoomsOptions(start=date(2026, 12, 1), scale=0.0002, rooms=4, late_share=0.0)
    day = write_rooms_day(topics, options)
    result = run_all(flink_session, flink_kafka, tmp_path / "home", topics, JOBS)
    loss = latest_versions(
        read_topic(result, "room_message_loss_daily"), ("day", "bid", "room_id", "uid", "terminal")
    )
    got_loss = {
        key: (row["reports"], row["max_msgid"], row["gap_msgids"], row["lost_msgids"])
        for key, row in loss.items()
    }
    assert got_loss == {
        (r.day, r.bid, r.room_id, r.uid, r.terminal): (
            r.reports,
            r.max_msgid,
            r.gap_msgids,
            r.lost_msgids,
        )
        for r in day.loss
    }
    assert len(read_topic(result, "room_heartbeat_clean")) == len(day.heartbeats)
    assert len(read_topic(result, "room_push_ack_clean")) == len(day.acks)
    rejected = read_topic(result, "rejected_messages")
    for topic in ("room_heartbeat", "room_push_ack"):
        counts = {reason: 0 for reason in day.rejected[topic]}
        for row in rejected:
            if row["topic"] == topic:
                counts[row["reason"]] += 1
        assert counts == day.rejected[topic]
