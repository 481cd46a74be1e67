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
- **Batches per partition of up to** ``batch_messages`` **(200k) or** ``batch_seconds``
  **(1 s)**, whichever first: large inserts (few parts, few merges) when behind; a partition
  read to its end waits only ``caught_up_seconds`` (0.2 s) for more when following. A batch is
  one partition's range, never several partitions or topics in one request: the range *is* the
  deduplication token and the intent, so a redo after a crash rebuilds exactly the same insert
  whoever owns the partition then; a request per partition costs a few milliseconds against ~a
  second of rows when behind.
- **Consume and insert overlap**: a batch's insert (HTTP; the warehouse parses in its own
  process) runs on a background thread while the next messages are consumed and framed, with
  ``INSERTS_IN_FLIGHT`` (3) batches of different partitions at once: the engine parses a
  streamed insert on one core, and a third covers the others' serial steps (commits, the
  part's write). A partition's next intent comes only after its batch in flight is committed,
  so a crash leaves at most one range per partition to redo (each named by its own intent).
  Fetches are large (16 MB per partition instead of librdkafka's 1 MB) and hardly postponed
  (``fetch.queue.backoff.ms`` 10 ms: librdkafka's 1 s pause of a partition with 100k messages
  queued made the landing wait on fetches). Messages are taken 50k per ``consume()``, filed
  by partition runs (the cyclic garbage collector paused meanwhile: each message is a tracked
  object), and framed with one bytes formatting each (:mod:`.landing_messages`); inserts go
  uncompressed (loopback: compressing costs more CPU than it saves).
- **Measured** (side by side, where the time goes, what did not help): ``docs/architecture.md``,
  "Landing".
- **Caught up** means every partition of the landing topics has the group's committed offset
  at its end (the last stable offset: an open transaction is not "the end"). A member that
  reaches a partition's end commits that position even when only transaction markers lie
  between its last row and the end, so "committed = end" holds when caught up, and a member
  that got no partition at all (more consumers than partitions) sees the others finish.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from classpulse.config import Settings
from classpulse.kafka.client import ErrorRecorder, client_config, retrying
from classpulse.kafka.landing_messages import collector_paused, with_provenance
from classpulse.loader import LandingTable

INTENT_PREFIX = "intent:"
CONSUME_MESSAGES = 50_000  # messages per consume() call: the per-call cost amortised
INSERTS_IN_FLIGHT = 3  # each of a different partition; why 3: the module's docstring
DEFAULT_GROUP = "classpulse-landing"
FETCH_QUEUE_BACKOFF_MS = 10  # librdkafka's 1 s held fetches back (the module's docstring)
# Following: how long a batch of a partition read to its end waits for more. Flink commits its
# transactions once per checkpoint, so a caught-up partition gets a burst and then nothing until
# the next commit: waiting the whole ``batch_seconds`` for more (unless every partition of the
# consumer was at its end at that moment) added up to a second to a mart row's freshness
# (issue 10). 0.2 s still bounds a never-pausing stream to 5 inserts a second per partition.
CAUGHT_UP_SECONDS = 0.2


class LandingError(RuntimeError):
    """A batch could not be landed, with what to do about it."""


@dataclass
class PartitionBuffer:
    table: LandingTable
    values: list[bytes] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    redo_until: int | None = None  # an unfinished batch of a previous owner: land exactly it
    started: float | None = None  # monotonic time of the batch's first message

    @property
    def first(self) -> int:
        return self.offsets[0] if self.offsets else -1

    @property
    def last(self) -> int:
        return self.offsets[-1] if self.offsets else -1

    def add(self, offset: int, value: bytes) -> None:
        self.values.append(value)
        self.offsets.append(offset)


@dataclass
class Batch:
    """One partition's batch on its way into ClickHouse (its insert runs in the background)."""

    key: tuple[str, int]
    table: LandingTable
    first: int
    last: int  # the token's last offset (a redo keeps the intent's)
    position: int  # the offset to commit once the rows are in
    redo: bool
    insert: Future[int]


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
    """Consume landing topics and insert them into their ClickHouse tables.

    Consuming and inserting overlap: a batch's insert (an HTTP request; the warehouse parses
    in its own process) runs on a background thread while the next messages are consumed and
    framed here. Up to ``inserts_in_flight`` batches are in flight, each of a different
    partition; a partition's next batch starts only after its previous one is committed, so per
    partition the exactly-once steps run in the order of a sequential consumer: every partition
    has at most one open intent, and a crash leaves at most one batch per partition in flight
    to redo. Offsets are committed from this thread only (as inserts finish, in any order
    across partitions).
    """

    def __init__(
        self,
        settings: Settings,
        tables: Iterable[LandingTable],
        client: Any,
        *,
        group: str = DEFAULT_GROUP,
        batch_messages: int = 200_000,
        batch_seconds: float = 1.0,
        caught_up_seconds: float = CAUGHT_UP_SECONDS,
        inserts_in_flight: int = INSERTS_IN_FLIGHT,
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
        self.caught_up_seconds = min(caught_up_seconds, batch_seconds)
        self.report = LandingReport()
        self.on_batch = on_batch
        self.buffers: dict[tuple[str, int], PartitionBuffer] = {}
        self.assigned: set[tuple[str, int]] = set()
        self.at_end: dict[tuple[str, int], int] = {}  # partition -> its end when reached
        self.committed: dict[tuple[str, int], int] = {}  # partition -> our last commit
        self.in_flight: dict[tuple[str, int], Batch] = {}  # partition -> its batch, by start
        self.inserts_in_flight = max(1, inserts_in_flight)
        self._inserter = ThreadPoolExecutor(
            self.inserts_in_flight, thread_name_prefix="landing-insert"
        )
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
                # big fetches: the default 1 MB per partition means a round trip per ~3k rows
                "fetch.max.bytes": 64 * 1024 * 1024,
                "max.partition.fetch.bytes": 16 * 1024 * 1024,
                "queued.max.messages.kbytes": 256 * 1024,
                # see "Why these choices": librdkafka's 1 s starved the landing (issue 10)
                "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
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
        committed = retrying(lambda: consumer.committed(partitions, timeout=30), 30)
        for partition in committed:
            key = (partition.topic, partition.partition)
            self.assigned.add(key)
            self.at_end.pop(key, None)
            self.committed[key] = partition.offset
            buffer = PartitionBuffer(self.tables[partition.topic])
            buffer.redo_until = parse_intent(partition.metadata)
            self.buffers[key] = buffer

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        # a batch in memory was never inserted: drop it; its messages are read again by the
        # next owner from the last commit. A batch in flight is finished and committed while
        # the partition is still ours (if that fails, its intent makes the next owner redo it).
        revoked = {(partition.topic, partition.partition) for partition in partitions}
        for key in revoked & self.in_flight.keys():
            with contextlib.suppress(Exception):
                self._finish(key)
        for key in revoked:
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
        started = time.monotonic()
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
                with collector_paused():
                    self._consume(
                        self.consumer.consume(min(CONSUME_MESSAGES, self.batch_messages), 0.2)
                    )
                self._finish_done()
                now = time.monotonic()
                mine_at_end = self.at_end.keys() >= self.assigned
                buffered = 0
                for key, buffer in list(self.buffers.items()):
                    size = len(buffer.offsets)
                    if not size or buffer.redo_until is not None:
                        buffered += size
                        continue
                    full = size >= self.batch_messages
                    if not (full or mine_at_end or self._due(key, buffer, now, until_caught_up)):
                        buffered += size
                    elif key in self.in_flight and not (full or mine_at_end):
                        buffered += size  # its previous batch first; meanwhile read on
                    else:
                        self._land(key, buffer)
                if until_caught_up and mine_at_end and not buffered:
                    self._finish_in_flight()
                    if self.at_end.keys() < self.assigned or any(
                        buffer.offsets for buffer in self.buffers.values()
                    ):
                        continue  # a rebalance meanwhile
                    if self.assigned:
                        break
                    # no partition of ours: done when the group's members are
                    if time.monotonic() - group_checked >= 1.0:
                        group_checked = time.monotonic()
                        if self.group_caught_up():
                            break
            self._finish_in_flight()
        finally:
            self._abandon_in_flight()
            self.report.seconds += time.monotonic() - started
        return self.report

    def _due(
        self, key: tuple[str, int], buffer: PartitionBuffer, now: float, until_caught_up: bool
    ) -> bool:
        """Whether a partition's batch has waited long enough. While more of the partition is
        to be read, ``batch_seconds`` (large inserts when behind). Once it is read to its end
        there is nothing more to wait for: catching up, land it now; following, after
        ``caught_up_seconds`` (the latency a batch adds to a caught-up stream, and at most a few
        inserts a second per partition when the stream never pauses)."""
        waited = now - (buffer.started or now)
        if key not in self.at_end:
            return waited >= self.batch_seconds
        return until_caught_up or waited >= self.caught_up_seconds

    def _consume(self, messages: list[Any]) -> None:
        """File consumed messages into their partitions' buffers (the per-message hot path:
        consecutive messages mostly share a partition, so its buffer is looked up once a run)."""
        from confluent_kafka import KafkaError

        current: tuple[str, int] | None = None
        offsets: list[int] | None = None
        values: list[bytes] | None = None
        buffer: PartitionBuffer | None = None
        for message in messages:
            error = message.error()
            if error is not None:
                key = (message.topic(), message.partition())
                if error.code() == KafkaError._PARTITION_EOF:
                    self._reached_end(key, message.offset())
                    current = None
                    continue
                raise LandingError(f"consuming {key[0]}[{key[1]}] failed: {error.str()}")
            key = (message.topic(), message.partition())
            if key != current:
                current = key
                buffer = self.buffers.get(key)
                if buffer is None:  # revoked meanwhile
                    offsets = values = None
                    continue
                self.at_end.pop(key, None)
                if buffer.started is None:
                    buffer.started = time.monotonic()
                offsets, values = buffer.offsets, buffer.values
            if offsets is None or values is None or buffer is None:
                continue
            offset = message.offset()
            offsets.append(offset)
            values.append(message.value())
            if buffer.redo_until is not None and offset >= buffer.redo_until:
                self._land(key, buffer)  # exactly the previous owner's range, then go on
                offsets, values = buffer.offsets, buffer.values
                if buffer.started is None:  # what follows in this run starts a new batch
                    buffer.started = time.monotonic()

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
            if buffer.offsets:
                self._land(key, buffer)
                return
            buffer.redo_until = None  # the range held no record to land
        if key in self.in_flight:
            self._finish(key)  # never commit past a batch that is not in yet
        if not buffer.offsets and end > self.committed.get(key, -1):
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
            for item in retrying(lambda: self.consumer.committed(partitions, timeout=30), 30)
        }
        for partition in partitions:
            low, high = self.consumer.get_watermark_offsets(partition, timeout=10, cached=False)
            position = committed.get((partition.topic, partition.partition), -1)
            if high > low and position < high:
                return False
        return True

    def close(self) -> None:
        self._closing = True
        self._abandon_in_flight()
        self._inserter.shutdown(wait=True)
        self.consumer.close()

    # -- one batch -------------------------------------------------------------------------

    def _land(self, key: tuple[str, int], buffer: PartitionBuffer) -> None:
        """Start landing the partition's buffer: the partition's previous batch is committed
        first (and, with every insert slot taken, the first batch to finish), the intent is
        committed, and the insert goes to a background thread."""
        from confluent_kafka import TopicPartition

        if key in self.in_flight:
            self._finish(key)
        while len(self.in_flight) >= self.inserts_in_flight:
            wait([batch.insert for batch in self.in_flight.values()], return_when=FIRST_COMPLETED)
            self._finish_done()
        topic, partition = key
        offsets, values = buffer.offsets, buffer.values
        rest_offsets: list[int] = []
        rest_values: list[bytes] = []
        redo = buffer.redo_until is not None
        if redo:
            last = buffer.redo_until  # markers may end the range: the token is the intent's
            cut = len(offsets)
            while cut and offsets[cut - 1] > last:  # read past the range: keep it for later
                cut -= 1
            offsets, rest_offsets = offsets[:cut], offsets[cut:]
            values, rest_values = values[:cut], values[cut:]
        else:
            last = offsets[-1]
        first = offsets[0] if offsets else buffer.first
        self.consumer.commit(
            offsets=[TopicPartition(topic, partition, first, metadata=f"{INTENT_PREFIX}{last}")],
            asynchronous=False,
        )
        token = f"{self.group}/{topic}/{partition}/{first}-{last}"
        table = buffer.table

        def insert() -> int:
            return self._insert(table, with_provenance(topic, partition, offsets, values), token)

        position = max(last, offsets[-1] if offsets else last) + 1
        buffer.offsets, buffer.values = rest_offsets, rest_values
        buffer.started = time.monotonic() if rest_offsets else None
        buffer.redo_until = None
        self.in_flight[key] = Batch(
            key, table, first, last, position, redo, self._inserter.submit(insert)
        )

    def _finish_done(self) -> None:
        """Commit past every batch whose insert has ended (without waiting for the others)."""
        for key in [key for key, batch in self.in_flight.items() if batch.insert.done()]:
            self._finish(key)

    def _finish_in_flight(self) -> None:
        """Wait for every batch in flight and commit past each, in the order they started."""
        for key in list(self.in_flight):
            self._finish(key)

    def _finish(self, key: tuple[str, int]) -> None:
        """Wait for the partition's batch in flight; once its rows are in ClickHouse, commit
        past it."""
        from confluent_kafka import TopicPartition

        batch = self.in_flight.pop(key, None)
        if batch is None:
            return
        rows = batch.insert.result()  # re-raises the insert's failure
        self._after_insert(batch.key)
        position = batch.position
        end = self.at_end.get(batch.key)
        buffer = self.buffers.get(batch.key)
        if end is not None and end > position and (buffer is None or not buffer.offsets):
            position = end  # only markers follow: commit the end
        topic, partition = batch.key
        self.consumer.commit(
            offsets=[TopicPartition(topic, partition, position)], asynchronous=False
        )
        self.committed[batch.key] = position
        self.report.batches += 1
        if batch.redo:
            self.report.redone += 1
        name = batch.table.table
        self.report.rows[name] = self.report.rows.get(name, 0) + rows
        if self.on_batch is not None:
            self.on_batch(self.report)

    def _abandon_in_flight(self) -> None:
        """Leaving after a failure: let running inserts end, commit nothing more (their intents
        stay on record, so whoever lands a partition next redoes its batch as the same range)."""
        batches, self.in_flight = list(self.in_flight.values()), {}
        for batch in batches:
            with contextlib.suppress(BaseException):
                batch.insert.result()

    def _insert(self, table: LandingTable, block: bytes, token: str) -> int:
        summary = self.client.raw_insert(
            table.table,
            insert_block=block,
            fmt="JSONEachRow",
            settings={
                # no session: an insert is one self-contained request, and the inserts in
                # flight share the client (one session cannot serve two requests at once)
                "session_id": "",
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
    caught_up_seconds: float = CAUGHT_UP_SECONDS,
    inserts_in_flight: int = INSERTS_IN_FLIGHT,
    on_batch: Callable[[LandingReport], None] | None = None,
) -> LandingReport:
    """Land every landing topic (``clickhouse/landing/*.sql``) from Kafka into its table.

    Creates the databases, tables and any missing topic first; returns once every partition is
    landed up to its end, or with ``follow`` keeps landing until ``should_stop()``.
    ``batch_seconds`` bounds a batch's wait while more is to be read, ``caught_up_seconds`` the
    latency a batch adds when following a caught-up partition; ``on_batch(report)`` is
    called after every batch landed (progress); ``inserts_in_flight`` bounds the inserts
    running at once (each of a different partition).
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
        settings,
        tables,
        client,
        group=group,
        batch_seconds=batch_seconds,
        caught_up_seconds=caught_up_seconds,
        inserts_in_flight=inserts_in_flight,
        on_batch=on_batch,
    )
    try:
        return consumer.run(
            until_caught_up=not follow, should_stop=should_stop, timeout_s=timeout_s
        )
    finally:
        consumer.close()
