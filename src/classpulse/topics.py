"""Source topics: local topic directories and the Kafka producer path.

A topic is a directory ``<topics_root>/<topic>/`` of JSON-lines files (one message per
line), see ``shared/spec/DATA_CONTRACT.md``. A file is complete once it carries its final
name: :class:`TopicDirectoryWriter` writes ``.<name>.inprogress``, fsyncs it and renames it
to ``<name>``, so a reader that skips hidden files never sees a partial file. :func:`list_complete_files` is that reader's listing (file-name order).

With ``--kafka`` the same lines go to Kafka topics of the same names through
:class:`KafkaTopicSink` (confluent-kafka, keyed like ``classpulse produce``); the bootstrap
servers come from ``CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

TOPICS: tuple[str, ...] = (
    "timeline_client_topic",
    "agora_record",
    "qos_log",
    "uc_account-student",
    "uc_account-user",
    "blink_stg_activity__channel_name_dictionary_da",
    "data_pack_order_info",
)

KAFKA_BOOTSTRAP_VARIABLE = "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS"
DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:9092"
INPROGRESS_SUFFIX = ".inprogress"


class TopicSinkError(RuntimeError):
    """A sink cannot accept messages (unreachable broker, unwritable directory)."""


class TopicSink(Protocol):
    """Where generated messages go: one call per chunk of one topic."""

    def write_chunk(self, topic: str, name: str, lines: Sequence[str]) -> None: ...

    def close(self) -> None: ...


def check_file_name(name: str) -> None:
    """Refuse names that would be hidden, nested or empty."""
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise ValueError(f"invalid topic file name {name!r}")


def write_file_atomically(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``directory/name``: hidden in-progress file, fsync, rename.

    The directory itself is not fsynced: readers only need the rename to be atomic, and
    one sync per file already dominates the cost of small files.
    """
    check_file_name(name)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    temporary = directory / f".{name}{INPROGRESS_SUFFIX}"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    return final


def encode_lines(lines: Iterable[str]) -> bytes:
    """One message per line, UTF-8, every line newline-terminated."""
    text = "\n".join(lines)
    return (text + "\n").encode("utf-8") if text else b""


class TopicDirectoryWriter:
    """Writes complete JSON-lines files into ``<root>/<topic>/``.

    Files are written by one background thread, in the order they were handed over, so the
    generator keeps working while the disk syncs; ``close`` waits for the last file and
    re-raises the first write error.
    """

    def __init__(self, root: Path, *, max_pending: int = 8) -> None:
        self.root = Path(root)
        self.files_written = 0
        self._max_pending = max_pending
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="topic-writer")
        self._pending: deque[Future[Path]] = deque()

    def topic_directory(self, topic: str) -> Path:
        check_file_name(topic)
        return self.root / topic

    def write_chunk(self, topic: str, name: str, lines: Sequence[str]) -> None:
        if not lines:
            return
        check_file_name(name)
        directory = self.topic_directory(topic)
        self._pending.append(self._executor.submit(self._write, directory, name, lines))
        self.files_written += 1
        while len(self._pending) > self._max_pending or (self._pending and self._pending[0].done()):
            self._pending.popleft().result()

    def _write(self, directory: Path, name: str, lines: Sequence[str]) -> Path:
        return write_file_atomically(directory, name, encode_lines(lines))

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._executor.shutdown(wait=True)


def list_complete_files(root: Path, topic: str) -> list[Path]:
    """Complete files of a topic in file-name order (hidden and in-progress files skipped)."""
    directory = Path(root) / topic
    if not directory.is_dir():
        return []
    return sorted(
        (
            entry
            for entry in directory.iterdir()
            if entry.is_file() and not entry.name.startswith(".")
        ),
        key=lambda path: path.name,
    )


def read_topic_lines(root: Path, topic: str) -> list[tuple[str, int, str]]:
    """All lines of a topic as ``(file name, 1-based line number, text)`` in file order."""
    lines: list[tuple[str, int, str]] = []
    for path in list_complete_files(root, topic):
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            lines.append((path.name, number, line))
    return lines


def kafka_bootstrap_servers(environ: dict[str, str] | None = None) -> str:
    """Bootstrap servers from ``CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS`` (default 127.0.0.1:9092)."""
    env = os.environ if environ is None else environ
    return env.get(KAFKA_BOOTSTRAP_VARIABLE, "").strip() or DEFAULT_KAFKA_BOOTSTRAP


class KafkaTopicSink:
    """Produces every line as one Kafka record (value = the raw line, UTF-8), keyed like
    ``classpulse produce`` (room or id, :func:`classpulse.kafka.produce.message_key`), with
    the same idempotent ``acks=all`` producer, so a room's lines keep their order.

    Malformed lines are produced as they are (without a key): the consumer side must reject
    them, exactly as it does for files. Each chunk is flushed before the next one is made.
    """

    def __init__(self, bootstrap_servers: str, *, connect_timeout_ms: int = 3000) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.messages_sent = 0
        self._failures: list[str] = []
        self._producer = self._connect(connect_timeout_ms)

    def _connect(self, timeout_ms: int) -> Any:
        from confluent_kafka import KafkaException, Producer

        from classpulse.kafka.client import ErrorRecorder, client_config
        from classpulse.kafka.produce import PRODUCER_SETTINGS

        producer = Producer(
            client_config(self.bootstrap_servers, error_cb=ErrorRecorder(), **PRODUCER_SETTINGS)
        )
        try:  # librdkafka connects lazily: ask for metadata to fail now, not mid-generation
            producer.list_topics(timeout=max(timeout_ms, 500) / 1000)
        except KafkaException as error:
            raise TopicSinkError(self._describe(error)) from error
        return producer

    def _describe(self, error: object) -> str:
        return (
            f"cannot reach Kafka at {self.bootstrap_servers} ({error}); "
            f"set {KAFKA_BOOTSTRAP_VARIABLE} to a reachable broker list"
        )

    def _on_delivery(self, error: Any, _message: Any) -> None:
        if error is not None and len(self._failures) < 5:
            self._failures.append(error.str())

    def write_chunk(self, topic: str, name: str, lines: Sequence[str]) -> None:
        from classpulse.kafka.produce import message_key

        for line in lines:
            value = line.encode("utf-8")
            while True:
                try:
                    self._producer.produce(
                        topic, value, message_key(topic, value), on_delivery=self._on_delivery
                    )
                    break
                except BufferError:  # the local queue is full: let the brokers catch up
                    self._producer.poll(0.05)
        remaining = self._producer.flush(60)
        if remaining or self._failures:
            detail = "; ".join(self._failures) or f"{remaining} messages undelivered"
            raise TopicSinkError(self._describe(detail))
        self.messages_sent += len(lines)

    def close(self) -> None:
        self._producer.flush(5)


def open_kafka_sink(
    bootstrap_servers: str | None = None, *, connect_timeout_ms: int = 3000
) -> KafkaTopicSink:
    """Connect to Kafka now, so an unreachable broker fails before anything is generated."""
    servers = bootstrap_servers or kafka_bootstrap_servers()
    return KafkaTopicSink(servers, connect_timeout_ms=connect_timeout_ms)
