"""Topic files into Kafka once (classpulse.kafka.feed): the local stages' way in.

A real broker (the session's, emptied), a home of the test's own. What the topics hold is
read back with a real consumer and compared with the lines written, counted here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from kafka_helpers import read_records, truncate_topics

from classpulse.config import Settings
from classpulse.kafka.feed import feed_directory, input_topics


def write(directory: Path, topic: str, name: str, lines: list[str]) -> None:
    (directory / topic).mkdir(parents=True, exist_ok=True)
    (directory / topic / name).write_text("".join(line + "\n" for line in lines))


def values(settings: Settings, topic: str) -> list[str]:
    return sorted(record.value.decode() for record in read_records(settings, topic))


def test_input_topics_come_from_the_repo_files(empty_kafka: Settings) -> None:
    topics = input_topics(empty_kafka)
    # a pipeline source, a landing topic no Flink job writes (a preheat input)...
    assert {"qos_log", "agora_record", "lesson_schedule"} <= set(topics)
    # ...but never a topic the pipeline writes
    assert not {"qos_log_clean", "rejected_messages", "av_quality_30s"} & set(topics)


def test_each_file_is_produced_once(empty_kafka: Settings, tmp_path: Path) -> None:
    settings = replace(empty_kafka, home=tmp_path / "home")
    topics = tmp_path / "topics"
    first = [json.dumps({"classroom_id": f"c{n % 3}", "n": n}) for n in range(50)]
    write(topics, "qos_log", "001.jsonl", first)
    write(topics, "lesson_schedule", "001.jsonl", ['{"lesson_id": 1}', '{"lesson_id": 2}'])
    write(topics, "qos_log_clean", "001.jsonl", ['{"written": "by the pipeline only"}'])
    (topics / "qos_log" / ".002.jsonl.inprogress").write_text('{"partial": true}\n')

    sent = feed_directory(settings, topics)
    assert sent == {"qos_log": 50, "lesson_schedule": 2}
    assert feed_directory(settings, topics) == {}  # nothing twice
    assert values(settings, "qos_log") == sorted(first)

    # a new file, and a file whose content changed (a new day under the same name)
    second = ['{"classroom_id": "c9", "n": 50}']
    write(topics, "qos_log", "002.jsonl", second)
    write(topics, "lesson_schedule", "001.jsonl", ['{"lesson_id": 3}'])
    assert feed_directory(settings, topics) == {"qos_log": 1, "lesson_schedule": 1}
    assert values(settings, "qos_log") == sorted(first + second)

    # the topics emptied (what they held is gone): every file is produced again
    truncate_topics(settings)
    assert feed_directory(settings, topics) == {"qos_log": 51, "lesson_schedule": 1}
