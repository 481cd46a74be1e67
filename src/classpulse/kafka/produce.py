"""Publish topic directories (the import format) into Kafka: ``classpulse produce --topics DIR``.

Every complete file of ``DIR/<topic>/`` (file-name order; hidden and in-progress files
skipped, see :func:`classpulse.topics.list_complete_files`) is sent line by line, one
message per line, the raw line as the value. Lines are sent in file order by one idempotent
producer (``acks=all``, ``enable.idempotence``), so each partition holds its lines in file
order with no duplicate even when a request is retried.

The message key keeps together what must stay ordered (STYLE.md): the room for interaction,
audio/video and recorded-course logs, the entity id for snapshot topics (the latest version of
an id wins by offset on ties, so all versions of an id share a partition). A line whose key
cannot be read (malformed JSON, missing field) is sent without a key: the cleaning rejects it
whatever partition it lands in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classpulse.config import Settings
from classpulse.kafka.admin import create_topics
from classpulse.kafka.client import ErrorRecorder, client_config, unavailable
from classpulse.topics import TOPICS, list_complete_files

# topic -> JSON path of the message key (the contract's field names)
MESSAGE_KEYS: dict[str, tuple[str, ...]] = {
    "timeline_client_topic": ("data", "roomid"),
    "agora_record": ("classroom_id",),
    "qos_log": ("classroom_id",),
    "uc_account-student": ("id",),
    "uc_account-user": ("id",),
    "blink_stg_activity__channel_name_dictionary_da": ("id",),
    "data_pack_order_info": ("id",),
    # live classroom (LIVE_CLASSROOM_CONTRACT.md): a room's messages stay in order in one partition
    "classroom_enter": ("room_id",),
    "classroom_av_sample": ("room_id",),
    "classroom_device_sample": ("room_id",),
    "classroom_courseware_event": ("room_id",),
    "classroom_help_request": ("room_id",),
    # rooms (LIVE_CLASSROOM_CONTRACT.md B.1): a room's heartbeats and reports stay in order
    "room_heartbeat": ("room_id",),
    "room_push_ack": ("room_id",),
}

# librdkafka producer settings: exactly one copy of each line per partition, in order, batched
PRODUCER_SETTINGS: dict[str, Any] = {
    "acks": "all",
    # the Java client's partitioner (murmur2 of the key), so every producer of a topic, in any
    # language, puts a key in the same partition (librdkafka's default CRC32 one differs, and
    # spreads sequential ids badly); a line without a key goes to one fixed partition instead of
    # a random one, so producing the same files twice gives the same partitions and offsets
    "partitioner": "murmur2",
    "enable.idempotence": True,
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 500_000,
    "queue.buffering.max.kbytes": 256 * 1024,
}


class ProduceError(RuntimeError):
    """Messages could not be delivered, with what to do about it."""


def message_key(topic: str, line: bytes) -> bytes | None:
    """The partitioning key of one raw line, or None when it cannot be read."""
    path = MESSAGE_KEYS.get(topic)
    if path is None:
        return None
    try:
        value: Any = json.loads(line)
    except ValueError:
        return None
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    # ids arrive as JSON integers or numeric strings: "42" and 42 are the same id
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float) and value.is_integer():
        return str(int(value)).encode()
    if isinstance(value, str):  # a JSON escape may hold a lone surrogate: keep it, bytewise
        return value.encode("utf-8", "surrogatepass")
    return None


def file_lines(path: Path) -> Iterator[bytes]:
    """The lines of a JSON-lines file, without their line end (every line is a message).

    Lines end at LF only (a U+2028 or a lone CR stays inside a message); a CRLF line end is a
    line end, as in the topic files the contract describes.
    """
    with open(path, "rb") as handle:
        for line in handle:
            if line.endswith(b"\r\n"):
                yield line[:-2]
            else:
                yield line[:-1] if line.endswith(b"\n") else line


@dataclass
class TopicProducer:
    """One idempotent producer; counts the messages the brokers acknowledged per topic."""

    settings: Settings
    extra: dict[str, Any] = field(default_factory=dict)
    delivered: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from confluent_kafka import Producer

        self._errors = ErrorRecorder()
        config = client_config(
            self.settings.kafka_bootstrap_servers,
            error_cb=self._errors,
            **{**PRODUCER_SETTINGS, **self.extra},
        )
        self._producer = Producer(config)

    def _on_delivery(self, error: Any, message: Any) -> None:
        if error is None:
            topic = message.topic()
            self.delivered[topic] = self.delivered.get(topic, 0) + 1
        elif len(self.failures) < 5:
            self.failures.append(f"{message.topic()}: {error.str()}")

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        while True:
            try:
                self._producer.produce(topic, value, key, on_delivery=self._on_delivery)
                break
            except BufferError:  # the local queue is full: let the brokers catch up
                self._producer.poll(0.05)
        self._producer.poll(0)

    def flush(self, timeout: float = 120.0) -> None:
        remaining = self._producer.flush(timeout)
        if remaining:
            detail = self._errors.last.str() if self._errors.last is not None else None
            raise unavailable(self.settings, f"{remaining} messages undelivered; {detail}")
        if self.failures:
            raise ProduceError(
                "Kafka refused messages: "
                + "; ".join(self.failures)
                + ". Nothing was retried after the error; run the produce again once fixed "
                "(topics keep what was delivered)."
            )


def topic_directories(root: Path, only: Sequence[str] = ()) -> list[str]:
    """The contract topics present under ``root`` (or ``only``), in contract order."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no topic directory {root}")
    unknown = [name for name in only if name not in TOPICS]
    if unknown:
        raise ValueError(
            f"not a contract topic: {', '.join(unknown)} (topics: {', '.join(TOPICS)})"
        )
    wanted = only or TOPICS
    return [name for name in wanted if (root / name).is_dir()]


def directory_bytes(root: Path, topics: Iterable[str]) -> int:
    return sum(path.stat().st_size for topic in topics for path in list_complete_files(root, topic))


def produce_directories(
    settings: Settings,
    root: Path,
    topics: Sequence[str] = (),
    *,
    create: bool = True,
    on_progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Publish ``root/<topic>/`` files into Kafka; return messages acknowledged per topic.

    ``on_progress(topic, bytes)`` is called with the bytes of input consumed since the last
    call. Missing topics are created first with the configured partitions.
    """
    names = topic_directories(root, topics)
    if create and names:
        create_topics(settings, names)
    producer = TopicProducer(settings)
    for topic in names:
        producer.delivered.setdefault(topic, 0)
        for path in list_complete_files(root, topic):
            sent_bytes = 0
            for line in file_lines(path):
                producer.send(topic, line, message_key(topic, line))
                sent_bytes += len(line) + 1
                if on_progress is not None and sent_bytes >= 1 << 20:
                    on_progress(topic, sent_bytes)
                    sent_bytes = 0
            if on_progress is not None and sent_bytes:
                on_progress(topic, sent_bytes)
    producer.flush()
    return {topic: producer.delivered.get(topic, 0) for topic in names}
