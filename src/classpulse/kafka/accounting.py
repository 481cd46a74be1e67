"""Accounting by offsets: nothing lost, nothing counted twice, from what Kafka and the warehouse hold.

Issue 10, item 5. The identities are the contract's ("reconciliation"):

- per source topic: **messages read = accepted + rejected**;
- per real-time mart: **counted + late = accepted** (the events of its cleaned input).

Every figure comes from a system of record, never from a counter of our own:

- *read*: the pipeline's consumer group (``${KAFKA_GROUP_ID}``) commits, at each completed
  checkpoint, the offset it has read up to in every partition of a source topic. Source
  topics are written without transactions (``classpulse produce``, the apps), so offsets are
  contiguous from 0 and the committed offset *is* the number of messages read from that
  partition. Every run of a job counts under a key of its own (a bounded run, or a job
  started afresh, begins a new job state: ``first_offset`` per split), and the runs add up, so
  read = committed - the first offset of the split's earliest run this warehouse landed (a
  warehouse attached later, topics whose oldest records were deleted, and a group that read
  on before this warehouse counted anything are all measured from where its counting began;
  a split it has no run of counts from the log start).
  ``held`` = end - start is what Kafka still holds (start > 0 once retention has
  removed the oldest segments; ``expired`` = start), ``lag`` = end - committed.
- *accepted* and *rejected*: the cleaning jobs' own counters (``topic_accounting``, landed in
  ``ods.topic_accounting_log``), checked against the rows the warehouse holds: the dead letters
  of ``ods.rejected_messages`` and, where cleaning emits one row per accepted message, the rows
  of the cleaned table. Those rows carry their Kafka provenance (``kafka_topic``,
  ``kafka_partition``, ``kafka_offset``, written by the landing consumer), so a row landed
  twice shows as ``duplicates`` (rows - distinct offsets) and breaks the identity.
- *counted* and *late*: the mart jobs' counters (``mart_accounting``), their sum against the
  events the mart took in, late checked against the rows of ``ods.late_events`` (the landed rows
  of the mart's cleaned input are shown beside them: a mart may take several events from one
  row, ``av_quality_30s`` one per audio and video metric).

The identities are exact only when everything is at rest: the pipeline has read every source
message (``lag`` 0) and the landing has landed every output (its group's commits at the ends).
Before that a mismatch is "catching up", not a failure: :attr:`Accounting.caught_up` says which.

:func:`record_accounting` keeps a snapshot in ``ods.offset_accounting`` for the quality gate
(``expectations/ods/offset_accounting.yml``); ``classpulse status`` prints it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classpulse.config import Settings
from classpulse.kafka.splits import split_name

if TYPE_CHECKING:
    from classpulse.flink.sqlparser import Statement

JOBS_DIR = Path("flink_sql") / "jobs"
FLINK_COUNTER_SINKS = frozenset({"rejected_messages", "topic_accounting", "late_events"})
SNAPSHOT_TABLE = "ods.offset_accounting"
SNAPSHOT_DDL = f"""
CREATE TABLE IF NOT EXISTS {SNAPSHOT_TABLE}
(
    checked_at DateTime64(3, 'UTC'),
    kind LowCardinality(String) COMMENT 'topic | mart',
    name String COMMENT 'source topic or real-time mart',
    read_or_in Int64 COMMENT 'topic: messages read (committed offsets); mart: events in',
    accepted_or_counted Int64,
    rejected_or_late Int64,
    lag Int64 COMMENT 'topic: source messages not read yet',
    duplicates Int64 COMMENT 'rows landed more than once (rows - distinct offsets)',
    caught_up UInt8 COMMENT 'pipeline and landing at rest: the identity must hold exactly',
    holds UInt8,
    detail String
)
ENGINE = MergeTree
ORDER BY (checked_at, kind, name)
TTL toDateTime(checked_at) + INTERVAL 30 DAY
"""


# -- the pipeline's shape, read from its SQL files ------------------------------------------


@dataclass(frozen=True)
class Cleaner:
    """A cleaning job: the source topic it reads and the cleaned topic it writes."""

    job: str
    source_topic: str
    clean_topic: str
    one_row_per_accepted: bool  # False when a rule filters or unnests accepted messages


@dataclass(frozen=True)
class MartJob:
    mart: str
    job: str
    input_topic: str  # the cleaned topic it reads


@dataclass(frozen=True)
class PipelineShape:
    cleaners: tuple[Cleaner, ...]
    marts: tuple[MartJob, ...]

    @property
    def source_topics(self) -> list[str]:
        return [cleaner.source_topic for cleaner in self.cleaners]


def read_pipeline_shape(root: Path) -> PipelineShape:
    """Which job reads which topic, from ``flink_sql/jobs`` and the kafka connector set.

    A cleaning job is a job that writes ``topic_accounting``; a mart job one that writes
    ``mart_accounting`` (the mart named by its ``'<mart>' AS mart``). A new job file is
    accounted for with no code change.
    """
    from classpulse.flink.sqlfiles import parse_job, read_connector_tables

    tables = read_connector_tables(root, "kafka")
    topics = {table.name: table.topic for table in tables if table.topic is not None}
    cleaners, marts = [], []
    for path in sorted((root / JOBS_DIR).glob("*.sql")):
        # what Flink's parser reads in the job's statements, templates expanded
        job = parse_job(path, [table.name for table in tables])
        sinks = job.outputs
        sources = sorted(name for name in job.inputs - sinks if name in topics)
        if "topic_accounting" in sinks and len(sources) == 1:
            outputs = sorted(sinks - FLINK_COUNTER_SINKS - {"mart_accounting"})
            if len(outputs) == 1:
                unnests = any(statement.unnests for statement in job.statements)
                filtered = unnests or _filters_clean_rows(job.statements, outputs[0])
                cleaners.append(
                    Cleaner(path.stem, topics[sources[0]], topics[outputs[0]], not filtered)
                )
        elif "mart_accounting" in sinks and len(sources) == 1:
            named = [
                value
                for statement in job.statements
                for alias, value in statement.aliased_literals
                if alias.lower() == "mart"
            ]
            mart = named[0] if named else path.stem.removeprefix("mart_")
            marts.append(MartJob(mart, path.stem, topics[sources[0]]))
    return PipelineShape(tuple(cleaners), tuple(marts))


def _filters_clean_rows(statements: Iterable[Statement], clean_table: str) -> bool:
    """True when the INSERT into the cleaned table keeps fewer rows than the accepted ones
    (a WHERE beyond ``reason IS NULL``, or a query that is no plain SELECT)."""
    insert = next((s for s in statements if s.kind == "insert" and s.name == clean_table), None)
    if insert is None:
        return True
    return insert.has_where and (insert.where_is_null or "").lower() != "reason"


# -- what Kafka holds ------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionPosition:
    topic: str
    partition: int
    start: int
    end: int  # last stable offset (what a read_committed reader can reach)
    committed: int | None  # the group's committed offset; None when it never committed


def group_positions(
    settings: Settings, group: str, topics: Iterable[str], timeout: float = 10.0
) -> list[PartitionPosition]:
    """Start, end (last stable offset) and ``group``'s committed offset of every partition of
    ``topics`` (topics that do not exist are left out). The group is not joined."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.client import ErrorRecorder, client_config, retrying, unavailable

    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            error_cb=ErrorRecorder(),
            **{
                "group.id": group,
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            },
        )
    )
    try:
        try:
            metadata = consumer.list_topics(timeout=timeout)
        except Exception as exc:
            raise unavailable(settings, exc) from None
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            if topic in metadata.topics
            for number in sorted(metadata.topics[topic].partitions)
        ]
        if not partitions:
            return []
        # right after a broker starts, its group coordinator may still be loading
        committed = {
            (item.topic, item.partition): item.offset
            for item in retrying(lambda: consumer.committed(partitions, timeout=timeout), timeout)
        }
        positions = []
        for item in partitions:
            start, end = _watermarks(consumer, item, timeout)
            offset = committed.get((item.topic, item.partition), -1)
            positions.append(
                PartitionPosition(
                    item.topic,
                    item.partition,
                    start,
                    end,
                    offset if offset >= 0 else None,
                )
            )
        return positions
    finally:
        consumer.close()


def _watermarks(consumer: Any, partition: Any, timeout: float) -> tuple[int, int]:
    """(start, last stable offset); retried while a new partition has no leader yet."""
    from classpulse.kafka.client import retrying

    return retrying(
        lambda: consumer.get_watermark_offsets(partition, timeout=timeout, cached=False),
        timeout,
        pause=0.25,
    )


# -- the accounting --------------------------------------------------------------------------


class Identities:
    """An account of identities: ``problems`` says which fail; it holds when none does."""

    @property
    def problems(self) -> list[str]:
        raise NotImplementedError

    @property
    def holds(self) -> bool:
        return not self.problems


@dataclass
class TopicAccount(Identities):
    topic: str
    partitions: int = 0
    held: int = 0  # end - start: what Kafka still holds
    expired: int = 0  # offsets before the retention start
    read: int = 0  # committed offsets of the pipeline's group (= messages read)
    lag: int = 0  # end - committed
    flink_read: int | None = None  # the cleaning job's counters, as landed
    accepted: int | None = None
    rejected: int | None = None
    dead_letters: int = 0  # rows of ods.rejected_messages
    dead_letter_duplicates: int = 0
    clean_rows: int | None = None  # landed rows of the cleaned table (one per accepted)
    clean_duplicates: int = 0

    @property
    def problems(self) -> list[str]:
        found = []
        if self.flink_read is None:
            if self.read == 0 and not self.dead_letters and not self.clean_rows:
                return []  # nothing read, nothing landed
            return ["no topic_accounting landed"]
        if self.read != self.flink_read:
            found.append(f"offsets read {self.read} != counted read {self.flink_read}")
        if self.flink_read != (self.accepted or 0) + (self.rejected or 0):
            found.append(
                f"read {self.flink_read} != accepted {self.accepted} + rejected {self.rejected}"
            )
        if self.rejected != self.dead_letters:
            found.append(f"rejected {self.rejected} != dead letters landed {self.dead_letters}")
        if self.clean_rows is not None and self.clean_rows != self.accepted:
            found.append(f"accepted {self.accepted} != cleaned rows landed {self.clean_rows}")
        duplicates = self.dead_letter_duplicates + self.clean_duplicates
        if duplicates:
            found.append(f"{duplicates} rows landed twice")
        return found


@dataclass
class MartAccount(Identities):
    mart: str
    input_topic: str
    # landed rows of the cleaned input: shown, not compared (a mart may read several events
    # per row, av_quality_30s one per audio and video metric; events_in is its own count)
    accepted: int | None = None
    events_in: int | None = None
    counted: int | None = None
    late: int | None = None
    late_rows: int = 0  # rows of ods.late_events for the mart
    late_duplicates: int = 0

    @property
    def problems(self) -> list[str]:
        if self.events_in is None:
            if not self.accepted and not self.late_rows:
                return []  # no input, nothing landed
            return ["no mart_accounting landed"]
        found = []
        if (self.counted or 0) + (self.late or 0) != self.events_in:
            found.append(f"counted {self.counted} + late {self.late} != in {self.events_in}")
        if self.late != self.late_rows:
            found.append(f"late {self.late} != late_events rows {self.late_rows}")
        if self.late_duplicates:
            found.append(f"{self.late_duplicates} late rows landed twice")
        return found


@dataclass
class Accounting:
    topics: list[TopicAccount] = field(default_factory=list)
    marts: list[MartAccount] = field(default_factory=list)
    pipeline_group: str = ""
    landing_group: str = ""
    pipeline_lag: int = 0  # source messages the pipeline has not read
    landing_lag: int = 0  # offsets of the output topics the landing has not landed
    pipeline_committed: bool = False  # the pipeline's group has committed anything

    @property
    def caught_up(self) -> bool:
        return self.pipeline_committed and self.pipeline_lag == 0 and self.landing_lag == 0

    @property
    def holds(self) -> bool:
        return all(item.holds for item in self.topics) and all(item.holds for item in self.marts)


def pipeline_group(settings: Settings) -> str:
    """The pipeline's consumer group: the one the streaming pipeline's current run recorded
    (``<home>/flink/stream/run.json``, written by ``classpulse flink run``), else the jobs'
    ``${KAFKA_GROUP_ID}``."""
    import json

    from classpulse.flink.variables import resolve_variables

    run_file = settings.home / "flink" / "stream" / "run.json"
    try:
        recorded = json.loads(run_file.read_text(encoding="utf-8")).get("group_id")
    except (OSError, ValueError):
        recorded = None
    return recorded or resolve_variables().lookup("KAFKA_GROUP_ID") or "classpulse-flink"


def account(
    settings: Settings,
    client: Any,
    *,
    pipeline: str | None = None,
    landing: str | None = None,
) -> Accounting:
    """The identities from Kafka's offsets and the warehouse's rows (see the module doc)."""
    from classpulse.kafka.landing import DEFAULT_GROUP
    from classpulse.loader import read_landing_tables

    shape = read_pipeline_shape(settings.root)
    tables = {table.topic: table.table for table in read_landing_tables(settings.root)}
    result = Accounting(
        pipeline_group=pipeline or pipeline_group(settings), landing_group=landing or DEFAULT_GROUP
    )
    sources = group_positions(settings, result.pipeline_group, shape.source_topics)
    landed = group_positions(settings, result.landing_group, sorted(tables))
    result.pipeline_committed = any(item.committed is not None for item in sources)
    result.pipeline_lag = sum(_lag(item) for item in sources)
    result.landing_lag = sum(_lag(item) for item in landed)

    counters = _query(
        client,
        "SELECT topic, sum(messages_read), sum(accepted), sum(rejected)"
        " FROM ods.topic_accounting_log FINAL GROUP BY topic",
    )
    dead_letters = _query(
        client,
        "SELECT topic, count(), count() - uniqExact(kafka_partition, kafka_offset)"
        " FROM ods.rejected_messages WHERE kafka_partition >= 0 GROUP BY topic",
    )
    # where this warehouse's counting of each split began: its earliest run's first offset
    began = _query(
        client,
        "SELECT source_split, min(first_offset) FROM ods.topic_accounting_log FINAL"
        " GROUP BY source_split",
    )
    for cleaner in shape.cleaners:
        item = TopicAccount(cleaner.source_topic)
        for position in sources:
            if position.topic == cleaner.source_topic:
                item.partitions += 1
                item.held += position.end - position.start
                item.expired += position.start
                split = split_name(position.topic, position.partition)
                base = began[split][0] if split in began else position.start
                item.read += max((position.committed or 0) - base, 0)
                item.lag += _lag(position)
        if cleaner.source_topic in counters:
            item.flink_read, item.accepted, item.rejected = counters[cleaner.source_topic]
        if cleaner.source_topic in dead_letters:
            item.dead_letters, item.dead_letter_duplicates = dead_letters[cleaner.source_topic]
        if cleaner.one_row_per_accepted and cleaner.clean_topic in tables:
            item.clean_rows, item.clean_duplicates = _landed_rows(
                client, tables[cleaner.clean_topic]
            )
        result.topics.append(item)

    marts = _query(
        client,
        "SELECT mart, sum(events_in), sum(events_counted), sum(events_late)"
        " FROM ods.mart_accounting_log FINAL GROUP BY mart",
    )
    late = _query(
        client,
        "SELECT mart, count(), count() - uniqExact(kafka_partition, kafka_offset)"
        " FROM ods.late_events WHERE kafka_partition >= 0 GROUP BY mart",
    )
    for job in shape.marts:
        item = MartAccount(job.mart, job.input_topic)
        if job.input_topic in tables:
            item.accepted = _landed_rows(client, tables[job.input_topic])[0]
        if job.mart in marts:
            item.events_in, item.counted, item.late = marts[job.mart]
        if job.mart in late:
            item.late_rows, item.late_duplicates = late[job.mart]
        result.marts.append(item)
    return result


def _lag(position: PartitionPosition) -> int:
    """Offsets not read yet (from the retention start when the group never committed)."""
    read = position.start if position.committed is None else max(position.committed, position.start)
    return max(position.end - read, 0)


def _query(client: Any, sql: str) -> dict[str, tuple[int, ...]]:
    """``{first column: the other columns}``; empty when a table does not exist yet."""
    try:
        rows = client.query(sql).result_rows
    except Exception as exc:
        if (
            "UNKNOWN_TABLE" in str(exc)
            or "doesn't exist" in str(exc)
            or "does not exist" in str(exc)
        ):
            return {}
        raise
    return {str(row[0]): tuple(int(value) for value in row[1:]) for row in rows}


def _landed_rows(client: Any, table: str) -> tuple[int, int]:
    """(rows landed from Kafka, of which duplicates) in a landing table."""
    found = _query(
        client,
        "SELECT 'rows', count(), count() - uniqExact(kafka_topic, kafka_partition, kafka_offset)"
        f" FROM {table} WHERE kafka_partition >= 0",
    )
    return found.get("rows", (0, 0))  # type: ignore[return-value]


# -- the snapshot the quality gate checks ----------------------------------------------------


def landed_from_kafka(client: Any) -> bool:
    """True when the warehouse holds pipeline counters landed from Kafka (the accounting by
    offsets applies; a warehouse landed from topic files has none)."""
    provenance = client.query(
        "SELECT count() FROM system.columns WHERE database = 'ods'"
        " AND table = 'topic_accounting_log' AND name = 'kafka_partition'"
    ).result_rows[0][0]
    if not provenance:
        return False
    found = _query(
        client,
        "SELECT 'rows', count() FROM ods.topic_accounting_log WHERE kafka_partition >= 0",
    )
    return found.get("rows", (0,))[0] > 0


def record_accounting(client: Any, accounting: Accounting) -> int:
    """Append one snapshot (a row per topic and per mart) to ``ods.offset_accounting``."""
    from datetime import UTC, datetime

    client.command(SNAPSHOT_DDL)
    caught_up = int(accounting.caught_up)
    rows = [
        {
            "kind": "topic",
            "name": item.topic,
            "read_or_in": item.read,
            "accepted_or_counted": item.accepted or 0,
            "rejected_or_late": item.rejected or 0,
            "lag": item.lag,
            "duplicates": item.dead_letter_duplicates + item.clean_duplicates,
            "holds": int(item.holds),
            "detail": "; ".join(item.problems),
        }
        for item in accounting.topics
    ] + [
        {
            "kind": "mart",
            "name": item.mart,
            "read_or_in": item.events_in or 0,
            "accepted_or_counted": item.counted or 0,
            "rejected_or_late": item.late or 0,
            "lag": 0,
            "duplicates": item.late_duplicates,
            "holds": int(item.holds),
            "detail": "; ".join(item.problems),
        }
        for item in accounting.marts
    ]
    if not rows:
        return 0
    checked_at = datetime.now(UTC).replace(tzinfo=None)
    columns = ["checked_at", "caught_up", *rows[0]]
    client.insert(
        SNAPSHOT_TABLE,
        [[checked_at, caught_up, *row.values()] for row in rows],
        column_names=columns,
    )
    return len(rows)


def refresh_snapshot(settings: Settings, client: Any) -> str:
    """Record a snapshot when the warehouse was landed from Kafka; say what was done."""
    client.command(SNAPSHOT_DDL)
    if not landed_from_kafka(client):
        return "not landed from Kafka: no accounting by offsets"
    accounting = account(settings, client)
    record_accounting(client, accounting)
    state = "caught up" if accounting.caught_up else "catching up"
    return f"{state}; identities {'hold' if accounting.holds else 'do NOT hold'}"
