"""Helpers of the Kafka tests: brokers of their own, and what a topic holds (a real consumer).

Imported by name (``from kafka_helpers import ...``): ``import conftest`` reaches whichever
conftest pytest loaded last.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, replace
from pathlib import Path

from classpulse.config import Settings, load_settings
from classpulse.kafka.admin import describe_topics, empty_topics
from classpulse.kafka.client import client_config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def broker_settings(path: Path, partitions: int = 2) -> Settings:
    """Settings of a broker of the tests' own (never the user's var/kafka or port 9092)."""
    return replace(
        load_settings({}),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        kafka_path=path,
        kafka_heap="384m",
        kafka_partitions=partitions,
    )


def kafka_environment(settings: Settings) -> dict[str, str]:
    """The CLASSPULSE_KAFKA_* variables that make a subprocess (the CLI) use ``settings``."""
    return {
        "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "CLASSPULSE_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "CLASSPULSE_KAFKA_PATH": str(settings.kafka_path),
        "CLASSPULSE_KAFKA_HEAP": settings.kafka_heap,
        "CLASSPULSE_KAFKA_PARTITIONS": str(settings.kafka_partitions),
    }


def cli_environment(settings: Settings) -> dict[str, str]:
    return {**os.environ, **kafka_environment(settings)}


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    return describe_topics(settings, [topic])[0].end_offsets


def read_records(
    settings: Settings,
    topic: str,
    since: dict[int, int] | None = None,
    *,
    isolation: str = "read_committed",
    timeout: float = 60.0,
) -> list[Record]:
    """Every record of ``topic`` from ``since`` (default: the start) to its current end.

    With ``read_committed`` a consumer stops at the last stable offset: records of open or
    aborted transactions are never returned. Reading ends when every partition has reported
    its end (partition EOF) at or past the end offset taken before reading (transaction
    markers occupy offsets but are never returned).
    """
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    ends = end_offsets(settings, topic)
    starts = {partition: (since or {}).get(partition, OFFSET_BEGINNING) for partition in ends}
    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{
                "group.id": "classpulse-tests-reader",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": isolation,
            },
        )
    )
    consumer.assign([TopicPartition(topic, p, offset) for p, offset in starts.items()])
    records: list[Record] = []
    reached: dict[int, int] = {}
    deadline = time.monotonic() + timeout
    try:
        while any(reached.get(p, -1) < end for p, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic}: reached {reached}, end {ends}")
            for message in consumer.consume(10_000, 0.5):
                error = message.error()
                if error is not None and error.code() == KafkaError._PARTITION_EOF:
                    reached[message.partition()] = message.offset()
                elif error is not None:
                    raise RuntimeError(str(error))
                else:
                    records.append(
                        Record(
                            message.partition(), message.offset(), message.key(), message.value()
                        )
                    )
    finally:
        consumer.close()
    return records


def truncate_topics(settings: Settings, names: list[str] | None = None) -> None:
    """Empty the topics (all user topics by default) as the demo's fresh start does: a test
    that shares the session's broker starts from empty topics, offsets going on."""
    empty_topics(settings, names)


def on_broker(settings: Settings, kafka: Settings) -> Settings:
    """``settings`` (a warehouse, a home, a topics directory) using the broker of ``kafka``."""
    return replace(
        settings,
        kafka_bootstrap_servers=kafka.kafka_bootstrap_servers,
        kafka_controller_port=kafka.kafka_controller_port,
        kafka_path=kafka.kafka_path,
        kafka_heap=kafka.kafka_heap,
        kafka_partitions=kafka.kafka_partitions,
    )


def run_settings(warehouse: Settings, kafka: Settings, base: Path, **overrides: object) -> Settings:
    """A run of the test's own: ``warehouse``'s server, ``kafka``'s broker, the topics directory
    and the home under ``base`` (unless ``overrides`` name them or other settings)."""
    places = {"topics_dir": base / "topics", "home": base / "home"}
    return replace(on_broker(warehouse, kafka), **{**places, **overrides})
