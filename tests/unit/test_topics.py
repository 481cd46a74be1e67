"""Local topic directories (atomic files, listing) and the Kafka path's failure mode."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from classpulse.topics import (
    KAFKA_BOOTSTRAP_VARIABLE,
    TopicDirectoryWriter,
    TopicSinkError,
    kafka_bootstrap_servers,
    list_complete_files,
    open_kafka_sink,
    read_topic_lines,
    write_file_atomically,
)


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_writer_leaves_only_complete_files(tmp_path: Path) -> None:
    writer = TopicDirectoryWriter(tmp_path)
    writer.write_chunk("qos_log", "20261121T010000Z.jsonl", ['{"a":1}', '{"a":2}'])
    writer.write_chunk("qos_log", "20261121T000000Z.jsonl", ['{"a":0}'])
    writer.write_chunk("qos_log", "empty.jsonl", [])
    writer.close()

    names = sorted(path.name for path in (tmp_path / "qos_log").iterdir())
    assert names == ["20261121T000000Z.jsonl", "20261121T010000Z.jsonl"]
    assert (tmp_path / "qos_log" / "20261121T010000Z.jsonl").read_bytes() == b'{"a":1}\n{"a":2}\n'
    assert writer.files_written == 2


def test_listing_skips_hidden_and_in_progress_files(tmp_path: Path) -> None:
    topic = tmp_path / "agora_record"
    topic.mkdir()
    (topic / "b.jsonl").write_text('{"x":2}\n')
    (topic / "a.jsonl").write_text('{"x":1}\n')
    (topic / ".c.jsonl.inprogress").write_text('{"x":3')
    (topic / ".hidden").write_text("")
    (topic / "sub").mkdir()

    assert [path.name for path in list_complete_files(tmp_path, "agora_record")] == [
        "a.jsonl",
        "b.jsonl",
    ]
    assert read_topic_lines(tmp_path, "agora_record") == [
        ("a.jsonl", 1, '{"x":1}'),
        ("b.jsonl", 1, '{"x":2}'),
    ]
    assert list_complete_files(tmp_path, "missing_topic") == []


def test_atomic_write_replaces_without_leftovers(tmp_path: Path) -> None:
    write_file_atomically(tmp_path, "f.jsonl", b"one\n")
    write_file_atomically(tmp_path, "f.jsonl", b"two\n")
    assert [path.name for path in tmp_path.iterdir()] == ["f.jsonl"]
    assert (tmp_path / "f.jsonl").read_bytes() == b"two\n"


@pytest.mark.parametrize("name", ["", ".hidden.jsonl", "a/b.jsonl"])
def test_hidden_or_nested_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        write_file_atomically(tmp_path, name, b"x\n")


def test_write_errors_surface_on_close(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("")
    writer = TopicDirectoryWriter(blocker)
    with pytest.raises(OSError):  # from the write itself if already done, else from close
        writer.write_chunk("qos_log", "a.jsonl", ["{}"])
        writer.close()


def test_bootstrap_servers_come_from_the_environment() -> None:
    assert (
        kafka_bootstrap_servers({KAFKA_BOOTSTRAP_VARIABLE: "k1:9092,k2:9092"}) == "k1:9092,k2:9092"
    )
    assert kafka_bootstrap_servers({}) == "127.0.0.1:9092"


def test_unreachable_kafka_gives_a_clear_error() -> None:
    address = f"127.0.0.1:{closed_port()}"
    with pytest.raises(TopicSinkError) as caught:  # pytest-timeout bounds a hang
        open_kafka_sink(address, connect_timeout_ms=1000)
    message = str(caught.value)
    assert f"cannot reach Kafka at {address}" in message
    assert KAFKA_BOOTSTRAP_VARIABLE in message
