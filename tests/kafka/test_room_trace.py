"""The rooms bench's per-minute trace (classpulse.bench.room_trace) reads real data back: the
Kafka timestamps of records at given positions (a real broker), the landed rows' landed_at and
positions (the real embedded warehouse), and joins them with checkpoints per minute."""

from __future__ import annotations

import time
import uuid

from classpulse.bench.room_trace import (
    JobProbe,
    landed_rows,
    minute_traces,
    record_timestamps,
)
from classpulse.config import Settings
from classpulse.kafka.admin import create_topics
from classpulse.kafka.client import client_config
from classpulse.warehouse import get_client

MINUTE = 1_764_554_400_000
BASE = 1_700_000_000_000  # record timestamps far from now: only the broker can return them


def produce_timed(settings: Settings, topic: str, timestamps: list[int]) -> list[tuple[int, int]]:
    """One record per timestamp (CreateTime given), on partitions 0 and 1 in turn; their
    (partition, offset), as the broker acknowledged them."""
    from confluent_kafka import Producer

    positions: list[tuple[int, int]] = []
    producer = Producer(client_config(settings.kafka_bootstrap_servers))
    for index, at in enumerate(timestamps):
        producer.produce(
            topic,
            b"{}",
            partition=index % 2,
            timestamp=at,
            on_delivery=lambda error, message: positions.append(
                (message.partition(), message.offset())
            ),
        )
    producer.flush(30)
    return positions


def test_record_timestamps_are_read_back_at_their_positions(kafka_broker: Settings) -> None:
    topic = f"room-trace-{uuid.uuid4().hex[:8]}"
    create_topics(kafka_broker, [topic], partitions=2)
    timestamps = [BASE + 1000 * index for index in range(6)]
    positions = produce_timed(kafka_broker, topic, timestamps)
    assert len(positions) == 6
    by_position = {
        (index % 2, index // 2): at for index, at in enumerate(timestamps)
    }  # round robin over two fresh partitions
    assert sorted(positions) == sorted(by_position)

    wanted = [(0, 1), (1, 2), (1, 0)]
    assert record_timestamps(kafka_broker, topic, wanted) == {p: by_position[p] for p in wanted}
    # a position past the end is left out, not waited for forever
    assert record_timestamps(kafka_broker, topic, [(0, 99)], timeout_s=2) == {}


def test_landed_rows_and_the_trace_of_each_minute(warehouse: Settings) -> None:
    client = get_client(warehouse)
    table = f"default.room_trace_{uuid.uuid4().hex[:8]}"
    client.command(
        f"CREATE TABLE {table} (start_time_ms Int64, bid Int64, room_id String, "
        "kafka_partition UInt32, kafka_offset UInt64, "
        "landed_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY tuple()"
    )
    before = time.time() * 1000
    rows = [
        (MINUTE, 1, "r1", 0, 5),
        (MINUTE + 60_000, 1, "r1", 1, 7),
        (MINUTE, 2, "r1", 0, 9),  # another product's room of the same id
    ]
    client.insert(
        table,
        rows,
        column_names=["start_time_ms", "bid", "room_id", "kafka_partition", "kafka_offset"],
    )
    after = time.time() * 1000
    landed = landed_rows(client, table, 1, "r1")
    assert {minute: (row["partition"], row["offset"]) for minute, row in landed.items()} == {
        MINUTE: (0, 5),
        MINUTE + 60_000: (1, 7),
    }
    assert all(before - 5 <= row["landed"] <= after + 5 for row in landed.values())

    written = {(0, 5): MINUTE + 71_000, (1, 7): MINUTE + 131_000}
    probe = JobProbe("http://127.0.0.1:1", "job", "sink")
    probe.watermarks = [(MINUTE + 70_500, MINUTE + 59_000), (MINUTE + 70_900, MINUTE + 60_000)]
    probe.checkpoints = {
        1: checkpoint(1, "COMPLETED", MINUTE + 70_000, 800),  # before the write: not it
        2: checkpoint(2, "FAILED", MINUTE + 71_500, 0),
        3: checkpoint(3, "COMPLETED", MINUTE + 72_000, 2_500),
        # triggered before the second minute's write, acknowledged after it: it can commit it
        4: checkpoint(4, "COMPLETED", MINUTE + 130_500, 900),
    }
    closable = {MINUTE: MINUTE + 70_200, MINUTE + 60_000: MINUTE + 130_100}
    seen = {MINUTE: landed[MINUTE]["landed"] + 150}
    first, second = minute_traces(closable, seen, landed, written, probe)

    assert first.watermark == MINUTE + 70_900  # the first sample at or past the minute's end
    assert first.written == MINUTE + 71_000
    assert first.checkpoint is not None and first.checkpoint["id"] == 3
    assert first.failed_checkpoints == 1
    assert first.landed == landed[MINUTE]["landed"] and first.seen == first.landed + 150
    steps = first.stages()
    assert steps["watermark"] == 0.7  # from closable
    assert steps["written"] == 0.8  # from closable
    assert steps["committed"] == 3.5  # from written
    assert steps["seen"] == 0.15  # from landed
    assert "checkpoint 3" in first.line() and "1 failed" in first.line()

    # the second minute: no watermark sample past it, never seen; its write's checkpoint was
    # triggered before it
    assert second.watermark is None and second.seen is None
    assert second.checkpoint is not None and second.checkpoint["id"] == 4
    assert second.failed_checkpoints == 0
    assert second.stages()["watermark"] is None and second.stages()["written"] == 0.9
    assert "seen –" in second.line() and "watermark –" in second.line()

    # what the paced room counts: the completed checkpoints triggered since a time, by id
    assert [item["id"] for item in probe.completed_since(MINUTE + 70_000)] == [1, 3, 4]
    assert [item["id"] for item in probe.completed_since(MINUTE + 72_001)] == [4]
    assert probe.completed_since(MINUTE + 130_501) == []


def checkpoint(number: int, status: str, trigger: int, duration: int) -> dict[str, object]:
    return {
        "id": number,
        "status": status,
        "type": "CHECKPOINT",
        "trigger_timestamp": trigger,
        "latest_ack_timestamp": trigger + duration,
        "end_to_end_duration": duration,
        "persisted_data": 0,
        "failure_message": None,
    }
