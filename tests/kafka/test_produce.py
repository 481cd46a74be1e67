"""`classpulse produce --topics DIR`: every line of every complete file, once, in file order per
partition, keyed so a room's (or an id's) messages share a partition."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from kafka_helpers import cli_environment, end_offsets, read_records

from classpulse.config import Settings
from classpulse.kafka.admin import create_topics
from classpulse.kafka.produce import (
    file_lines,
    message_key,
    produce_directories,
    topic_directories,
)

TIMELINE = "timeline_client_topic"
STUDENTS = "uc_account-student"


def timeline_line(room: object, sequence: int) -> str:
    return json.dumps(
        {"createTime": 1700000000000 + sequence, "data": {"roomid": room, "msgid": sequence}}
    )


def write_topics(root: Path) -> dict[str, list[str]]:
    """Two topics of several files (file order != creation order), bad lines, hidden files."""
    expected: dict[str, list[str]] = defaultdict(list)
    timeline = root / TIMELINE
    timeline.mkdir(parents=True)
    sequence = 0
    for name in ("part-0002.jsonl", "part-0001.jsonl", "part-0010"):
        lines = []
        for _ in range(400):
            room = 600000 + sequence % 9
            # ids arrive as numbers or numeric strings: both are the same room
            lines.append(timeline_line(room if sequence % 2 else str(room), sequence))
            sequence += 1
            if sequence % 97 == 0:
                lines.append(f'{{"createTime": {sequence}, "data": {{"roomid": 6000')  # malformed
            if sequence % 131 == 0:
                lines.append(f'{{"a":{sequence}}} trailing')
        (timeline / name).write_text("\n".join(lines) + "\n")
    for name in sorted(("part-0001.jsonl", "part-0002.jsonl", "part-0010")):
        expected[TIMELINE] += (timeline / name).read_text().splitlines()
    # hidden and in-progress files are not complete: never produced
    (timeline / ".part-0011.inprogress").write_text(timeline_line(1, -1) + "\n")
    (timeline / ".hidden").write_text(timeline_line(1, -2) + "\n")
    students = root / STUDENTS
    students.mkdir()
    versions = [
        json.dumps({"id": student_id, "channel_id": version, "update_time": "2026-12-01 10:00:00"})
        for version in range(5)
        for student_id in ("s1", "s2", "s3")
    ]
    # the last line has no newline: still a message
    (students / "snapshot").write_text("\n".join(versions))
    expected[STUDENTS] = versions
    (root / "not_a_topic").mkdir()
    (root / "not_a_topic" / "f").write_text("{}\n")
    return expected


def test_message_keys_follow_the_room_or_the_id() -> None:
    assert message_key(TIMELINE, b'{"data": {"roomid": 42}}') == b"42"
    assert message_key(TIMELINE, b'{"data": {"roomid": "42"}}') == b"42"
    assert message_key("agora_record", b'{"classroom_id": "c-7"}') == b"c-7"
    assert message_key("qos_log", b'{"classroom_id": 7.0}') == b"7"
    assert message_key(STUDENTS, b'{"id": "s1"}') == b"s1"
    for bad in (b'{"data": ', b'{"data": {}}', b"[1]", b'{"data": {"roomid": true}}', b""):
        assert message_key(TIMELINE, bad) is None, bad


def test_a_key_holding_a_lone_surrogate_is_kept_bytewise() -> None:
    # a JSON escape may name half a surrogate pair: the key is its bytes, not an error
    assert message_key(STUDENTS, b'{"id":"\\ud835x"}') == b"\xed\xa0\xb5x"


def test_lines_end_at_lf_and_a_crlf_line_end_is_a_line_end(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b'{"a":1}\r\n{"b":2}\r\r\n{"c":"\xe2\x80\xa8"}\n\r\n{"d":4}')
    assert list(file_lines(path)) == [
        b'{"a":1}',
        b'{"b":2}\r',  # one CRLF is the line end; the CR before it is the message's
        b'{"c":"\xe2\x80\xa8"}',  # U+2028 inside a message
        b"",
        b'{"d":4}',  # the last line needs no line end
    ]


def test_topic_directories_are_the_contract_topics_present(tmp_path: Path) -> None:
    write_topics(tmp_path)
    assert topic_directories(tmp_path) == [TIMELINE, STUDENTS]
    assert topic_directories(tmp_path, [STUDENTS]) == [STUDENTS]
    with pytest.raises(ValueError, match="not a contract topic"):
        topic_directories(tmp_path, ["not_a_topic"])


def test_produce_keeps_every_line_once_and_in_file_order_per_partition(
    kafka_broker: Settings, tmp_path: Path
) -> None:
    expected = write_topics(tmp_path)
    create_topics(kafka_broker, [TIMELINE, STUDENTS])  # other tests may have written to them
    before = {topic: end_offsets(kafka_broker, topic) for topic in expected}
    progress: list[int] = []

    counts = produce_directories(
        kafka_broker, tmp_path, on_progress=lambda _topic, size: progress.append(size)
    )

    assert counts == {topic: len(lines) for topic, lines in expected.items()}
    assert sum(progress) >= sum(len("\n".join(lines)) for lines in expected.values())
    for topic, lines in expected.items():
        records = read_records(kafka_broker, topic, since=before[topic])
        values = [record.value.decode() for record in records]
        assert sorted(values) == sorted(lines), topic  # each line exactly once
        position = {line: index for index, line in enumerate(lines)}
        assert len(position) == len(lines)  # lines are unique, so positions identify them
        partitions_of_key: dict[bytes | None, set[int]] = defaultdict(set)
        by_partition: dict[int, list[int]] = defaultdict(list)
        for record in records:
            by_partition[record.partition].append(position[record.value.decode()])
            if record.key is not None:
                partitions_of_key[record.key].add(record.partition)
        for partition, positions in by_partition.items():
            assert positions == sorted(positions), f"{topic}[{partition}] out of file order"
        assert all(len(partitions) == 1 for partitions in partitions_of_key.values())
        assert {record.key for record in records} - {None} == {
            message_key(topic, line.encode()) for line in lines
        } - {None}
    # "42" and 42 are one key: nine rooms, nine keys
    timeline_keys = {r.key for r in read_records(kafka_broker, TIMELINE, since=before[TIMELINE])}
    assert len(timeline_keys - {None}) == 9


def test_produce_cli_prints_a_count_per_topic(kafka_broker: Settings, tmp_path: Path) -> None:
    expected = write_topics(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "classpulse.cli", "produce", "--topics", str(tmp_path)],
        capture_output=True,
        text=True,
        env=cli_environment(kafka_broker),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = {
        cells[0]: cells[1]
        for line in result.stdout.splitlines()
        if len(cells := [cell.strip() for cell in line.strip("│┃ ").split("│")]) == 2
    }
    assert rows[TIMELINE] == f"{len(expected[TIMELINE]):,}"
    assert rows[STUDENTS] == f"{len(expected[STUDENTS]):,}"
    assert "not_a_topic" not in result.stdout


def test_produce_to_an_unreachable_broker_says_what_to_do(tmp_path: Path) -> None:
    write_topics(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "classpulse.cli", "produce", "--topics", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"},
        timeout=300,
    )
    assert result.returncode == 1
    assert "classpulse kafka start" in result.stderr


def test_generate_kafka_produces_the_same_lines_as_the_files(
    kafka_broker: Settings, tmp_path: Path
) -> None:
    """`classpulse generate --kafka` and `generate` + `produce` put the same messages in Kafka."""
    options = ["--scale", "0.02", "--seed", "5", "--start", "2026-12-01"]
    files = tmp_path / "files"
    generated = subprocess.run(
        [sys.executable, "-m", "classpulse.cli", "generate", "--out", str(files), *options],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stderr
    names = topic_directories(files)
    create_topics(kafka_broker, names)
    before = {topic: end_offsets(kafka_broker, topic) for topic in names}
    produced = subprocess.run(
        [sys.executable, "-m", "classpulse.cli", "generate", "--kafka"]
        + ["--out", str(tmp_path / "manifest"), *options],
        capture_output=True,
        text=True,
        env=cli_environment(kafka_broker),
        timeout=300,
    )
    assert produced.returncode == 0, produced.stderr
    for topic in names:
        lines = [
            line
            for path in sorted((files / topic).iterdir())
            if not path.name.startswith(".")
            for line in path.read_text().splitlines()
        ]
        records = read_records(kafka_broker, topic, since=before[topic])
        assert sorted(record.value.decode() for record in records) == sorted(lines), topic
        for record in records:
            assert record.key == message_key(topic, record.value), topic
