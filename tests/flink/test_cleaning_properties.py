"""Differential test of the cleaning rules (issue 13): the real cleaning jobs against an
independent classifier written from the contract (contract_classifier.py).

Hypothesis writes messages for all seven source topics in arbitrary JSON layouts, valid and
invalid (message_strategies.py). Each run produces them into the Kafka source topics of a real
broker (one message per line, in order), runs the seven cleaning jobs once on the PyFlink
mini-cluster over Kafka, reads the outputs back read_committed, and compares every cleaned row,
every rejection (topic, raw payload, reason) and every topic's counts with the classifier's
verdicts.

Bounded for `make test`: one run of CLASSPULSE_PROPERTY_MESSAGES (default 60) messages per topic.
A bigger run, e.g. 20 runs of 500 messages per topic:
    CLASSPULSE_PROPERTY_RUNS=20 CLASSPULSE_PROPERTY_MESSAGES=500 \
        .venv/bin/pytest tests/flink/test_cleaning_properties.py -q
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from contract_classifier import TOPICS, classify
from flink_helpers import read_topic, run_all
from message_strategies import sample_lines

from classpulse.config import Settings
from classpulse.flink.session import FlinkSession

RUNS = int(os.environ.get("CLASSPULSE_PROPERTY_RUNS", "1"))
MESSAGES = int(os.environ.get("CLASSPULSE_PROPERTY_MESSAGES", "60"))

CLEANED = {
    "timeline_client_topic": "timeline_analysis_student",
    "agora_record": "agora_record_clean",
    "qos_log": "qos_log_clean",
    "uc_account-student": "uc_account_student_clean",
    "uc_account-user": "uc_account_user_clean",
    "blink_stg_activity__channel_name_dictionary_da": "channel_name_dictionary_clean",
    "data_pack_order_info": "data_pack_order_info_clean",
}
CLEAN_JOBS = tuple(
    f"clean_{name}"
    for name in (
        "timeline_client_topic",
        "agora_record",
        "qos_log",
        "uc_account_student",
        "uc_account_user",
        "channel_name_dictionary",
        "data_pack_order_info",
    )
)


def message_of(line: str) -> str:
    """The message a line carries: a CRLF line end is a line end."""
    return line[:-1] if line.endswith("\r") else line


def as_key(row: dict[str, Any], columns: list[str]) -> tuple[Any, ...]:
    return tuple(row.get(column) for column in columns)


def expected_outputs(lines: dict[str, list[str]]) -> tuple[Counter, dict[str, Counter], dict]:
    rejected: Counter = Counter()
    cleaned: dict[str, Counter] = {}
    counts: dict[str, tuple[int, int, int]] = {}
    for topic, topic_lines in lines.items():
        columns = [spec.column for spec in TOPICS[topic]]
        rows: Counter = Counter()
        accepted = 0
        for line in topic_lines:
            message = message_of(line)
            verdict = classify(topic, message)
            if verdict.reason is not None:
                rejected[(topic, message, verdict.reason)] += 1
                continue
            accepted += 1
            assert verdict.row is not None
            if topic == "timeline_client_topic":
                if verdict.event is not None:  # only classified events are written
                    rows[(*as_key(verdict.row, columns), verdict.event)] += 1
            else:
                rows[as_key(verdict.row, columns)] += 1
        cleaned[topic] = rows
        counts[topic] = (len(topic_lines), accepted, len(topic_lines) - accepted)
    return rejected, cleaned, counts


def describe(differences: Counter, limit: int = 8) -> str:
    return "\n".join(f"  {count:+d} {item!r}" for item, count in list(differences.items())[:limit])


@pytest.mark.parametrize("run", range(RUNS))
def test_cleaning_jobs_agree_with_the_contract_classifier(
    run: int, flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    lines = {topic: sample_lines(topic, MESSAGES) for topic in TOPICS}
    topics = tmp_path / "topics"
    for topic, topic_lines in lines.items():
        (topics / topic).mkdir(parents=True)
        (topics / topic / "batch.jsonl").write_bytes(
            ("\n".join(topic_lines) + "\n").encode("utf-8", "surrogatepass")
        )
    result = run_all(flink_session, flink_kafka, tmp_path / "home", topics, jobs=CLEAN_JOBS)

    want_rejected, want_cleaned, want_counts = expected_outputs(lines)
    got_rejected = Counter(
        (row["topic"], row["payload"], row["reason"])
        for row in read_topic(result, "rejected_messages")
    )
    problems = []
    if got_rejected != want_rejected:
        problems.append(
            "rejections (+ only Flink, - only the classifier):\n"
            + describe(
                (got_rejected - want_rejected)
                + Counter({key: -n for key, n in (want_rejected - got_rejected).items()})
            )
        )
    for topic, sink in CLEANED.items():
        columns = [spec.column for spec in TOPICS[topic]]
        if topic == "timeline_client_topic":
            columns = [*columns, "event"]
        got = Counter(as_key(row, columns) for row in read_topic(result, sink))
        want = want_cleaned[topic]
        if got != want:
            problems.append(
                f"{sink} rows (+ only Flink, - only the classifier):\n"
                + describe((got - want) + Counter({k: -n for k, n in (want - got).items()}))
            )
    got_counts = {
        item.topic: (item.messages_read, item.accepted, item.rejected)
        for item in result.accounting.topics
    }
    if got_counts != want_counts:
        problems.append(f"counts (read, accepted, rejected): {got_counts} != {want_counts}")
    if not result.accounting.holds:  # read = held by offsets, rejected = dead letters
        problems.append(f"accounting: {result.accounting}")
    assert not problems, "\n".join(problems)
    # the batch exercised every outcome somewhere (a weak generator would pass vacuously)
    reasons = {reason for _, _, reason in want_rejected}
    assert {"malformed_json", "missing_field", "wrong_type"} <= reasons
    assert sum(want_cleaned["timeline_client_topic"].values()) > 0
