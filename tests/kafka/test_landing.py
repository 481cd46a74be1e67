"""Landing Kafka → ClickHouse (prototype): every message exactly once, through crashes and a
second consumer, against the real broker and the real embedded warehouse."""

from __future__ import annotations

import gc
import json
import threading
import uuid
from pathlib import Path

import pytest

from classpulse.config import Settings
from classpulse.kafka.admin import create_topics
from classpulse.kafka.client import client_config
from classpulse.kafka.landing import LandingConsumer, PartitionBuffer, parse_intent
from classpulse.kafka.landing_messages import collector_paused, with_provenance
from classpulse.kafka.produce import TopicProducer
from classpulse.loader import LandingTable
from classpulse.warehouse import get_client

MESSAGES = 5000


class Crash(Exception):
    """Stands for the process dying at a chosen step of a batch."""


def new_landing(
    kafka: Settings, warehouse: Settings, name: str, columns: str, partitions: int, tail: str = ""
) -> LandingTable:
    """A new topic ``landing-<name>-<run>`` and its table ``landing_test.<name>_<run>`` (MergeTree,
    ``columns`` and what follows ``tail``), both created."""
    run = uuid.uuid4().hex[:8]
    client = get_client(warehouse)
    client.command("CREATE DATABASE IF NOT EXISTS landing_test")
    table = f"landing_test.{name}_{run}"
    landing = LandingTable(
        Path("test"), f"landing-{name}-{run}", table, f"CREATE TABLE {table} ({columns}) {tail}"
    )
    client.command(landing.ddl)
    create_topics(kafka, [landing.topic], partitions=partitions)
    return landing


@pytest.fixture
def landing(kafka_broker: Settings, warehouse: Settings):
    """A fresh topic with MESSAGES rows on two partitions, and a fresh table for them."""
    table = new_landing(
        kafka_broker,
        warehouse,
        "events",
        "id UInt64, room String, v Int64",
        2,
        "ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000",
    )
    topic = table.topic
    producer = TopicProducer(kafka_broker)
    for number in range(MESSAGES):
        room = f"room-{number % 11}"
        value = json.dumps({"id": number, "room": room, "v": number * 3, "extra": "ignored"})
        producer.send(topic, value.encode(), room.encode())
    producer.flush()
    return kafka_broker, warehouse, table


def landed(warehouse: Settings, table: LandingTable) -> tuple[int, int, int, int]:
    """(rows, distinct ids, min id, max id)."""
    return tuple(
        get_client(warehouse)
        .query(f"SELECT count(), uniqExact(id), min(id), max(id) FROM {table.table}")
        .result_rows[0]
    )


def consumer(
    kafka: Settings, warehouse: Settings, table: LandingTable, cls=LandingConsumer, **timing
):
    return cls(
        kafka,
        [table],
        get_client(warehouse),
        group=f"landing-{table.topic}",
        **{"batch_messages": 700, "batch_seconds": 0.2, **timing},
    )


def open_intents(kafka: Settings, table: LandingTable) -> int:
    """Partitions of the table's topic whose committed offset is an intent (a batch to redo):
    one per batch that was in flight when the lander died (each of a different partition)."""
    from confluent_kafka import Consumer, TopicPartition

    reader = Consumer(
        client_config(kafka.kafka_bootstrap_servers, **{"group.id": f"landing-{table.topic}"})
    )
    try:
        committed = reader.committed(
            [TopicPartition(table.topic, partition) for partition in range(2)], timeout=30
        )
    finally:
        reader.close()
    return sum(parse_intent(partition.metadata) is not None for partition in committed)


def test_provenance_is_spliced_into_every_json_object() -> None:
    """Flink's objects (``{"``) take the fast path; spaced and empty objects the careful one;
    anything that is not an object passes unchanged (the insert rejects it)."""
    values = [b'{"a":1}', b' { "b" : "x\\n" }', b"{}", b"[1]", b"not json"]
    lines = with_provenance('top"ic', 3, [10, 11, 12, 13, 14], values).split(b"\n")
    provenance = {"kafka_topic": 'top"ic', "kafka_partition": 3}
    assert json.loads(lines[0]) == {**provenance, "kafka_offset": 10, "a": 1}
    assert json.loads(lines[1]) == {**provenance, "kafka_offset": 11, "b": "x\n"}
    assert json.loads(lines[2]) == {**provenance, "kafka_offset": 12}
    assert lines[3:] == [b"[1]", b"not json"]


def test_landing_inserts_every_message_once_and_commits_the_offsets(landing) -> None:
    kafka, warehouse, table = landing
    first = consumer(kafka, warehouse, table)
    report = first.run(until_caught_up=True, timeout_s=120)
    first.close()
    assert report.rows == {table.table: MESSAGES}
    assert landed(warehouse, table) == (MESSAGES, MESSAGES, 0, MESSAGES - 1)
    # a second run of the group finds nothing new: offsets were committed
    again = consumer(kafka, warehouse, table)
    assert again.run(until_caught_up=True, timeout_s=120).rows == {}
    again.close()
    assert landed(warehouse, table)[0] == MESSAGES


class CollectorWatch(LandingConsumer):
    """Records whether the cyclic garbage collector was on while consumed messages were filed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.collecting_while_filing: list[bool] = []

    def _consume(self, messages: list) -> None:
        if messages:
            self.collecting_while_filing.append(gc.isenabled())
        super()._consume(messages)


def test_the_collector_is_off_while_consumed_messages_are_filed(landing) -> None:
    """Each consumed message is a GC-tracked object: the collector stays off while a consume's
    messages are alive (collections walking the whole process doubled the consumer's CPU in the
    benchmark's process), and is on again after the landing."""
    kafka, warehouse, table = landing
    assert gc.isenabled()
    lander = consumer(kafka, warehouse, table, cls=CollectorWatch)
    try:
        report = lander.run(until_caught_up=True, timeout_s=120)
    finally:
        lander.close()
    assert report.rows == {table.table: MESSAGES}
    assert lander.collecting_while_filing and not any(lander.collecting_while_filing)
    assert gc.isenabled()


def test_a_paused_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_partition_read_to_its_end_waits_only_the_caught_up_time(landing) -> None:
    """Following, a batch waits ``batch_seconds`` while more of its partition is to be read, but
    only ``caught_up_seconds`` once the partition is read to its end (Flink's commits come in
    bursts: nothing more is coming until the next checkpoint); catching up, not at all."""
    kafka, warehouse, table = landing
    lander = consumer(kafka, warehouse, table, batch_seconds=3600, caught_up_seconds=0.5)
    try:
        key = (table.topic, 0)
        now = 1000.0
        young, old = (
            PartitionBuffer(table, started=now - 0.1),
            PartitionBuffer(table, started=now - 1),
        )
        assert not lander._due(key, old, now, until_caught_up=False)  # more to read: wait
        lander.at_end[key] = 42
        assert lander._due(key, old, now, until_caught_up=False)
        assert not lander._due(key, young, now, until_caught_up=False)
        assert lander._due(key, young, now, until_caught_up=True)
    finally:
        lander.close()


@pytest.mark.parametrize("step", ["after_intent", "after_insert"])
def test_a_crash_mid_batch_leaves_no_duplicate_and_no_gap(landing, step: str) -> None:
    kafka, warehouse, table = landing

    class Crashing(LandingConsumer):
        batches = 0

        def _insert(self, table, values, token):
            Crashing.batches += 1
            if step == "after_intent" and Crashing.batches == 3:
                raise Crash  # intent committed, rows never inserted
            return super()._insert(table, values, token)

        def _after_insert(self, key):
            # ">=": inserts run on background threads, so by the time a batch is finished the
            # count may have passed 3 already (the third and fourth both started)
            if step == "after_insert" and Crashing.batches >= 3:
                raise Crash  # rows inserted, offsets never advanced

    crashing = consumer(kafka, warehouse, table, Crashing)
    with pytest.raises(Crash):
        crashing.run(until_caught_up=True, timeout_s=120)
    crashing.close()  # leaves the group without committing anything more
    partial = landed(warehouse, table)[0]
    assert 0 < partial < MESSAGES
    # the interrupted batch, and any other partition's batch then in flight, left an intent
    intents = open_intents(kafka, table)
    assert 1 <= intents <= 2

    restarted = consumer(kafka, warehouse, table)
    report = restarted.run(until_caught_up=True, timeout_s=120)
    restarted.close()
    assert report.redone == intents  # each landed again, as the same range
    assert landed(warehouse, table) == (MESSAGES, MESSAGES, 0, MESSAGES - 1)


def land_in_parallel(landing, members: int, timeout_s: float) -> None:
    """``members`` consumers of one group land the topic at once, each until caught up."""
    kafka, warehouse, table = landing
    errors: list[BaseException] = []

    def land() -> None:
        try:
            one = consumer(kafka, warehouse, table)
            one.run(until_caught_up=True, timeout_s=timeout_s)
            one.close()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=land) for _ in range(members)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_two_consumers_in_the_group_never_double_count(landing) -> None:
    land_in_parallel(landing, members=2, timeout_s=120)
    _, warehouse, table = landing
    assert landed(warehouse, table) == (MESSAGES, MESSAGES, 0, MESSAGES - 1)


def test_a_consumer_with_no_partition_sees_the_group_catch_up(landing) -> None:
    """Three members for two partitions: one gets none, and still returns once the others
    have landed everything (the group's commits are at every partition's end)."""
    land_in_parallel(landing, members=3, timeout_s=180)
    _, warehouse, table = landing
    assert landed(warehouse, table) == (MESSAGES, MESSAGES, 0, MESSAGES - 1)


def test_transactional_topics_are_caught_up_past_their_commit_markers(
    kafka_broker: Settings, warehouse: Settings
) -> None:
    """Flink writes in transactions: the last offset of a partition is a commit marker, and an
    aborted transaction leaves records no read_committed reader sees. The landing lands the
    committed rows, with their offsets, and its commits reach the end (so the group counts as
    caught up from outside too)."""
    from confluent_kafka import Producer

    from classpulse.kafka.client import client_config

    table = new_landing(
        kafka_broker,
        warehouse,
        "tx",
        "id UInt64, kafka_partition Int32, kafka_offset Int64, kafka_topic String",
        1,
        "ENGINE = MergeTree ORDER BY id",
    )
    topic, client = table.topic, get_client(warehouse)
    producer = Producer(
        client_config(kafka_broker.kafka_bootstrap_servers, **{"transactional.id": f"tx-{topic}"})
    )
    producer.init_transactions(30)
    for number, commit in ((0, True), (1, False), (2, True)):  # the middle one aborted
        producer.begin_transaction()
        for item in range(100):
            producer.produce(topic, json.dumps({"id": number * 100 + item}).encode())
        producer.flush(30)  # in the log before the transaction ends, aborted ones too
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    one = consumer(kafka_broker, warehouse, table)
    one.run(until_caught_up=True, timeout_s=120)
    assert one.group_caught_up()
    one.close()
    rows = client.query(
        f"SELECT count(), min(id), max(id), uniqExact(kafka_offset), countIf(kafka_topic = '{topic}')"
        f" FROM {table.table} WHERE id < 100 OR id >= 200"
    ).result_rows[0]
    assert rows == (200, 0, 299, 200, 200)
    assert client.query(f"SELECT count() FROM {table.table}").result_rows[0][0] == 200
    # offsets 0..99 the first transaction, 100 its marker, 101..200 aborted, 201 the abort
    # marker, 202..301 the third: what landed carries the real offsets
    offsets = client.query(
        f"SELECT min(kafka_offset), max(kafka_offset) FROM {table.table} WHERE id >= 200"
    ).result_rows[0]
    assert offsets == (202, 301)


def test_load_from_kafka_lands_a_landing_topic_once(
    kafka_broker: Settings, own_warehouse: Settings
) -> None:
    import subprocess
    import sys

    from kafka_helpers import cli_environment

    topic = "qos_log_clean"  # clickhouse/landing/qos_log_clean.sql
    create_topics(kafka_broker, [topic])
    producer = TopicProducer(kafka_broker)
    for number in range(1200):
        row = {
            "source_split": f"qos_log/{number % 2}",
            "classroom_id": f"c{number % 5}",
            "user_type": "student",
            "user_id": number,
            "event_time": 1764554400000 + number,
            "sub_event": "PPT_PAGE",
            "data_time": 1764554400000 + number,
            "ppt_index": None,
            "ingested_at": "2026-12-01 02:00:00.000Z",
            "processed_at": "2026-12-01 02:00:01.000Z",
        }
        producer.send(topic, json.dumps(row).encode(), row["classroom_id"].encode())
    producer.flush()
    environment = {
        **cli_environment(kafka_broker),
        "CLASSPULSE_WAREHOUSE_PATH": str(own_warehouse.warehouse_path),
        "CLASSPULSE_CLICKHOUSE_HOST": "127.0.0.1",
        "CLASSPULSE_CLICKHOUSE_PORT": str(own_warehouse.clickhouse_port),
    }
    command = [sys.executable, "-m", "classpulse.cli", "load", "--from-kafka", "--topic", topic]
    for _ in range(2):  # the second run finds every offset committed
        result = subprocess.run(
            command, capture_output=True, text=True, env=environment, timeout=300
        )
        assert result.returncode == 0, result.stderr
    client = get_client(own_warehouse)
    count, users, provenance, topics = client.query(
        "SELECT count(), uniqExact(user_id), uniqExact(kafka_partition, kafka_offset),"
        " groupUniqArray(kafka_topic) FROM ods.qos_log_clean"
    ).result_rows[0]
    # every row carries its (topic, partition, offset): 1200 distinct positions
    assert (count, users, provenance, topics) == (1200, 1200, 1200, [topic])


def test_the_production_landing_service_follows_and_stops_on_sigterm(
    kafka_broker: Settings, own_warehouse: Settings, tmp_path: Path
) -> None:
    """docker-compose's `landing` service: `load --from-kafka --follow --heartbeat F` keeps
    landing what arrives, keeps its health file fresh, and stops cleanly on SIGTERM."""
    import signal
    import subprocess
    import sys
    import time

    from kafka_helpers import cli_environment

    topic = "late_events"  # clickhouse/landing/late_events.sql
    create_topics(kafka_broker, [topic])
    heartbeat = tmp_path / "landing.heartbeat"
    environment = {
        **cli_environment(kafka_broker),
        "CLASSPULSE_WAREHOUSE_PATH": str(own_warehouse.warehouse_path),
        "CLASSPULSE_CLICKHOUSE_HOST": "127.0.0.1",
        "CLASSPULSE_CLICKHOUSE_PORT": str(own_warehouse.clickhouse_port),
    }
    command = [sys.executable, "-m", "classpulse.cli", "load", "--from-kafka", "--topic", topic]
    service = subprocess.Popen(
        [*command, "--follow", "--heartbeat", str(heartbeat)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )
    client = get_client(own_warehouse)
    try:
        deadline = time.monotonic() + 120
        while not heartbeat.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert heartbeat.exists(), "the service never polled"
        producer = TopicProducer(kafka_broker)
        for number in range(300):  # arrives while the service runs
            row = {"mart": "av_quality_30s", "event_time": "2026-12-01 10:00:00",
                   "event_time_ms": 1764554400000 + number, "source_split": "agora_record/0",
                   "processed_at": "2026-12-01 02:00:01.000Z"}  # fmt: skip
            producer.send(topic, json.dumps(row).encode())
        producer.flush()
        landed_rows = 0
        while landed_rows < 300 and time.monotonic() < deadline:
            time.sleep(0.5)
            landed_rows = client.query(
                "SELECT count() FROM ods.late_events WHERE kafka_topic = 'late_events'"
            ).result_rows[0][0]
        assert landed_rows == 300
        assert heartbeat.exists(), "the service stopped keeping its heartbeat file"
    finally:
        service.send_signal(signal.SIGTERM)
        _, errors = service.communicate(timeout=60)
    assert service.returncode == 0, errors.decode()
    assert (
        client.query(
            "SELECT uniqExact(kafka_partition, kafka_offset) FROM ods.late_events"
        ).result_rows[0][0]
        == 300
    )


# A landing process that SIGKILLs itself at one step of its third batch (argv: topic, table,
# step): "after_intent" (the batch's range committed as an intent, no row inserted yet) or
# "after_insert" (rows inserted, offsets not advanced); "none" lands until killed from outside.
DYING_LANDER = """
import os, signal, sys
from pathlib import Path
from classpulse.config import load_settings
from classpulse.kafka.landing import LandingConsumer
from classpulse.loader import LandingTable
from classpulse.warehouse import get_client

topic, table, step = sys.argv[1:4]

class Dying(LandingConsumer):
    batches = 0

    def _insert(self, table, block, token):
        Dying.batches += 1
        if step == "after_intent" and Dying.batches == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return super()._insert(table, block, token)

    def _after_insert(self, key):
        if step == "after_insert" and Dying.batches == 3:
            os.kill(os.getpid(), signal.SIGKILL)

settings = load_settings()
lander = Dying(settings, [LandingTable(Path("test"), topic, table, "")], get_client(settings),
               group=f"landing-{topic}", batch_messages=300, batch_seconds=0.1)
lander.run(until_caught_up=True, timeout_s=300)
"""


@pytest.mark.parametrize("step", ["after_intent", "after_insert", "from_outside"])
def test_a_lander_killed_with_sigkill_mid_batch_restarts_without_duplicate_or_gap(
    kafka_broker: Settings, warehouse: Settings, step: str
) -> None:
    """A real process killed with SIGKILL mid-batch, then a new one: every (topic, partition,
    offset) of the topic, read independently, lands exactly once."""
    import signal
    import subprocess
    import sys
    import time

    from kafka_helpers import read_records

    table = new_landing(
        kafka_broker,
        warehouse,
        "killed",
        "kafka_topic String, kafka_partition UInt32, kafka_offset UInt64, id UInt64",
        2,
        "ENGINE = MergeTree ORDER BY (kafka_partition, kafka_offset)"
        " SETTINGS non_replicated_deduplication_window = 1000",
    )
    topic, client = table.topic, get_client(warehouse)
    producer = TopicProducer(kafka_broker)
    for number in range(MESSAGES):
        producer.send(topic, json.dumps({"id": number}).encode(), f"room-{number % 11}".encode())
    producer.flush()

    def rows() -> int:
        return client.query(f"SELECT count() FROM {table.table}").result_rows[0][0]

    lander = subprocess.Popen(
        [sys.executable, "-c", DYING_LANDER, topic, table.table, step],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        if step == "from_outside":  # whenever the first rows are in: mid-stream, any step
            deadline = time.monotonic() + 120
            while rows() == 0 and lander.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            lander.send_signal(signal.SIGKILL)
        _, errors = lander.communicate(timeout=180)
    finally:
        if lander.poll() is None:
            lander.kill()
            lander.wait()
    assert lander.returncode == -signal.SIGKILL, errors.decode()[-2000:]
    if step != "from_outside":
        assert 0 < rows() < MESSAGES
    # the killed batch, and any other partition's batch then in flight, left an intent
    intents = open_intents(kafka_broker, table)
    if step != "from_outside":
        assert 1 <= intents <= 2

    restarted = consumer(kafka_broker, warehouse, table)
    report = restarted.run(until_caught_up=True, timeout_s=120)
    restarted.close()
    assert report.redone == intents  # each landed again, as the same range

    offsets = sorted(
        (record.partition, record.offset) for record in read_records(kafka_broker, topic)
    )
    landed_offsets = sorted(
        (partition, offset)
        for topic_name, partition, offset in client.query(
            f"SELECT kafka_topic, kafka_partition, kafka_offset FROM {table.table}"
        ).result_rows
        if topic_name == topic
    )
    assert len(offsets) == MESSAGES
    assert landed_offsets == offsets  # no duplicate, no gap
