"""Land Kafka topics into ClickHouse, exactly once in effect (prototype of issue 10, item 4).

ClickHouse's Kafka table engine does not consume inside chDB, so the embedded path needs a
consumer of ours; it works the same against a ClickHouse server. One consumer group reads the
landing topics (``clickhouse/landing/*.sql`` name them), ``read_committed`` so only committed
Flink transactions are landed, and inserts each partition's messages in batches:

1. commit the batch's first offset again, with metadata ``intent:<last offset>``: the batch's
   range is now on record, and the commit fails if this consumer no longer owns the partition
   (a fenced zombie inserts nothing);
2. insert the batch as JSONEachRow with ``insert_deduplication_token =
   <group>/<topic>/<partition>/<first>-<last>``;
3. commit ``last + 1`` (offsets advance only after the rows are safely in ClickHouse).

After a crash between 1 and 3, whoever gets the partition finds the intent, re-reads exactly
``first..last`` and inserts it with the same token: ClickHouse drops the repeat if the first
insert made it (the landing tables keep a deduplication window). So a restart, a rebalance or
a second consumer in the group never lands a message twice and never skips one: every
message is deduplicated by (topic, partition, offset).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from classpulse.config import Settings
from classpulse.kafka.client import ErrorRecorder, client_config
from classpulse.loader import LandingTable

INTENT_PREFIX = "intent:"
DEFAULT_GROUP = "classpulse-landing"


class LandingError(RuntimeError):
    """A batch could not be landed, with what to do about it."""


@dataclass
class PartitionBuffer:
    table: LandingTable
    values: list[bytes] = field(default_factory=list)
    first: int = -1
    last: int = -1
    redo_until: int | None = None  # an unfinished batch of a previous owner: land exactly it

    def add(self, offset: int, value: bytes) -> None:
        if not self.values:
            self.first = offset
        self.values.append(value)
        self.last = offset


@dataclass
class LandingReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows inserted
    batches: int = 0
    redone: int = 0  # batches re-landed from an intent
    seconds: float = 0.0


def parse_intent(metadata: str | None) -> int | None:
    if metadata and metadata.startswith(INTENT_PREFIX):
        return int(metadata[len(INTENT_PREFIX) :])
    return None


class LandingConsumer:
    """Consume landing topics and insert them into their ClickHouse tables."""

    def __init__(
        self,
        settings: Settings,
        tables: Iterable[LandingTable],
        client: Any,
        *,
        group: str = DEFAULT_GROUP,
        batch_messages: int = 100_000,
        batch_seconds: float = 1.0,
        consumer_settings: dict[str, Any] | None = None,
    ) -> None:
        from confluent_kafka import Consumer

        self.settings = settings
        self.tables = {table.topic: table for table in tables}
        self.client = client
        self.group = group
        self.batch_messages = batch_messages
        self.batch_seconds = batch_seconds
        self.report = LandingReport()
        self.buffers: dict[tuple[str, int], PartitionBuffer] = {}
        self.assigned: set[tuple[str, int]] = set()
        self.at_end: set[tuple[str, int]] = set()
        self._errors = ErrorRecorder()
        config = client_config(
            settings.kafka_bootstrap_servers,
            error_cb=self._errors,
            **{
                "group.id": group,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "fetch.max.bytes": 64 * 1024 * 1024,
                **(consumer_settings or {}),
            },
        )
        self.consumer = Consumer(config)
        self.consumer.subscribe(
            list(self.tables), on_assign=self._on_assign, on_revoke=self._on_revoke
        )

    # -- group membership ------------------------------------------------------------------

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        committed = consumer.committed(partitions, timeout=30)
        for partition in committed:
            key = (partition.topic, partition.partition)
            self.assigned.add(key)
            self.at_end.discard(key)
            buffer = PartitionBuffer(self.tables[partition.topic])
            buffer.redo_until = parse_intent(partition.metadata)
            self.buffers[key] = buffer

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        # a batch in memory was never inserted (inserts happen between polls): drop it; its
        # messages are read again by the next owner from the last commit
        for partition in partitions:
            key = (partition.topic, partition.partition)
            self.assigned.discard(key)
            self.at_end.discard(key)
            self.buffers.pop(key, None)

    # -- the loop --------------------------------------------------------------------------

    def run(
        self,
        *,
        until_caught_up: bool = False,
        should_stop: Callable[[], bool] | None = None,
        timeout_s: float | None = None,
    ) -> LandingReport:
        """Land until stopped (or, with ``until_caught_up``, until every partition is at its
        end and landed)."""
        from confluent_kafka import KafkaError

        started = time.monotonic()
        batch_started: float | None = None
        try:
            while True:
                if should_stop is not None and should_stop():
                    break
                if timeout_s is not None and time.monotonic() - started > timeout_s:
                    raise LandingError(
                        f"landing did not catch up within {timeout_s:.0f} s "
                        f"(at end: {sorted(self.at_end)}, assigned: {sorted(self.assigned)})"
                    )
                for message in self.consumer.consume(min(10_000, self.batch_messages), 0.2):
                    key = (message.topic(), message.partition())
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            self.at_end.add(key)
                            continue
                        raise LandingError(f"consuming {key[0]}[{key[1]}] failed: {error.str()}")
                    buffer = self.buffers.get(key)
                    if buffer is None:  # revoked meanwhile
                        continue
                    self.at_end.discard(key)
                    buffer.add(message.offset(), message.value())
                    if batch_started is None:
                        batch_started = time.monotonic()
                    if buffer.redo_until is not None and message.offset() >= buffer.redo_until:
                        self._land(key, buffer)
                buffered = sum(len(buffer.values) for buffer in self.buffers.values())
                due = batch_started is not None and (
                    time.monotonic() - batch_started >= self.batch_seconds
                )
                caught_up = bool(self.assigned) and self.at_end >= self.assigned
                if buffered and (buffered >= self.batch_messages or due or caught_up):
                    for key, buffer in list(self.buffers.items()):
                        if buffer.values and buffer.redo_until is None:
                            self._land(key, buffer)
                    batch_started = None
                if (
                    until_caught_up
                    and caught_up
                    and not any(buffer.values for buffer in self.buffers.values())
                ):
                    break
        finally:
            self.report.seconds += time.monotonic() - started
        return self.report

    def close(self) -> None:
        self.consumer.close()

    # -- one batch -------------------------------------------------------------------------

    def _land(self, key: tuple[str, int], buffer: PartitionBuffer) -> None:
        from confluent_kafka import TopicPartition

        topic, partition = key
        first, last = buffer.first, buffer.last
        if buffer.redo_until is not None:
            last = buffer.redo_until  # markers may end the range: the token is the intent's
        self.consumer.commit(
            offsets=[TopicPartition(topic, partition, first, metadata=f"{INTENT_PREFIX}{last}")],
            asynchronous=False,
        )
        rows = self._insert(
            buffer.table, buffer.values, f"{self.group}/{topic}/{partition}/{first}-{last}"
        )
        self._after_insert(key)
        self.consumer.commit(
            offsets=[TopicPartition(topic, partition, max(last, buffer.last) + 1)],
            asynchronous=False,
        )
        self.report.batches += 1
        if buffer.redo_until is not None:
            self.report.redone += 1
        table = buffer.table.table
        self.report.rows[table] = self.report.rows.get(table, 0) + rows
        buffer.values = []
        buffer.redo_until = None

    def _insert(self, table: LandingTable, values: list[bytes], token: str) -> int:
        summary = self.client.raw_insert(
            table.table,
            insert_block=b"\n".join(values),
            fmt="JSONEachRow",
            settings={
                "insert_deduplication_token": token,
                "input_format_skip_unknown_fields": 1,
                "date_time_input_format": "best_effort",
            },
        )
        return int(summary.written_rows)

    def _after_insert(self, key: tuple[str, int]) -> None:
        """Between the insert and the offset commit (a crash here is the case to survive)."""


def land_from_kafka(
    settings: Settings,
    only: Iterable[str] = (),
    *,
    follow: bool = False,
    client: Any = None,
    group: str = DEFAULT_GROUP,
    should_stop: Callable[[], bool] | None = None,
    timeout_s: float | None = None,
) -> LandingReport:
    """Land every landing topic (``clickhouse/landing/*.sql``) from Kafka into its table.

    Creates the databases, tables and any missing topic first; returns once every partition is
    landed up to its end, or with ``follow`` keeps landing until ``should_stop()``.
    """
    from classpulse.kafka.admin import create_topics
    from classpulse.loader import LoadError, create_landing_tables, read_landing_tables
    from classpulse.warehouse import get_client

    tables = read_landing_tables(settings.root)
    wanted = set(only)
    if wanted:
        unknown = wanted - {table.topic for table in tables}
        if unknown:
            raise LoadError(f"no landing table for topic(s) {sorted(unknown)}")
        tables = [table for table in tables if table.topic in wanted]
    client = client or get_client(settings)
    create_landing_tables(client, tables)
    create_topics(settings, [table.topic for table in tables])
    consumer = LandingConsumer(settings, tables, client, group=group)
    try:
        return consumer.run(
            until_caught_up=not follow, should_stop=should_stop, timeout_s=timeout_s
        )
    finally:
        consumer.close()
