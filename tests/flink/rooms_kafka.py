"""Kafka helpers of the room tests: produce lines to the source topics, run the room jobs
bounded on the mini-cluster, read what they wrote (read_committed).

Imported by name (``from rooms_kafka import ...``). Lines are keyed by room (the key that keeps
a room's heartbeats in order in one partition), so event-time order within a room is the
order the lines are given in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from kafka_helpers import broker_settings, read_records

from classpulse.config import Settings
from classpulse.flink import pipeline
from classpulse.flink.session import FlinkSession, SessionOptions
from classpulse.kafka import broker
from classpulse.kafka.produce import TopicProducer

ROOM_JOBS = (
    "clean_room_heartbeat",
    "clean_room_push_ack",
    "mart_room_presence_sessions",
    "mart_room_message_loss_daily",
)


def kafka_flink_session() -> FlinkSession:
    """A session whose mini-cluster has the Kafka connector jar (the shared ``flink_session``
    fixture is being moved to Kafka by the test port; until then the room tests bring theirs)."""
    return FlinkSession(SessionOptions(parallelism=2, jars=pipeline.kafka_jars()))


@contextmanager
def one_partition_broker(path: Path) -> Iterator[Settings]:
    """A broker of the test's own whose topics have one partition: every job then reads in the
    order the lines were produced, so which heartbeat is late is decided by that order alone."""
    settings = replace(broker_settings(path), kafka_partitions=1)
    broker.start(settings)
    try:
        yield settings
    finally:
        broker.stop(settings)


def room_key(line: str) -> bytes | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    room = value.get("room_id") if isinstance(value, dict) else None
    return None if room is None else str(room).encode()


def produce_lines(settings: Settings, lines_by_topic: dict[str, Iterable[str]]) -> None:
    """Create every pipeline topic, then send each line (value = the line, key = its room)."""
    pipeline.create_topics(settings)
    producer = TopicProducer(settings)
    for topic, lines in lines_by_topic.items():
        for line in lines:
            producer.send(topic, line.encode(), room_key(line))
    producer.flush()


def run_room_jobs(
    settings: Settings, session: FlinkSession, jobs: Sequence[str] = ROOM_JOBS
) -> Any:
    return pipeline.run_bounded(settings, jobs=list(jobs), session=session)


def read_json(settings: Settings, topic: str) -> list[dict[str, Any]]:
    """Every committed record of ``topic`` as a dict (values are JSON objects)."""
    return [json.loads(record.value) for record in read_records(settings, topic)]
