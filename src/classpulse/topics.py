"""Source topics: local topic directories and the Kafka producer path.

A topic is a directory ``<topics_root>/<topic>/`` of JSON-lines files (one message per
line), see ``shared/spec/DATA_CONTRACT.md``. A file is complete once it carries its final
name: :class:`TopicDirectoryWriter` writes ``.<name>.inprogress``, fsyncs it and renames it
to ``<name>``, so a reader that skips hidden files never sees a partial file. :func:`list_complete_files` is that reader's listing (file-name order).

With ``--kafka`` the same lines go to Kafka topics of the same names through
:class:`KafkaTopicSink`; ``kafka-python`` is imported only there, and the bootstrap
servers come from ``CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS``.
"""

from __future__ import annotations

import contextlib
import os
import warnings
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
    """Produces every line as one Kafka record (value = the raw line, UTF-8, no key).

    Malformed lines are produced as they are: the consumer side must reject them, exactly
    as it does for files. Records of one chunk keep their order (one partition per key-less
    batch is not guaranteed by Kafka; use single-partition topics to keep file order).
    """

    def __init__(self, bootstrap_servers: str, *, connect_timeout_ms: int = 3000) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.messages_sent = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # kafka-python's resource loading
            self._producer, self._kafka_error = self._connect(connect_timeout_ms)

    def _connect(self, timeout_ms: int) -> tuple[Any, type[Exception]]:
        try:
            from kafka import KafkaProducer
            from kafka.errors import KafkaError
        except ImportError as error:  # pragma: no cover - the package is a project dependency
            raise TopicSinkError("--kafka needs the kafka-python package (uv sync)") from error
        try:
            producer = KafkaProducer(
                bootstrap_servers=[server.strip() for server in self.bootstrap_servers.split(",")],
                bootstrap_timeout_ms=timeout_ms,
                request_timeout_ms=max(timeout_ms, 1000),
                max_block_ms=max(timeout_ms, 1000),
                linger_ms=20,
                acks=1,
                enable_idempotence=False,
            )
        except (KafkaError, OSError, ValueError) as error:
            raise TopicSinkError(self._describe(error)) from error
        return producer, KafkaError

    def _describe(self, error: BaseException) -> str:
        return (
            f"cannot reach Kafka at {self.bootstrap_servers} ({type(error).__name__}: {error}); "
            f"set {KAFKA_BOOTSTRAP_VARIABLE} to a reachable broker list"
        )

    def write_chunk(self, topic: str, name: str, lines: Sequence[str]) -> None:
        try:
            for line in lines:
                self._producer.send(topic, line.encode("utf-8"))
            self._producer.flush()
        except self._kafka_error as error:
            raise TopicSinkError(self._describe(error)) from error
        self.messages_sent += len(lines)

    def close(self) -> None:
        with contextlib.suppress(self._kafka_error):
            self._producer.close(timeout=5)


def open_kafka_sink(
    bootstrap_servers: str | None = None, *, connect_timeout_ms: int = 3000
) -> KafkaTopicSink:
    """Connect to Kafka now, so an unreachable broker fails before anything is generated."""
    servers = bootstrap_servers or kafka_bootstrap_servers()
    return KafkaTopicSink(servers, connect_timeout_ms=connect_timeout_ms)
