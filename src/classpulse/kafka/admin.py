"""Topic administration: list topics with partitions and end offsets, create the contract's.

Partition counts and retention come from configuration (``CLASSPULSE_KAFKA_PARTITIONS``,
``CLASSPULSE_KAFKA_RETENTION_HOURS``), never from code; an existing topic is left as it is.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from classpulse.config import Settings
from classpulse.kafka.client import (
    ErrorRecorder,
    KafkaUnavailable,
    client_config,
    retrying,
    unavailable,
)
from classpulse.topics import TOPICS


@dataclass(frozen=True)
class PartitionOffsets:
    partition: int
    start: int  # earliest offset still held (log start)
    end: int  # high watermark: the offset the next message gets


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: tuple[PartitionOffsets, ...]

    @property
    def end_offsets(self) -> dict[int, int]:
        return {partition.partition: partition.end for partition in self.partitions}

    @property
    def messages(self) -> int:
        """Offsets held (end - start) over all partitions (transaction markers included)."""
        return sum(partition.end - partition.start for partition in self.partitions)


def metadata_timeout(settings: Settings) -> float:
    """How long the first metadata request may take: a loopback broker answers at once."""
    return 5.0 if settings.kafka_is_local else 15.0


def admin_client(settings: Settings):
    from confluent_kafka.admin import AdminClient

    return AdminClient(client_config(settings.kafka_bootstrap_servers, error_cb=ErrorRecorder()))


def topic_names(settings: Settings, timeout: float = 10.0, *, internal: bool = False) -> list[str]:
    admin = admin_client(settings)
    try:
        metadata = admin.list_topics(timeout=timeout)
    except Exception as exc:
        raise unavailable(settings, exc) from None
    return sorted(name for name in metadata.topics if internal or not name.startswith("__"))


def describe_topics(
    settings: Settings, names: Iterable[str] | None = None, timeout: float = 10.0
) -> list[TopicInfo]:
    """Topics (all user topics by default) with each partition's start and end offset."""
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import OffsetSpec

    admin = admin_client(settings)
    try:
        metadata = admin.list_topics(timeout=timeout)
    except Exception as exc:
        raise unavailable(settings, exc) from None
    wanted = (
        sorted(name for name in metadata.topics if not name.startswith("__"))
        if names is None
        else list(names)
    )
    missing = [name for name in wanted if name not in metadata.topics]
    if missing:
        raise KeyError(f"no such topic: {', '.join(missing)}")
    partitions = [
        TopicPartition(name, number)
        for name in wanted
        for number in metadata.topics[name].partitions
    ]
    if not partitions:
        return [TopicInfo(name, ()) for name in wanted]
    offsets: dict[tuple[str, int], list[int]] = {}
    for spec in (OffsetSpec.earliest(), OffsetSpec.latest()):  # -> [start, end]
        try:
            # a topic created a moment ago may not have its leader known yet
            found = retrying(
                lambda spec=spec: _list_offsets(admin, partitions, spec, timeout), timeout
            )
        except Exception as exc:
            raise unavailable(settings, exc) from None
        for key, offset in found.items():
            offsets.setdefault(key, []).append(offset)
    return [
        TopicInfo(
            name,
            tuple(
                PartitionOffsets(number, *offsets[(name, number)])
                for number in sorted(metadata.topics[name].partitions)
            ),
        )
        for name in wanted
    ]


def empty_topics(settings: Settings, names: Iterable[str] | None = None) -> int:
    """Delete every record of the topics (all user topics by default) up to each partition's
    current end; the number of topics that held any.

    Offsets keep growing afterwards (a reader from the start sees only what comes next, the
    consumer groups' commits stay valid), so topics are emptied without being deleted and
    re-created (a topic marked for deletion cannot be re-created at once).
    """
    from confluent_kafka import TopicPartition

    partitions = [
        TopicPartition(info.name, part.partition, part.end)
        for info in describe_topics(settings, names)
        for part in info.partitions
        if part.end > part.start
    ]
    if partitions:
        admin = admin_client(settings)  # held while waiting: its thread completes the futures
        for future in admin.delete_records(partitions, request_timeout=30).values():
            future.result(timeout=60)
    return len({partition.topic for partition in partitions})


def _list_offsets(admin, partitions, spec, timeout: float) -> dict[tuple[str, int], int]:
    futures = admin.list_offsets(
        {partition: spec for partition in partitions}, request_timeout=timeout
    )
    return {
        (partition.topic, partition.partition): future.result().offset
        for partition, future in futures.items()
    }


def wait_for_leaders(settings: Settings, names: Iterable[str], timeout: float = 30.0) -> None:
    """Wait until every partition of ``names`` has a leader (topics just created)."""
    admin = admin_client(settings)
    wanted = list(names)
    deadline = time.monotonic() + timeout
    while True:
        try:
            metadata = admin.list_topics(timeout=max(1.0, deadline - time.monotonic()))
        except Exception as exc:
            raise unavailable(settings, exc) from None
        ready = all(
            name in metadata.topics
            and metadata.topics[name].error is None
            and metadata.topics[name].partitions
            and all(p.leader >= 0 for p in metadata.topics[name].partitions.values())
            for name in wanted
        )
        if ready:
            return
        if time.monotonic() > deadline:
            raise KafkaUnavailable(
                f"topics {', '.join(wanted)} have no leader after {timeout:.0f} s"
            )
        time.sleep(0.1)


def create_topics(
    settings: Settings,
    names: Iterable[str] = TOPICS,
    partitions: int | None = None,
    timeout: float = 30.0,
) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import NewTopic

    count = partitions or settings.kafka_partitions
    if count < 1:
        raise ValueError(f"CLASSPULSE_KAFKA_PARTITIONS must be at least 1, got {count}")
    existing = set(topic_names(settings, metadata_timeout(settings)))
    wanted = [name for name in dict.fromkeys(names) if name not in existing]
    if not wanted:
        return []
    admin = admin_client(settings)
    retention = str(settings.kafka_retention_hours * 3_600_000)
    new = [
        NewTopic(name, num_partitions=count, config={"retention.ms": retention}) for name in wanted
    ]
    futures = admin.create_topics(new, request_timeout=timeout, operation_timeout=timeout)
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            error = exc.args[0]
            if error.code() != KafkaError.TOPIC_ALREADY_EXISTS:  # created meanwhile
                raise KafkaUnavailable(f"creating topic {name} failed: {error.str()}") from None
    wait_for_leaders(settings, wanted, timeout)
    return sorted(created)
