"""The pipeline's consumer lag by offsets, and waiting until it has caught up."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from classpulse.config import Settings, load_settings
from classpulse.flink.pipeline.files import PipelineError, files_for, jobmanager, read_json
from classpulse.flink.pipeline.process import status, tail
from classpulse.flink.pipeline.topics import pipeline_topics


@dataclass(frozen=True)
class TopicLag:
    topic: str
    end: int
    committed: int

    @property
    def lag(self) -> int:
        return max(0, self.end - self.committed)


@dataclass
class Lag:
    group: str
    topics: list[TopicLag] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(topic.lag for topic in self.topics)

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "total": self.total,
            "topics": {topic.topic: topic.lag for topic in self.topics},
        }


def lag(settings: Settings | None = None, group: str | None = None) -> Lag:
    """Consumer lag by offsets of the pipeline's group on every topic the job reads."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.admin import describe_topics
    from classpulse.kafka.client import client_config, retrying

    settings = settings or load_settings()
    if group is None:
        group = read_json(files_for(settings).run_file).get("group_id") or "classpulse-flink"
    sources, middle, _ = pipeline_topics(settings)
    names = [*sources, *middle]
    infos = describe_topics(settings, names)
    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{"group.id": group, "enable.auto.commit": False},
        )
    )
    try:
        partitions = [
            TopicPartition(info.name, part.partition) for info in infos for part in info.partitions
        ]
        # the group coordinator moves (a broker restart, a new group): wait it out
        found = retrying(lambda: consumer.committed(partitions, timeout=30), 60, pause=0.5)
        committed = {(tp.topic, tp.partition): tp.offset for tp in found}
    finally:
        consumer.close()
    result = Lag(group)
    for info in infos:
        end = sum(part.end for part in info.partitions)
        done = 0
        for part in info.partitions:
            position = max(committed.get((info.name, part.partition), -1), part.start)
            if info.name in middle and position < part.end:
                # a topic written in transactions: aborted records and commit markers occupy
                # offsets the pipeline's reader skips without committing past them; what counts
                # is whether a read_committed reader finds a record there
                position = part.end - _readable(settings, info.name, part.partition, position)
            done += position
        result.topics.append(TopicLag(info.name, end, done))
    return result


def _readable(
    settings: Settings, topic: str, partition: int, offset: int, cap: int = 10_000
) -> int:
    """Records a read_committed reader gets from ``offset`` to the partition's end (at most
    ``cap``; beyond it the offsets left are returned)."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.client import client_config

    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{
                "group.id": f"classpulse-lag-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
            },
        )
    )
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        count = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                if message.error().code() == -191:  # _PARTITION_EOF
                    return count
                continue
            count += 1
            if count >= cap:
                break
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        return max(count, high - offset) if count >= cap else high - offset
    finally:
        consumer.close()


def wait_caught_up(
    settings: Settings | None = None,
    *,
    group: str | None = None,
    timeout: float = 600.0,
    slack: int = 0,
) -> Lag:
    """Poll ``lag`` until every source topic is consumed (and intermediate topics within
    ``slack`` offsets per partition, for their transaction markers); raise after ``timeout``."""
    settings = settings or load_settings()
    sources, _, _ = pipeline_topics(settings)
    deadline = time.monotonic() + timeout
    while True:
        current = lag(settings, group)
        behind = {
            topic.topic: topic.lag
            for topic in current.topics
            if topic.lag > (0 if topic.topic in sources else slack)
        }
        if not behind:
            return current
        if jobmanager() is None and files_for(settings).pid_file.exists():
            state = status(settings)
            if not state.running:
                raise PipelineError(
                    f"the pipeline process ended while catching up; behind: {behind}\n"
                    + tail(files_for(settings), 30)
                )
        if time.monotonic() > deadline:
            raise PipelineError(
                f"the pipeline did not catch up within {timeout:.0f} s; behind: {behind}"
            )
        time.sleep(1.0)
