"""Helpers of the live-classroom tests that run on Kafka: records in, mart rows out.

Inputs go to the source topics through the producer of ``classpulse produce`` (one file per topic
written first, in arrival order); jobs run with ``run_bounded``; outputs are read committed.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from classroom_help_cases import write_topics
from kafka_helpers import read_records

from classpulse.classroom_help.records import LABEL_JOBS, Message, render
from classpulse.config import Settings

JOBS = LABEL_JOBS


def produce_messages(settings: Settings, root: Path, messages: Iterable[Message]) -> dict[str, int]:
    """Publish every message to its topic in arrival order, keyed by room (a room stays in one
    partition); every topic of the pipeline exists first, fed or not. The lines are also written
    under ``root``, one file per topic, as ``classpulse produce`` would read them."""
    from classpulse.flink.pipeline import create_topics
    from classpulse.kafka.produce import TopicProducer

    create_topics(settings)
    messages = list(messages)
    write_topics(root, messages)
    producer = TopicProducer(settings)
    for message in sorted(messages, key=lambda m: (m.server_time, m.client_time)):
        producer.send(message.topic, render(message).encode(), str(message.room_id).encode())
    producer.flush()
    return dict(producer.delivered)


def read_json(settings: Settings, topic: str) -> list[dict[str, Any]]:
    return [json.loads(record.value) for record in read_records(settings, topic)]


def latest_versions(rows: Sequence[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    """An upsert log resolved as ReplacingMergeTree(version, is_deleted) does."""
    latest: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row[key] not in latest or row["version"] > latest[row[key]]["version"]:
            latest[row[key]] = row
    return {k: row for k, row in latest.items() if not row["is_deleted"]}


def latest_accounting(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """mart_accounting resolved: per mart the row with the most events_in."""
    current: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["mart"] not in current or row["events_in"] > current[row["mart"]]["events_in"]:
            current[row["mart"]] = row
    return current


@contextmanager
def unanswering_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung warehouse)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()
