"""Helpers of the Flink tests: a test's messages through a real broker and a real mini-cluster.

A test writes its input messages as topic files (the import format of ``classpulse produce``:
``<topics>/<topic>/<file>``, one message per line) and calls :func:`run_all`, which

1. empties every topic of the test broker (records deleted up to their end: offsets go on
   growing, so a reader from the start sees only this run's records);
2. produces every complete file of ``topics`` into its Kafka source topic, files in name
   order and lines in file order (``classpulse.kafka.produce``: one idempotent producer, the
   contract's message keys), so each partition holds its lines in the order written;
3. runs the selected jobs once with ``run_bounded`` in the shared session (the same SQL as the
   streaming pipeline, every source read up to its end offset at start, a new consumer group);
4. reads every topic the pipeline writes with one ``read_committed`` consumer, up to its end.

:func:`read_topic` returns the decoded rows of one output topic of such a run, and
``run.accounting`` the accounting identities over what Kafka holds: per source topic the
messages it holds (end minus start offset) = read = accepted + rejected = dead letters +
accepted, per mart counted + late = events in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kafka_helpers import truncate_topics

from classpulse.config import Settings, load_settings
from classpulse.flink.accounting import Accounting, account
from classpulse.flink.pipeline import pipeline_topics, run_bounded
from classpulse.flink.runner import RunResult
from classpulse.flink.session import FlinkSession
from classpulse.kafka.admin import describe_topics
from classpulse.kafka.client import client_config
from classpulse.kafka.produce import TopicProducer, file_lines, message_key
from classpulse.topics import list_complete_files


def settings_for(home: Path) -> Settings:
    """Settings of a test's own home (the user's environment is ignored)."""
    return load_settings({"CLASSPULSE_HOME": str(home)})


@dataclass
class FlinkRun:
    """One bounded run: what was produced, what every output topic holds, the accounting."""

    settings: Settings
    result: RunResult
    produced: dict[str, int]  # messages acknowledged per source topic
    held: dict[str, int]  # messages each source topic holds (end - start offsets)
    outputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    accounting: Accounting = field(default_factory=Accounting)

    def rows(self, topic: str) -> list[dict[str, Any]]:
        return read_topic(self, topic)

    @property
    def messages_read(self) -> int:
        return sum(self.held.values())


def produce_topics(settings: Settings, topics: Path, sources: list[str]) -> dict[str, int]:
    """Every complete file of ``topics/<source>/`` into its topic, in file then line order."""
    producer = TopicProducer(settings)
    for topic in sources:
        if not (topics / topic).is_dir():
            continue
        producer.delivered.setdefault(topic, 0)
        for path in list_complete_files(topics, topic):
            for line in file_lines(path):
                producer.send(topic, line, message_key(topic, line))
    producer.flush()
    return dict(producer.delivered)


def held_messages(settings: Settings, names: list[str]) -> dict[str, int]:
    """Messages each topic holds by its offsets (source topics are not transactional); topics
    that hold none are left out."""
    held = {
        info.name: sum(part.end - part.start for part in info.partitions)
        for info in describe_topics(settings, names)
    }
    return {name: count for name, count in held.items() if count}


def read_outputs(
    settings: Settings, names: list[str], timeout: float = 120.0
) -> dict[str, list[dict[str, Any]]]:
    """Every committed record of ``names`` from its start to its end, decoded (one consumer).

    A read_committed consumer stops at the last stable offset; reading ends when every
    partition reported its end at or past the end offset taken before reading (transaction
    markers occupy offsets but are never returned). Records keep their offset order per
    partition; partitions follow each other.
    """
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    infos = describe_topics(settings, names)
    ends = {(info.name, part.partition): part.end for info in infos for part in info.partitions}
    pending = {key for key, end in ends.items() if end > 0}
    records: dict[tuple[str, int], list[bytes]] = {key: [] for key in ends}
    if pending:
        consumer = Consumer(
            client_config(
                settings.kafka_bootstrap_servers,
                **{
                    "group.id": "classpulse-flink-tests-reader",
                    "enable.auto.commit": False,
                    "enable.partition.eof": True,
                    "isolation.level": "read_committed",
                },
            )
        )
        consumer.assign(
            [TopicPartition(topic, number, OFFSET_BEGINNING) for topic, number in sorted(pending)]
        )
        deadline = time.monotonic() + timeout
        try:
            while pending:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading the outputs: still waiting for {pending}")
                for message in consumer.consume(10_000, 0.5):
                    key = (message.topic(), message.partition())
                    error = message.error()
                    if error is not None and error.code() == KafkaError._PARTITION_EOF:
                        if message.offset() >= ends[key]:
                            pending.discard(key)
                    elif error is not None:
                        raise RuntimeError(str(error))
                    else:
                        records[key].append(message.value())
        finally:
            consumer.close()
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for (topic, _), values in sorted(records.items()):
        rows[topic].extend(json.loads(value) for value in values if value is not None)
    return rows


# the run_over_topics fixture (conftest.py): run(name, write, jobs=()) -> (run, what write returned)
RunOverTopics = Callable[..., tuple[FlinkRun, Any]]


def run_all(
    session: FlinkSession,
    kafka: Settings,
    home: Path,
    topics: Path,
    jobs: tuple[str, ...] = (),
    config: Mapping[str, str] | None = None,
    **variables: str,
) -> FlinkRun:
    """Produce the messages under ``topics`` into emptied topics, run ``jobs`` (default all)
    bounded, and read every output back (see the module doc)."""
    settings = replace(kafka, home=home)
    sources, middle, outputs = pipeline_topics(settings)
    truncate_topics(settings, [*sources, *middle, *outputs])
    produced = produce_topics(settings, topics, sources)
    result = run_bounded(
        settings,
        jobs=jobs,
        variables=variables,
        session=session,
        config=dict(config or {}),
    )
    run = FlinkRun(settings, result, produced, held_messages(settings, sources))
    run.outputs = read_outputs(settings, [*middle, *outputs])
    run.accounting = account(run.outputs, run.held)
    return run


def read_topic(run: FlinkRun, topic: str) -> list[dict[str, Any]]:
    """Decoded rows of an output topic of ``run`` (offset order within each partition)."""
    if topic not in run.outputs:
        raise KeyError(f"{topic} is not written by the pipeline (outputs: {sorted(run.outputs)})")
    return run.outputs[topic]


def latest_versions(rows: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple, dict]:
    """Resolve an upsert log as ReplacingMergeTree(version, is_deleted) does."""
    latest: dict[tuple, dict] = {}
    for row in rows:
        identity = tuple(row[column] for column in key)
        if identity not in latest or row["version"] > latest[identity]["version"]:
            latest[identity] = row
    return {identity: row for identity, row in latest.items() if not row["is_deleted"]}
