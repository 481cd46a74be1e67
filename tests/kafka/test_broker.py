"""The local Kafka broker: start, status, stop, restart with its data, the CLI, topics."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import replace

import pytest
from kafka_helpers import broker_settings, cli_environment, end_offsets, free_port, read_records

from classpulse.config import Settings, load_settings
from classpulse.kafka import admin, broker
from classpulse.kafka.accounting import group_positions
from classpulse.kafka.produce import TopicProducer
from classpulse.topics import TOPICS


def classpulse(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "classpulse.cli", *args],
        capture_output=True,
        text=True,
        env=cli_environment(settings),
        timeout=300,
    )


def test_broker_configuration_is_loopback_single_node_with_replication_one(tmp_path) -> None:
    settings = replace(
        load_settings({}),
        kafka_bootstrap_servers="127.0.0.1:19092",
        kafka_controller_port=19093,
        kafka_path=tmp_path,
        kafka_partitions=3,
    )
    properties = dict(
        line.split("=", 1)
        for line in broker.server_properties(settings).splitlines()
        if line and not line.startswith("#")
    )
    assert properties["process.roles"] == "broker,controller"
    assert properties["listeners"] == ("PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093")
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:19093"
    for name in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "default.replication.factor",
    ):
        assert properties[name] == "1", name
    assert properties["num.partitions"] == "3"
    assert properties["log.dirs"] == str((tmp_path / "data").resolve())
    # Flink's exactly-once sink asks for 1 h transactions by default
    assert int(properties["transaction.max.timeout.ms"]) >= 3_600_000
    assert int(properties["transactional.id.expiration.ms"]) <= 24 * 3_600_000


def test_bootstrap_servers_decide_whether_the_broker_is_local() -> None:
    assert load_settings({}).kafka_is_local
    assert load_settings({}).kafka_port == 9092
    for servers in ("kafka:9092", "10.0.0.5:9092", "127.0.0.1:9092,127.0.0.1:9093"):
        settings = load_settings({"CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS": servers})
        assert not settings.kafka_is_local, servers
        with pytest.raises(broker.BrokerError, match="points at a Kafka cluster"):
            broker.start(settings)


def test_status_and_cli_of_the_running_broker(kafka_broker: Settings) -> None:
    state = broker.status(kafka_broker)
    assert state.running and state.answering and state.pid
    assert state.cluster_id
    result = classpulse(kafka_broker, "kafka", "status")
    assert result.returncode == 0, result.stderr
    assert "answering" in result.stderr
    assert str(state.pid) in result.stderr


def test_a_second_broker_on_the_same_path_is_refused(kafka_broker: Settings) -> None:
    with pytest.raises(broker.BrokerError, match="already running"):
        broker.start(kafka_broker)
    result = classpulse(kafka_broker, "kafka", "start")
    assert result.returncode == 1
    assert "already running" in result.stderr


def test_topics_create_uses_the_configured_partitions(kafka_broker: Settings) -> None:
    result = classpulse(kafka_broker, "kafka", "topics", "--create")
    assert result.returncode == 0, result.stderr
    infos = {info.name: info for info in admin.describe_topics(kafka_broker)}
    for topic in TOPICS:
        assert len(infos[topic].partitions) == kafka_broker.kafka_partitions, topic
        assert topic in result.stdout
    # a second --create changes nothing
    again = classpulse(kafka_broker, "kafka", "topics", "--create")
    assert again.returncode == 0, again.stderr
    assert "exists already" in again.stderr


def test_topics_lists_end_offsets(kafka_broker: Settings) -> None:
    topic = f"listed-{uuid.uuid4().hex[:8]}"
    admin.create_topics(kafka_broker, [topic], partitions=1)
    producer = TopicProducer(kafka_broker)
    for number in range(7):
        producer.send(topic, str(number).encode())
    producer.flush()
    assert end_offsets(kafka_broker, topic) == {0: 7}
    result = classpulse(kafka_broker, "kafka", "topics")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if topic in line)
    assert "0:7" in row


def test_restarts_keep_topics_and_messages_after_a_stop_or_a_kill(own_broker) -> None:
    settings = own_broker()
    broker.start(settings)
    admin.create_topics(settings, ["kept"], partitions=2)
    producer = TopicProducer(settings)
    values = [f"message {number}".encode() for number in range(100)]
    for value in values:
        producer.send("kept", value, value[-1:])
    producer.flush()
    before = end_offsets(settings, "kept")

    assert broker.stop(settings) is not None
    assert not broker.status(settings).running
    assert broker.stop(settings) is None  # stopping twice is harmless

    # a restart on other ports reads the same storage (the quorum is static)
    moved = replace(
        settings,
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
    )
    broker.start(moved)
    # at once: the group coordinator may still be loading; positions wait for it
    positions = group_positions(moved, "after-restart", ["kept"])
    assert {item.partition: item.end for item in positions} == before
    assert all(item.committed is None for item in positions)
    assert end_offsets(moved, "kept") == before
    assert sorted(record.value for record in read_records(moved, "kept")) == sorted(values)

    # kill -9: what the broker acknowledged (acks=all) is there after the restart, in order
    admin.create_topics(moved, ["survives"], partitions=1)
    producer = TopicProducer(moved)
    for number in range(50):
        producer.send("survives", str(number).encode())
    producer.flush()
    assert broker.kill(moved) is not None
    broker.start(moved)
    survived = [record.value for record in read_records(moved, "survives")]
    assert survived == [str(number).encode() for number in range(50)]

    result = classpulse(moved, "kafka", "stop")
    assert result.returncode == 0, result.stderr
    assert "stopped" in result.stderr
    status = classpulse(moved, "kafka", "status")
    assert status.returncode == 1
    assert "classpulse kafka start" in status.stderr


def test_doctor_shows_the_jvm_runtime_and_the_broker(kafka_broker: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "classpulse.cli", "doctor"],
        capture_output=True,
        text=True,
        env={**cli_environment(kafka_broker), "COLUMNS": "200"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Kafka 4.4.0; flink-sql-connector-kafka-5.0.0-2.2" in result.stdout
    assert f"{kafka_broker.kafka_bootstrap_servers} answers (cluster" in result.stdout


def test_start_without_the_jvm_runtime_says_how_to_get_it(tmp_path) -> None:
    settings = broker_settings(tmp_path / "broker")
    result = subprocess.run(
        [sys.executable, "-m", "classpulse.cli", "kafka", "start"],
        capture_output=True,
        text=True,
        env={**cli_environment(settings), "CLASSPULSE_JVM_DIR": str(tmp_path / "empty")},
        timeout=120,
    )
    assert result.returncode == 1
    assert "make jvm-runtime" in result.stderr
    assert not broker.status(settings).running


def test_cluster_ids_never_read_as_an_option() -> None:
    """A base64 id starting with '-' made the storage tool fail one start in 64."""
    import base64

    ids = [broker.new_cluster_id() for _ in range(2000)]
    assert not [value for value in ids if value.startswith("-")]
    assert all(len(base64.urlsafe_b64decode(value + "==")) == 16 for value in ids)


def test_coordinator_and_leader_moments_are_waited_out_other_errors_are_not() -> None:
    from confluent_kafka import KafkaError, KafkaException

    from classpulse.kafka.client import retrying, transient

    passing = [
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
    ]
    for code in passing:
        assert transient(KafkaException(KafkaError(code))), code
    for code in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.INVALID_CONFIG):
        assert not transient(KafkaException(KafkaError(code))), code
    assert not transient(ValueError("not a Kafka error"))

    answers = iter([KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS, None])

    def call() -> str:
        code = next(answers)
        if code is not None:
            raise KafkaException(KafkaError(code))
        return "answered"

    assert retrying(call, timeout=5, pause=0) == "answered"

    def refused() -> str:
        raise KafkaException(KafkaError(KafkaError.INVALID_CONFIG))

    with pytest.raises(KafkaException):  # at once, not after the timeout
        retrying(refused, timeout=3600)
