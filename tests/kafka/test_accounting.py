"""Accounting by offsets (issue 10, item 5) against a real broker and a real warehouse.

The pipeline's side is written here the way the streaming pipeline writes it (its consumer
group's committed offsets on the source topic, its outputs in Kafka transactions: cleaned rows,
dead letters, late events, the topic and mart counters); everything else is the real thing:
the landing consumer lands the outputs with their provenance, the accounting reads Kafka's
offsets and the warehouse's rows, ``classpulse status`` prints it and the quality gate judges.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from kafka_helpers import cli_environment, on_broker

from classpulse.config import Settings
from classpulse.kafka import broker
from classpulse.kafka.accounting import account, group_positions, pipeline_group
from classpulse.kafka.admin import create_topics
from classpulse.kafka.landing import land_from_kafka
from classpulse.kafka.produce import TopicProducer
from classpulse.quality import run_quality
from classpulse.warehouse import get_client

SOURCE = "qos_log"
MART = "recorded_course_enter_time"
MESSAGES = 600
REJECT_EVERY = 50  # offsets 0, 50, 100, ... of each partition are rejected
LATE_EVERY = 97  # of the accepted ones, every 97th is late for the mart


@pytest.fixture
def stack(own_broker, own_warehouse: Settings, tmp_path: Path) -> Settings:
    kafka = own_broker()
    broker.start(kafka)
    return replace(on_broker(own_warehouse, kafka), home=tmp_path / "home")


def commit_pipeline_offsets(settings: Settings, offsets: dict[int, int]) -> None:
    """What Flink's Kafka source does at a completed checkpoint: commit the group's offsets."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.client import client_config

    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{"group.id": pipeline_group(settings), "enable.auto.commit": False},
        )
    )
    consumer.commit(
        offsets=[TopicPartition(SOURCE, number, end) for number, end in offsets.items()],
        asynchronous=False,
    )
    consumer.close()


def write_pipeline_outputs(settings: Settings, source_offsets: dict[int, int]) -> None:
    """The cleaning and mart jobs' outputs for the source messages, in one transaction."""
    from confluent_kafka import Producer

    from classpulse.kafka.client import client_config

    producer = Producer(
        client_config(settings.kafka_bootstrap_servers, **{"transactional.id": "accounting-test"})
    )
    producer.init_transactions(30)
    producer.begin_transaction()
    now = "2026-12-01 02:00:00.000Z"

    def send(topic: str, row: dict) -> None:
        producer.produce(topic, json.dumps(row).encode())

    accepted = late = 0
    for number, end in source_offsets.items():
        split = f"{SOURCE}/{number}"
        rejected_here = 0
        for offset in range(end):
            if offset % REJECT_EVERY == 0:
                rejected_here += 1
                send("rejected_messages", {
                    "topic": SOURCE, "payload": "{", "reason": "malformed_json",
                    "source_split": split, "source_offset": offset,
                    "ingested_at": now, "processed_at": now,
                })  # fmt: skip
                continue
            accepted += 1
            time_ms = 1764554400000 + offset
            send("qos_log_clean", {
                "source_split": split, "classroom_id": "c1", "user_type": "student",
                "user_id": offset, "event_time": time_ms, "sub_event": "PPT_SUCCESS",
                "data_time": time_ms, "ppt_index": 1, "ingested_at": now, "processed_at": now,
            })  # fmt: skip
            if accepted % LATE_EVERY == 0:
                late += 1
                send("late_events", {
                    "mart": MART, "event_time": "2026-12-01 10:00:00", "event_time_ms": time_ms,
                    "source_split": split, "processed_at": now,
                })  # fmt: skip
        send("topic_accounting", {
            "topic": SOURCE, "source_split": split, "messages_read": end,
            "accepted": end - rejected_here, "rejected": rejected_here, "processed_at": now,
        })  # fmt: skip
    send("mart_accounting", {
        "mart": MART, "events_in": accepted, "events_counted": accepted - late,
        "events_late": late, "processed_at": now,
    })  # fmt: skip
    producer.flush(30)
    producer.commit_transaction(30)


def status(settings: Settings) -> subprocess.CompletedProcess:
    environment = {
        **cli_environment(settings),
        "CLASSPULSE_WAREHOUSE_PATH": str(settings.warehouse_path),
        "CLASSPULSE_CLICKHOUSE_HOST": "127.0.0.1",
        "CLASSPULSE_CLICKHOUSE_PORT": str(settings.clickhouse_port),
        "COLUMNS": "250",
    }
    return subprocess.run(
        [sys.executable, "-m", "classpulse.cli", "status"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_identities_from_offsets_and_landed_rows(stack: Settings) -> None:
    client = get_client(stack)
    create_topics(stack, [SOURCE], partitions=2)
    producer = TopicProducer(stack)
    for number in range(MESSAGES):
        producer.send(SOURCE, json.dumps({"n": number}).encode(), f"room-{number % 7}".encode())
    producer.flush()
    ends = {item.partition: item.end for item in group_positions(stack, "nobody", [SOURCE])}
    assert sum(ends.values()) == MESSAGES

    # before the pipeline ran: nothing read, nothing landed; the source is all lag
    land_from_kafka(stack, client=client, timeout_s=120)
    before = account(stack, client)
    qos = next(item for item in before.topics if item.topic == SOURCE)
    assert (qos.held, qos.read, qos.lag) == (MESSAGES, 0, MESSAGES)
    assert not before.caught_up

    # the pipeline read everything and wrote its outputs; the landing lands them
    write_pipeline_outputs(stack, ends)
    commit_pipeline_offsets(stack, ends)
    land_from_kafka(stack, client=client, timeout_s=120)
    result = account(stack, client)
    assert result.caught_up and result.holds, [
        (item.topic, item.problems) for item in result.topics if item.problems
    ] + [(item.mart, item.problems) for item in result.marts if item.problems]
    qos = next(item for item in result.topics if item.topic == SOURCE)
    rejected = sum(len(range(0, end, REJECT_EVERY)) for end in ends.values())
    assert (qos.read, qos.accepted, qos.rejected) == (MESSAGES, MESSAGES - rejected, rejected)
    assert (qos.clean_rows, qos.dead_letters) == (MESSAGES - rejected, rejected)
    mart = next(item for item in result.marts if item.mart == MART)
    assert mart.counted + mart.late == mart.accepted == MESSAGES - rejected
    assert mart.late == mart.late_rows > 0

    shown = status(stack)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    for text in (SOURCE, MART, "hold", "broker", "warehouse", "pipeline job"):
        assert text in shown.stdout
    report = run_quality(stack, [stack.root / "expectations/ods/offset_accounting.yml"], False)
    assert report.success, report.results

    # messages the pipeline has not read: catching up, not a failure
    for number in range(3):
        producer.send(SOURCE, json.dumps({"n": number}).encode(), b"late-room")
    producer.flush()
    assert not account(stack, client).caught_up
    assert status(stack).returncode == 0

    # the group says it read them, but no counter or row says what became of them: lost
    ends = {item.partition: item.end for item in group_positions(stack, "nobody", [SOURCE])}
    commit_pipeline_offsets(stack, ends)
    broken = account(stack, client)
    assert broken.caught_up and not broken.holds
    qos = next(item for item in broken.topics if item.topic == SOURCE)
    assert any("offsets read" in problem for problem in qos.problems)
    shown = status(stack)
    assert shown.returncode == 1, shown.stdout + shown.stderr
    report = run_quality(stack, [stack.root / "expectations/ods/offset_accounting.yml"], False)
    assert not report.success


def test_a_row_landed_twice_breaks_the_identity(stack: Settings) -> None:
    client = get_client(stack)
    create_topics(stack, [SOURCE], partitions=2)
    producer = TopicProducer(stack)
    for number in range(100):
        producer.send(SOURCE, json.dumps({"n": number}).encode(), f"room-{number % 3}".encode())
    producer.flush()
    ends = {item.partition: item.end for item in group_positions(stack, "nobody", [SOURCE])}
    write_pipeline_outputs(stack, ends)
    commit_pipeline_offsets(stack, ends)
    land_from_kafka(stack, client=client, timeout_s=120)
    assert account(stack, client).holds
    # a second copy of one landed row, same provenance (what a landing without dedup would do)
    client.command(  # not dropped as a repeat of an earlier one-row insert block
        "INSERT INTO ods.qos_log_clean SELECT * FROM ods.qos_log_clean ORDER BY kafka_offset LIMIT 1",
        settings={"insert_deduplicate": 0},
    )
    result = account(stack, client)
    qos = next(item for item in result.topics if item.topic == SOURCE)
    assert qos.clean_duplicates == 1
    assert not qos.holds
