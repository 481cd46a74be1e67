"""Arrival-order replay and the accounting identities, on hand-written output files (no JVM)."""

from __future__ import annotations

import json
from pathlib import Path

from classpulse.flink.accounting import account
from classpulse.flink.replay import part_file_order, write_replay


def row(split: str, n: int) -> str:
    return json.dumps({"source_split": split, "n": n}, separators=(",", ":"))


def test_replay_orders_by_source_file_then_position(tmp_path: Path) -> None:
    topic = tmp_path / "agora_record_clean"
    topic.mkdir()
    # subtask 0 read b then a; subtask 1 read c, and its first part file rolled mid-file
    (topic / "part-u-0-0").write_text("\n".join([row("/t/b", 1), row("/t/b", 2), row("/t/a", 1)]))
    (topic / "part-u-1-0").write_text(row("/t/c", 1) + "\n" + row("/t/c", 2) + "\n")
    (topic / "part-u-1-1").write_text(row("/t/c", 3) + "\n\n")
    (topic / ".part-u-0-1.inprogress.x").write_text(row("/t/z", 9) + "\n")  # never read
    replay = write_replay(topic, tmp_path / "staging")
    lines = [json.loads(line) for line in replay.path.read_text().splitlines()]
    assert [(item["source_split"], item["n"]) for item in lines] == [
        ("/t/a", 1),
        ("/t/b", 1),
        ("/t/b", 2),
        ("/t/c", 1),
        ("/t/c", 2),
        ("/t/c", 3),
    ]
    assert (replay.lines, replay.splits) == (6, 3)
    assert sorted(
        ["part-u-1-10", "part-u-1-9", "part-u-0-2"], key=lambda n: part_file_order(Path(n))
    ) == [
        "part-u-0-2",
        "part-u-1-9",
        "part-u-1-10",
    ]


def test_accounting_takes_the_newest_row_per_key_and_checks_every_identity(tmp_path: Path) -> None:
    def write(topic: str, rows: list[dict]) -> None:
        (tmp_path / topic).mkdir(exist_ok=True)
        (tmp_path / topic / "part-0").write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    write(
        "topic_accounting",
        [
            {
                "topic": "qos_log",
                "source_split": "f1",
                "messages_read": 2,
                "accepted": 2,
                "rejected": 0,
            },
            {
                "topic": "qos_log",
                "source_split": "f1",
                "messages_read": 4,
                "accepted": 3,
                "rejected": 1,
            },
            {
                "topic": "qos_log",
                "source_split": "f2",
                "messages_read": 1,
                "accepted": 1,
                "rejected": 0,
            },
        ],
    )
    write("rejected_messages", [{"topic": "qos_log", "reason": "wrong_type", "payload": "{}"}])
    write(
        "mart_accounting",
        [{"mart": "av_quality_30s", "events_in": 3, "events_counted": 2, "events_late": 1}],
    )
    write("late_events", [{"mart": "av_quality_30s"}])
    write("av_quality_30s", [{"event_count": 2}])
    (tmp_path / "qos_source").mkdir()
    (tmp_path / "qos_source" / "f1").write_text("a\nb\nc\nd\n")
    (tmp_path / "qos_source" / "f2").write_text("e")  # no final newline: still a message
    result = account(tmp_path, {"qos_log": tmp_path / "qos_source"}, ("av_quality_30s",))
    (topic,) = result.topics
    assert (topic.messages_read, topic.accepted, topic.rejected, topic.lines_in_files) == (
        5,
        4,
        1,
        5,
    )
    assert result.rejected_by_reason == {"qos_log": {"wrong_type": 1}}
    assert result.holds
    write("late_events", [])  # a late event that never reached late_events breaks the identity
    assert not account(tmp_path, {"qos_log": tmp_path / "qos_source"}, ("av_quality_30s",)).holds
