"""Land Kafka topics into ClickHouse, exactly once in effect: locally and in production.

ClickHouse's Kafka table engine does not consume inside chDB, so the embedded path needs a
consumer of ours; it works the same against a ClickHouse server. One consumer group reads the
landing topics (``clickhouse/landing/*.sql`` name them), ``read_committed`` so only committed
Flink transactions are landed, and inserts each partition's messages in batches:

1. commit the batch's first offset again, with metadata ``intent:<last offset>``: the batch's
   range is now on record, and the commit fails if this consumer no longer owns the partition
   (a fenced zombie inserts nothing);
2. insert the batch as JSONEachRow with ``insert_deduplication_token =
   <group>/<topic>/<partition>/<first>-<last>``, every row carrying its provenance
   (``kafka_topic``, ``kafka_partition``, ``kafka_offset``: spliced into the message's JSON
   object, so the warehouse can count what landed by offsets);
3. commit ``last + 1`` (offsets advance only after the rows are safely in ClickHouse).

After a crash between 1 and 3, whoever gets the partition finds the intent, re-reads exactly
``first..last`` and inserts it with the same token: ClickHouse drops the repeat if the first
insert made it (the landing tables keep a deduplication window). So a restart, a rebalance or
a second consumer in the group never lands a message twice and never skips one: every
message is deduplicated by (topic, partition, offset).

Why these choices:

- **One consumer (group) for all landing tables**, not one per table: a landing table is a
  topic, and Kafka already spreads partitions of every subscribed topic over the group's
  members, so scaling out is "start another ``classpulse load --from-kafka --follow``"; one
  consumer per table would multiply connections, polls and idle threads by 21 for topics that
  are mostly quiet, and per-table isolation buys nothing that the per-partition batches and
  tokens do not already give.
- **JSONEachRow, the message bytes as they are**: the topics are JSON already. RowBinary or
  Native through clickhouse-connect would mean parsing every message in Python and building
  columns there (several microseconds a row, on the same two cores the engine needs), to save
  the engine a parse it does at hundreds of thousands of rows per second in C++. The Python
  side only splices the provenance in front of each object (a bytes concatenation).
- **Batches of up to** ``batch_messages`` **(100k) or** ``batch_seconds`` **(1 s)**, whichever
  first: large inserts (few parts, few merges) when behind, at most a second of added latency
  when caught up.
- **Caught up** means every partition of the landing topics has the group's committed offset
  at its end (the last stable offset: an open transaction is not "the end"). A member that
  reaches a partition's end commits that position even when only transaction markers lie
  between its last row and the end, so "committed = end" holds when caught up, and a member
  that got no partition at all (more consumers than partitions) sees the others finish.
"""

from __future__ import annotations

import json
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
    offsets: list[int] = field(default_factory=list)
    first: int = -1
    last: int = -1
    redo_until: int | None = None  # an unfinished batch of a previous owner: land exactly it

    def add(self, offset: int, value: bytes) -> None:
        if not self.values:
            self.first = offset
        self.values.append(value)
        self.offsets.append(offset)
        self.last = offset


@dataclass
class LandingReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows inserted
    batches: int = 0
    redone: int = 0  # batches re-landed from an intent
    seconds: float = 0.0


def with_provenance(topic: str, partition: int, offsets: list[int], values: list[bytes]) -> bytes:
    """The JSONEachRow block of a batch, each object starting with its (topic, partition, offset).

    A message that is not a JSON object is passed through as it is: the insert rejects it.
    """
    prefix = b'{"kafka_topic":%s,"kafka_partition":%d,"kafka_offset":' % (
        json.dumps(topic).encode(),
        partition,
    )
    lines = []
    for offset, value in zip(offsets, values, strict=True):
        body = value.lstrip()
        if body[:1] != b"{":
            lines.append(value)
            continue
        rest = body[1:].lstrip()
        separator = b"" if rest[:1] == b"}" else b","
        lines.append(prefix + str(offset).encode() + separator + rest)
    return b"\n".join(lines)


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
        on_batch: Callable[[LandingReport], None] | None = None,
    ) -> None:
        from confluent_kafka import Consumer

        self.settings = settings
        self.tables = {table.topic: table for table in tables}
        self.client = client
        self.group = group
        self.batch_messages = batch_messages
        self.batch_seconds = batch_seconds
        self.report = LandingReport()
        self.on_batch = on_batch
        self.buffers: dict[tuple[str, int], PartitionBuffer] = {}
        self.assigned: set[tuple[str, int]] = set()
        self.at_end: dict[tuple[str, int], int] = {}  # partition -> its end when reached
        self.committed: dict[tuple[str, int], int] = {}  # partition -> our last commit
        self._errors = ErrorRecorder()
        self._closing = False
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
        if self._closing:  # an assignment served while leaving the group: nothing to land
            return
        committed = consumer.committed(partitions, timeout=30)
        for partition in committed:
            key = (partition.topic, partition.partition)
            self.assigned.add(key)
            self.at_end.pop(key, None)
            self.committed[key] = partition.offset
            buffer = PartitionBuffer(self.tables[partition.topic])
            buffer.redo_until = parse_intent(partition.metadata)
            self.buffers[key] = buffer

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        # a batch in memory was never inserted (inserts happen between polls): drop it; its
        # messages are read again by the next owner from the last commit
        for partition in partitions:
            key = (partition.topic, partition.partition)
            self.assigned.discard(key)
            self.at_end.pop(key, None)
            self.committed.pop(key, None)
            self.buffers.pop(key, None)

    # -- the loop --------------------------------------------------------------------------

    def run(
        self,
        *,
        until_caught_up: bool = False,
        should_stop: Callable[[], bool] | None = None,
        timeout_s: float | None = None,
    ) -> LandingReport:
        """Land until stopped (or, with ``until_caught_up``, until every partition of the
        landing topics is landed up to its end, by whichever member of the group owns it)."""
        from confluent_kafka import KafkaError

        started = time.monotonic()
        batch_started: float | None = None
        group_checked = 0.0
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
                            self._reached_end(key, message.offset())
                            continue
                        raise LandingError(f"consuming {key[0]}[{key[1]}] failed: {error.str()}")
                    buffer = self.buffers.get(key)
                    if buffer is None:  # revoked meanwhile
                        continue
                    self.at_end.pop(key, None)
                    buffer.add(message.offset(), message.value())
                    if batch_started is None:
                        batch_started = time.monotonic()
                    if buffer.redo_until is not None and message.offset() >= buffer.redo_until:
                        self._land(key, buffer)
                buffered = sum(len(buffer.values) for buffer in self.buffers.values())
                due = batch_started is not None and (
                    time.monotonic() - batch_started >= self.batch_seconds
                )
                mine_at_end = self.at_end.keys() >= self.assigned
                if buffered and (buffered >= self.batch_messages or due or mine_at_end):
                    for key, buffer in list(self.buffers.items()):
                        if buffer.values and buffer.redo_until is None:
                            self._land(key, buffer)
                    batch_started = None
                    buffered = 0
                if until_caught_up and mine_at_end and not buffered:
                    if self.assigned:
                        break
                    # no partition of ours: done when the group's members are
                    if time.monotonic() - group_checked >= 1.0:
                        group_checked = time.monotonic()
                        if self.group_caught_up():
                            break
        finally:
            self.report.seconds += time.monotonic() - started
        return self.report

    def _reached_end(self, key: tuple[str, int], end: int) -> None:
        """A partition is read up to ``end`` (its last stable offset): land an unfinished
        batch of a previous owner whose range ends in transaction markers, and commit the end
        itself when only markers (or aborted records) lie between the last commit and it."""
        from confluent_kafka import TopicPartition

        buffer = self.buffers.get(key)
        if buffer is None:
            return
        self.at_end[key] = end
        if buffer.redo_until is not None:
            if buffer.values:
                self._land(key, buffer)
                return
            buffer.redo_until = None  # the range held no record to land
        if not buffer.values and end > self.committed.get(key, -1):
            self.consumer.commit(offsets=[TopicPartition(key[0], key[1], end)], asynchronous=False)
            self.committed[key] = end

    def group_caught_up(self) -> bool:
        """True when the group's committed offset is at the end of every partition of the
        landing topics (end = the last stable offset, as a read_committed reader sees it)."""
        from confluent_kafka import KafkaException, TopicPartition

        try:
            return self._group_at_end(TopicPartition)
        except KafkaException:  # a partition without a leader yet (just created): not yet
            return False

    def _group_at_end(self, TopicPartition: Any) -> bool:  # noqa: N803 - the class, passed in
        metadata = self.consumer.list_topics(timeout=10)
        partitions = [
            TopicPartition(topic, number)
            for topic in self.tables
            if topic in metadata.topics
            for number in metadata.topics[topic].partitions
        ]
        if not partitions:
            return True
        committed = {
            (item.topic, item.partition): item.offset
            for item in self.consumer.committed(partitions, timeout=30)
        }
        for partition in partitions:
            low, high = self.consumer.get_watermark_offsets(partition, timeout=10, cached=False)
            position = committed.get((partition.topic, partition.partition), -1)
            if high > low and position < high:
                return False
        return True

    def close(self) -> None:
        self._closing = True
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
        block = with_provenance(topic, partition, buffer.offsets, buffer.values)
        rows = self._insert(buffer.table, block, f"{self.group}/{topic}/{partition}/{first}-{last}")
        self._after_insert(key)
        position = max(last, buffer.last) + 1
        end = self.at_end.get(key)
        if end is not None and end > position:  # only markers follow: commit the end
            position = end
        self.consumer.commit(
            offsets=[TopicPartition(topic, partition, position)], asynchronous=False
        )
        self.committed[key] = position
        self.report.batches += 1
        if buffer.redo_until is not None:
            self.report.redone += 1
        table = buffer.table.table
        self.report.rows[table] = self.report.rows.get(table, 0) + rows
        buffer.values = []
        buffer.offsets = []
        buffer.redo_until = None
        if self.on_batch is not None:
            self.on_batch(self.report)

    def _insert(self, table: LandingTable, block: bytes, token: str) -> int:
        summary = self.client.raw_insert(
            table.table,
            insert_block=block,
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
    batch_seconds: float = 1.0,
    on_batch: Callable[[LandingReport], None] | None = None,
) -> LandingReport:
    """Land every landing topic (``clickhouse/landing/*.sql``) from Kafka into its table.

    Creates the databases, tables and any missing topic first; returns once every partition is
    landed up to its end, or with ``follow`` keeps landing until ``should_stop()``.
    ``batch_seconds`` bounds the latency a batch adds when caught up; ``on_batch(report)`` is
    called after every batch landed (progress).
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
    consumer = LandingConsumer(
        settings, tables, client, group=group, batch_seconds=batch_seconds, on_batch=on_batch
    )
    try:
        return consumer.run(
            until_caught_up=not follow, should_stop=should_stop, timeout_s=timeout_s
        )
    finally:
        consumer.close()
