"""Topic files are an import format (issue 13, issue 10): every complete file but hidden ones is
published (``_name`` files too, in file-name order, lines in order), and the pipeline reads what
Kafka holds, each message once."""

from __future__ import annotations

import json
from pathlib import Path

from flink_helpers import read_topic, run_all

from classpulse.config import Settings
from classpulse.flink.session import FlinkSession
from classpulse.topics import read_topic_lines

TEN = 1_795_658_400_000  # 2026-11-20 10:00:00 Asia/Shanghai


def qos_line(user_id: int, data_time: int, sub_event: str = "PPT_PAGE") -> str:
    message = {
        "classroom_id": "c1",
        "user_type": "student",
        "user_id": user_id,
        "event_time": data_time + 50,
        "sub_event": sub_event,
        "extra": {"data_time": data_time},
    }
    return json.dumps(message, separators=(",", ":"))


def write_qos_topic(topics: Path) -> None:
    directory = topics / "qos_log"
    directory.mkdir(parents=True)
    (directory / "_early.jsonl").write_text(qos_line(1, TEN) + "\n" + qos_line(2, TEN) + "\n")
    (directory / "20261120T020000Z.jsonl").write_text(qos_line(3, TEN + 1_000) + "\r\n")
    (directory / ".20261120T030000Z.jsonl.inprogress").write_text(qos_line(4, TEN) + "\n")


def test_files_whose_names_start_with_an_underscore_are_published_and_read(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    topics = tmp_path / "topics"
    write_qos_topic(topics)
    # the independent count: the contract's reader (every complete file but hidden ones)
    assert len(read_topic_lines(topics, "qos_log")) == 3

    run = run_all(flink_session, flink_kafka, tmp_path / "home", topics, ("clean_qos_log",))

    assert run.produced == run.held == {"qos_log": 3}
    assert run.accounting.holds
    (counts,) = run.accounting.topics
    assert (counts.messages_read, counts.accepted, counts.rejected) == (3, 3, 0)
    rows = read_topic(run, "qos_log_clean")
    # file-name order ('2' sorts before '_'), then line order: the offsets of one partition
    assert [row["user_id"] for row in rows] == [3, 1, 2]
    assert {row["source_split"] for row in rows} == {"qos_log/0"}
    # the CRLF line end is not part of the message (a valid object either way)
    assert [row["event_time"] - TEN for row in rows] == [1_050, 50, 50]
