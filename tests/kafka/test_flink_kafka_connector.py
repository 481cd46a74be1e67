"""Smoke test of Flink's Kafka SQL connector (flink-sql-connector-kafka 5.0.0-2.2, built for
Flink 2.2) on PyFlink 2.3, with the jar that `make jvm-runtime` resolved into .cache/jvm.

One bounded job (``scan.bounded.mode = latest-offset``) reads raw JSON lines from a topic and
writes, exactly once (checkpoints, transactions), to three topics: the lines unchanged, an
upsert-kafka count per key, and an upsert-kafka latest value per key (which Flink 2.3 plans
only with ON CONFLICT). A ``read_committed`` reader sees exactly the rows; a Flink source
with ``properties.isolation.level = read_committed`` skips an aborted transaction (without it,
the Kafka client's default read_uncommitted returns aborted records too: checked by hand).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from kafka_helpers import read_records

from classpulse.config import Settings
from classpulse.jvm import flink_kafka_connector_jar
from classpulse.kafka.admin import create_topics
from classpulse.kafka.produce import TopicProducer

JOBS = Path(__file__).with_name("flink_kafka_jobs.py")
KEYS = 7
MESSAGES = 3000


def write_transactions(settings: Settings, topic: str) -> None:
    """Three transactions: committed, aborted, committed (values say which)."""
    from confluent_kafka import Producer

    from classpulse.kafka.client import client_config

    producer = Producer(
        client_config(
            settings.kafka_bootstrap_servers, **{"transactional.id": f"classpulse-test-{topic}"}
        )
    )
    producer.init_transactions(30)
    for batch, outcome in enumerate(("commit", "abort", "commit")):
        producer.begin_transaction()
        for number in range(20):
            producer.produce(topic, f"{outcome}-{batch}-{number}".encode(), str(number).encode())
        producer.flush()
        if outcome == "commit":
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)


@pytest.fixture(scope="module")
def flink_run(kafka_broker: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    run = uuid.uuid4().hex[:8]
    names = ("source", "transactional", "lines", "committed", "counts", "latest")
    topics = {name: f"smoke-{name}-{run}" for name in names}
    create_topics(kafka_broker, topics.values(), partitions=2)
    producer = TopicProducer(kafka_broker)
    lines = [json.dumps({"k": n % KEYS, "n": n}) for n in range(MESSAGES)]
    for n, line in enumerate(lines):
        producer.send(topics["source"], line.encode(), str(n % KEYS).encode())
    producer.flush()
    write_transactions(kafka_broker, topics["transactional"])
    spec = {
        **topics,
        "bootstrap": kafka_broker.kafka_bootstrap_servers,
        "checkpoints": str(tmp_path_factory.mktemp("checkpoints")),
        "jar": flink_kafka_connector_jar().as_uri(),
        "prefix": f"classpulse-smoke-{run}",
    }
    process = subprocess.run(
        [sys.executable, str(JOBS), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr[-6000:]
    result = json.loads(process.stdout.strip().splitlines()[-1])
    return {"topics": topics, "lines": lines, "result": result}


def test_exactly_once_sink_delivers_each_line_once_to_read_committed_readers(
    kafka_broker: Settings, flink_run: dict
) -> None:
    assert flink_run["result"]["finished"]
    records = read_records(kafka_broker, flink_run["topics"]["lines"])
    assert Counter(record.value.decode() for record in records) == Counter(flink_run["lines"])


def test_a_read_committed_source_skips_aborted_transactions(
    kafka_broker: Settings, flink_run: dict
) -> None:
    records = read_records(kafka_broker, flink_run["topics"]["committed"])
    values = sorted(record.value.decode() for record in records)
    expected = sorted(f"commit-{batch}-{n}" for batch in (0, 2) for n in range(20))
    assert values == expected


def test_upsert_kafka_sink_holds_the_count_per_key(kafka_broker: Settings, flink_run: dict) -> None:
    latest: dict[int, int] = {}
    for record in read_records(kafka_broker, flink_run["topics"]["counts"]):
        key = json.loads(record.key)["k"]
        if record.value is None:  # a tombstone retracts the key
            latest.pop(key, None)
        else:
            latest[key] = json.loads(record.value)["v"]
    expected = Counter(n % KEYS for n in range(MESSAGES))
    assert latest == dict(expected)


def test_upsert_sink_needs_on_conflict_when_the_keys_differ(
    kafka_broker: Settings, flink_run: dict
) -> None:
    assert "ON CONFLICT" in flink_run["result"]["without_on_conflict"]
    latest: dict[int, int] = {}
    for record in read_records(kafka_broker, flink_run["topics"]["latest"]):
        latest[json.loads(record.key)["k"]] = json.loads(record.value)["v"]
    # one key's messages share a source partition, read in order: the last one wins
    expected = {k: max(n for n in range(MESSAGES) if n % KEYS == k) for k in range(KEYS)}
    assert latest == expected
