"""Every landed row names its source message: message_key = <topic>|<partition>|<offset> (docs/
contract.md 1.1), checked against the records read back from the source topics after a bounded run
(real broker, real Flink, the landing consumer, a warehouse of the module's own)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest
from kafka_helpers import read_records, run_settings, truncate_topics
from qos_lines import MINUTE, TEN, qos
from warehouse_helpers import warehouse_settings

from classpulse import pipeline
from classpulse.config import Settings
from classpulse.warehouse import daemon, get_client

JOBS = ("clean_classroom_enter", "clean_room_heartbeat", "clean_qos_log")
LATE_JOBS = ("mart_recorded_course_enter_time",)


def enter(user_id: int, **fields: object) -> str:
    message = {
        "room_id": 7,
        "user_id": user_id,
        "role": "student",
        "client_time": TEN,
        "server_time": TEN + 200,
        "action": "enter",
        "result": "success",
        "started_at": TEN - 1_000,
    }
    message.update(fields)
    return json.dumps({k: v for k, v in message.items() if v is not None})


def beat(uid: int, kind: str, at: int) -> str:
    return json.dumps(
        {"bid": 1, "room_id": "r7", "uid": uid, "terminal": "pc", "kind": kind, "server_time": at}
    )


# topic -> (line, verdict): None = accepted, else the rejection reason; written out by hand
MESSAGES = {
    "classroom_enter": [
        (enter(1), None),
        (enter(2, action="leave", result=None, started_at=None), None),
        ('{"room_id": 7, "user_id": ', "malformed_json"),
        (enter(3, result=None), "missing_field"),
        (enter(4, role="parent"), "wrong_type"),
        (enter(5, client_time=TEN + 10 * MINUTE), "future_timestamp"),
    ],
    "room_heartbeat": [
        (beat(1, "enter", TEN), None),
        (beat(1, "beat", TEN + 10_000), None),
        (beat(1, "ping", TEN + 20_000), "wrong_type"),
        (json.dumps({"bid": 1, "room_id": "r7", "uid": 1}), "missing_field"),
    ],
    "qos_log": [
        (qos(1, "PPT_START", TEN + 5 * MINUTE), None),
        (qos(1, "PPT_SUCCESS", TEN + 6 * MINUTE), None),
        ("[1, 2]", "malformed_json"),
        # five minutes behind what its split has seen: late for the mart (delay 10 s)
        (qos(1, "PPT_START", TEN), None),
    ],
}
LATE_LINE = qos(1, "PPT_START", TEN)
CLEAN_TABLES = {
    "classroom_enter": "ods.classroom_enter_clean",
    "room_heartbeat": "ods.room_heartbeat_clean",
    "qos_log": "ods.qos_log_clean",
}
LANDED = (*(f"{topic}_clean" for topic in MESSAGES), "rejected_messages", "late_events")
# clean topics checked here; qos_log_clean with the late events below
KEYED = ("classroom_enter", "room_heartbeat")


@pytest.fixture(scope="module")
def landed(
    kafka_broker: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, dict[str, dict[bytes, str]]]]:
    """One bounded run over MESSAGES, landed; with every source record's key by its value."""
    base = tmp_path_factory.mktemp("message_keys")
    truncate_topics(kafka_broker)
    settings = run_settings(warehouse_settings(base / "warehouse"), kafka_broker, base)
    for topic, lines in MESSAGES.items():
        directory = settings.topics_dir / topic
        directory.mkdir(parents=True)
        (directory / "20261120T020000Z.jsonl").write_text(
            "".join(line + "\n" for line, _ in lines), encoding="utf-8"
        )
    daemon.start(settings)
    try:
        run = pipeline.run_flink(settings, jobs=JOBS + LATE_JOBS)
        assert run["messages_read"] == sum(len(lines) for lines in MESSAGES.values())
        # only the tables these jobs feed (the accounting of the whole pipeline expects every
        # mart of the room topics; tests/kafka/test_accounting.py holds it)
        pipeline.load(settings, only=LANDED)
        # the independent side: the source records as Kafka holds them
        keys = {}
        for topic in MESSAGES:
            records = read_records(settings, topic)
            assert len(records) == len(MESSAGES[topic])
            keys[topic] = {r.value: f"{topic}|{r.partition}|{r.offset}" for r in records}
        yield settings, keys
    finally:
        daemon.stop(settings)


def keys_of(settings: Settings, query: str) -> list[tuple]:
    return [tuple(row) for row in get_client(settings).query(query).result_rows]


@pytest.mark.parametrize("topic", KEYED)
def test_every_cleaned_row_carries_its_source_messages_key(landed, topic: str) -> None:
    settings, keys = landed
    expected = Counter(
        keys[topic][line.encode()] for line, verdict in MESSAGES[topic] if verdict is None
    )
    rows = keys_of(settings, f"SELECT message_key FROM {CLEAN_TABLES[topic]}")
    assert Counter(key for (key,) in rows) == expected  # each once: no key shared


def test_every_rejected_row_carries_its_source_messages_key(landed) -> None:
    settings, keys = landed
    expected = Counter(
        (topic, keys[topic][line.encode()], verdict)
        for topic, lines in MESSAGES.items()
        for line, verdict in lines
        if verdict is not None
    )
    rows = keys_of(settings, "SELECT topic, message_key, reason FROM ods.rejected_messages")
    assert Counter(rows) == expected


def test_late_events_come_from_the_stream(landed) -> None:
    settings, keys = landed
    partition = keys["qos_log"][LATE_LINE.encode()].split("|")[1]
    rows = keys_of(settings, "SELECT mart, origin, source_split FROM ods.late_events")
    assert rows == [("recorded_course_enter_time", "stream", f"qos_log/{partition}")]


def test_late_and_offsetless_cleaned_rows_carry_their_key(landed) -> None:
    settings, keys = landed
    late = keys_of(settings, "SELECT message_key FROM ods.late_events")
    assert late == [(keys["qos_log"][LATE_LINE.encode()],)]
    expected = Counter(
        keys["qos_log"][line.encode()] for line, verdict in MESSAGES["qos_log"] if verdict is None
    )
    rows = keys_of(settings, "SELECT message_key FROM ods.qos_log_clean")
    assert Counter(key for (key,) in rows) == expected
