"""Issue 13: every complete topic file but hidden ones is read (``_name`` files too), and a run
whose accounting identities do not hold fails loudly instead of reporting success."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flink_helpers import read_topic, settings_for

from classpulse import pipeline
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
    (directory / "20261120T020000Z.jsonl").write_text(qos_line(3, TEN + 1_000) + "\n")
    (directory / ".20261120T030000Z.jsonl.inprogress").write_text(qos_line(4, TEN) + "\n")


def test_files_whose_names_start_with_an_underscore_are_read(tmp_path: Path) -> None:
    topics = tmp_path / "topics"
    write_qos_topic(topics)
    # the independent count: the contract's reader (every complete file but hidden ones)
    assert len(read_topic_lines(topics, "qos_log")) == 3

    summary = pipeline.run_flink(
        settings_for(tmp_path / "home", topics), jobs=("clean_qos_log",), topics_dir=topics
    )

    assert summary["accounting_holds"] is True
    assert summary["messages_read"] == 3
    rows = read_topic(topics, "qos_log_clean")
    assert sorted(row["user_id"] for row in rows) == [1, 2, 3]
    # the staged names keep the file-name order of the topic directory
    splits = sorted({row["source_split"] for row in rows})
    assert [split.rsplit("/", 1)[1] for split in splits] == [
        "f20261120T020000Z.jsonl",
        "f_early.jsonl",
    ]


def test_a_run_whose_accounting_does_not_hold_fails_loudly(tmp_path: Path) -> None:
    topics = tmp_path / "topics"
    write_qos_topic(topics)
    # a stray dead letter left in an output another job also writes (so the run appends to it):
    # rejected (0) no longer equals the rows of rejected_messages (1)
    stray = topics / "rejected_messages"
    stray.mkdir(parents=True)
    (stray / "part-stray-0-0").write_text(
        json.dumps(
            {
                "topic": "qos_log",
                "payload": "{",
                "reason": "malformed_json",
                "source_split": "x",
                "source_offset": None,
                "ingested_at": "2026-11-20 10:00:00.000",
                "processed_at": "2026-11-20 10:00:00.000",
            }
        )
        + "\n"
    )

    with pytest.raises(pipeline.StageError, match="accounting identities do not hold") as caught:
        pipeline.run_flink(
            settings_for(tmp_path / "home", topics), jobs=("clean_qos_log",), topics_dir=topics
        )
    assert "qos_log" in str(caught.value) and "dead letters 1" in str(caught.value)
