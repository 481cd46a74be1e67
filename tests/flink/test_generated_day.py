"""A generated day through every job: the real-time marts equal the generator's ground truth.

The generator writes the complete (offline) marts and, separately, the events a real-time
window drops. The real-time marts must equal the complete ones minus exactly those events, and
late_events must hold exactly them: this pins the watermark semantics (arrival order, 10 s
delay) end to end. The day is produced into a real broker (files in name order, lines in order;
one partition per topic keeps the generator's arrival order) and every job runs over Kafka.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flink_helpers import latest_versions, read_topic, run_all

from classpulse.config import Settings
from classpulse.flink.session import FlinkSession
from classpulse.generator import GeneratorOptions, generate


def expected(topics: Path, name: str, late: bool = False) -> list[dict[str, Any]]:
    path = topics / "_expected" / ("late_events" if late else "") / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def classroom_key(row: dict[str, Any]) -> tuple:
    return (row["start_time"], row["webserver_id"], row["user_id"], row["role"], row["event"])


def av_key(row: dict[str, Any]) -> tuple:
    return tuple(
        row[name]
        for name in (
            "start_time",
            "user_id",
            "web_server_id",
            "classroom_id",
            "extra_uid",
            "event",
        )
    )


@pytest.mark.slow
def test_generated_day_matches_the_ground_truth(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    topics = tmp_path / "topics"
    generate(GeneratorOptions(start=date(2026, 11, 20), seed=7, scale=0.3), topics)
    result = run_all(flink_session, flink_kafka, tmp_path / "home", topics)
    manifest = json.loads((topics / "_manifest.json").read_text())
    assert result.accounting.holds
    planted_messages = {topic: item["messages"] for topic, item in manifest["topics"].items()}
    assert result.held == {topic: count for topic, count in planted_messages.items() if count}
    for item in result.accounting.topics:
        planted = manifest["topics"][item.topic]
        assert (item.messages_read, item.rejected) == (
            planted["messages"],
            planted["rejected_total"],
        ), item.topic

    complete = Counter(
        {
            classroom_key(row): row["event_count"]
            for row in expected(topics, "classroom_performance_1min")
        }
    )
    for row in expected(topics, "classroom_performance_1min", late=True):
        complete[classroom_key(row)] -= 1
    got = {
        classroom_key(row): row["event_count"]
        for row in read_topic(result, "classroom_performance_1min")
    }
    assert got == {k: v for k, v in complete.items() if v}

    sums = {
        av_key(row): [row["event_sum"], row["event_count"]]
        for row in expected(topics, "av_quality_30s")
    }
    for row in expected(topics, "av_quality_30s", late=True):
        sums[av_key(row)][0] -= row["value"]
        sums[av_key(row)][1] -= 1
    got_av = {
        av_key(row): [row["event_sum"], row["event_count"]]
        for row in read_topic(result, "av_quality_30s")
    }
    assert got_av == {k: v for k, v in sums.items() if v[1]}

    columns = ("user_id", "classroom_id", "user_type", "spend_time", "event_time", "create_time")
    late_success = {
        (row["user_id"], row["classroom_id"], row["event_time"])
        for row in expected(topics, "recorded_course_enter_time", late=True)
    }
    want = Counter(
        tuple(row[c] for c in columns)
        for row in expected(topics, "recorded_course_enter_time")
        if (row["user_id"], row["classroom_id"], row["create_time"]) not in late_success
    )
    assert (
        Counter(
            tuple(row[c] for c in columns)
            for row in read_topic(result, "recorded_course_enter_time")
        )
        == want
    )

    current = latest_versions(
        read_topic(result, "registrations_hourly_by_level"), ("reg_hour", "level")
    )
    assert {k: r["leads"] for k, r in current.items()} == {
        (row["reg_hour"], row["level"]): row["leads"]
        for row in expected(topics, "registrations_hourly_by_level")
    }
    current = latest_versions(
        read_topic(result, "cc_daily_tracking"), ("cc_id", "attribution_date")
    )
    assert {k: (r["cc_index"], r["update_time"]) for k, r in current.items()} == {
        (row["cc_id"], row["attribution_date"]): (row["cc_index"], row["update_time"])
        for row in expected(topics, "cc_daily_tracking")
    }

    for mart, time_field in (
        ("classroom_performance_1min", "event_time_ms"),
        ("av_quality_30s", "event_time_ms"),
        ("recorded_course_enter_time", "data_time_ms"),
    ):
        ours = Counter(
            row["event_time_ms"] for row in read_topic(result, "late_events") if row["mart"] == mart
        )
        assert ours == Counter(row[time_field] for row in expected(topics, mart, late=True)), mart
