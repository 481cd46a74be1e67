"""room_user_labels_30s on a real Flink mini-cluster over a real broker (LIVE_CLASSROOM_CONTRACT.md
A.2, A.3): each case's messages are produced into the Kafka source topics, the jobs run bounded
over Kafka and the outputs are read back read_committed.

Each label column is checked true and false, thresholds at the boundary, by hand; the whole mart
also equals ``classpulse.classroom_help.rules`` (pure Python) over the same records. A generated
day checks the same equality at volume, with every kind of bad input and late events.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from classroom_help_cases import (
    FM,
    STUDENT,
    T0,
    TEACHER,
    audio,
    courseware,
    device,
    enter,
    leave,
    present,
    video,
    write_topics,
)
from flink_helpers import FlinkRun, RunOverTopics, latest_versions, read_topic, run_all

from classpulse.classroom_help import rules
from classpulse.classroom_help.generator import LabelsOptions, generate_labels_day
from classpulse.classroom_help.records import LABEL_JOBS, TOPICS, UNION_TOPICS, HelpRequest, Message
from classpulse.config import Settings
from classpulse.flink.session import FlinkSession

JOBS = LABEL_JOBS


def boundary_messages() -> list[Message]:
    """Room n holds case n; the requester-side user is the student unless said otherwise."""
    t, s = T0, "student"
    m: list[Message] = []
    # 1: audio stall exactly 20 % frozen (5·1000 = 5000) -> 1; video 1 ms short -> 0
    m += present(1, t + 100)
    m += [
        audio(1, STUDENT, s, t + 1000, interval_ms=2500, freeze_ms=500),
        audio(1, STUDENT, s, t + 3000, interval_ms=2500, freeze_ms=500),
        video(1, STUDENT, s, t + 1000, interval_ms=2500, freeze_ms=499),
        video(1, STUDENT, s, t + 3000, interval_ms=2500, freeze_ms=500),
    ]
    # 2: cannot hear (all audio bitrate 0) -> 1; cannot see: one video sample with bitrate -> 0
    m += present(2, t + 100)
    m += [
        audio(2, STUDENT, s, t + 1000, bitrate_kbps=0),
        audio(2, STUDENT, s, t + 2000, bitrate_kbps=0),
        video(2, STUDENT, s, t + 1000, bitrate_kbps=0),
        video(2, STUDENT, s, t + 2000, bitrate_kbps=1),
    ]
    # 3: net bad at L = 10n exactly (n = 2, L = 20); room 4: poor at R = 300n; room 5: rtt
    # 600n - 1 (poor, not bad); room 6: L = 3n - 1, R = 300n - 1 -> good
    m += present(3, t + 100)
    m += [
        audio(3, STUDENT, s, t + 1000, loss_pct=5, rtt_ms=0),
        video(3, STUDENT, s, t + 1000, loss_pct=15, rtt_ms=0),
    ]
    m += present(4, t + 100)
    m += [
        audio(4, STUDENT, s, t + 1000, loss_pct=0, rtt_ms=200),
        video(4, STUDENT, s, t + 1000, loss_pct=0, rtt_ms=400),
    ]
    m += present(5, t + 100)
    m += [
        audio(5, STUDENT, s, t + 1000, loss_pct=0, rtt_ms=600),
        video(5, STUDENT, s, t + 1000, loss_pct=0, rtt_ms=599),
    ]
    m += present(6, t + 100)
    m += [
        audio(6, STUDENT, s, t + 1000, loss_pct=3, rtt_ms=300),
        video(6, STUDENT, s, t + 1000, loss_pct=2, rtt_ms=299),
    ]
    # 7: cpu 90 -> abnormal; room 8: cpu 89 and all ok -> not; room 9: camera denied
    m += present(7, t + 100, student=False) + [device(7, STUDENT, s, t + 500, cpu_pct=90)]
    m += present(8, t + 100, student=False) + [device(8, STUDENT, s, t + 500, cpu_pct=89)]
    m += present(9, t + 100, student=False) + [device(9, STUDENT, s, t + 500, camera="denied")]
    # 10: enter slow at 10 001 ms; room 11: exactly 10 000 ms -> not slow
    m += present(10, t + 100, student=False)
    m += [enter(10, STUDENT, s, t + 20_000, result="success", started_at=t + 9_999)]
    m += present(11, t + 100, student=False)
    m += [enter(11, STUDENT, s, t + 20_000, result="success", started_at=t + 10_000)]
    # 12: two failed attempts (latest: gateway), no success -> enter_fail, not in room
    m += present(12, t + 100, student=False)
    m += [
        enter(12, STUDENT, s, t + 3000, result="fail", started_at=t, failed_component="sdk"),
        enter(
            12, STUDENT, s, t + 9000, result="fail", started_at=t + 6000, failed_component="gateway"
        ),
    ]
    # 13: a failure, then a success -> enter_fail 0, component still the failed one's, in room
    m += present(13, t + 100, student=False)
    m += [
        enter(13, STUDENT, s, t + 3000, result="fail", started_at=t, failed_component="media"),
        enter(13, STUDENT, s, t + 9000, result="success", started_at=t + 6000),
    ]
    # 14: the teacher leaves after her last sample -> teacher not in room, student's peer absent
    m += present(14, t + 100) + [leave(14, TEACHER, "teacher", t + 5000)]
    # 15: leave, then a sample 1 ms later -> back in room
    m += present(15, t + 100) + [
        leave(15, TEACHER, "teacher", t + 5000),
        device(15, TEACHER, "teacher", t + 5001),
    ]
    # 16: load fail then load ok -> 0; room 17: load ok then load fail -> 1
    m += present(16, t + 100)
    m += [
        courseware(16, STUDENT, s, t + 1000, action="load", result="fail"),
        courseware(16, STUDENT, s, t + 2000, action="load", result="ok"),
    ]
    m += present(17, t + 100)
    m += [
        courseware(17, STUDENT, s, t + 1000, action="load", result="ok"),
        courseware(17, STUDENT, s, t + 2000, action="load", result="fail"),
    ]
    # 18: peer page turn shown 3001 ms late -> out of sync; room 19: 3000 ms, and a peer load
    # failure (load does not count) -> in sync; own draw failure -> cannot draw
    m += present(18, t + 100)
    m += [courseware(18, STUDENT, s, t + 1000, action="page_turn", origin="peer", lag_ms=3001)]
    m += present(19, t + 100)
    m += [
        courseware(19, STUDENT, s, t + 1000, action="page_turn", origin="peer", lag_ms=3000),
        courseware(19, STUDENT, s, t + 2000, action="load", origin="peer", result="fail"),
        courseware(19, STUDENT, s, t + 3000, action="draw", origin="self", result="fail"),
    ]
    # 20: a supervisor in the room; room 21: one who left -> fm_in_room 0; the fm row's
    # peer_in_room is 0 and it has no peer_absent label
    m += present(20, t + 100) + [device(20, FM, "fm", t + 200)]
    m += present(21, t + 100) + [device(21, FM, "fm", t + 200), leave(21, FM, "fm", t + 300)]
    # 22: role of the latest message wins (a second later the same user says teacher); two
    # windows: the next one has only courseware events -> not in room
    m += [device(22, STUDENT, "student", t + 1000), device(22, STUDENT, "teacher", t + 2000)]
    m += [courseware(22, STUDENT, s, t + 31_000)]
    # 23: numeric strings are numbers (written as such by the test's bad-lines hook, see below)
    return m


def label_dicts(rows: list[rules.LabelRow]) -> list[dict[str, Any]]:
    return [row.as_dict() for row in rows]


def flink_rows(run: FlinkRun) -> list[dict[str, Any]]:
    rows = [dict(row) for row in read_topic(run, "room_user_labels_30s")]
    for row in rows:
        row.pop("processed_at")
        for column in rules.DIMENSION_COLUMNS:  # checked by test_classroom_enrichment
            row.pop(column, None)
        row["room_id"] = int(row["room_id"])
    return sorted(rows, key=lambda r: (r["start_time"], r["room_id"], r["user_id"]))


@pytest.fixture(scope="module")
def boundary_run(run_over_topics: RunOverTopics):
    messages = boundary_messages()
    result, _ = run_over_topics("labels", lambda topics: write_topics(topics, messages), JOBS)
    return result, messages, result


def by_room(rows: list[dict[str, Any]], user: int = STUDENT) -> dict[int, dict[str, Any]]:
    return {r["room_id"]: r for r in rows if r["user_id"] == user and r["start_time"] == T0}


def test_labels_equal_the_pure_python_rules(boundary_run) -> None:
    result, messages, _ = boundary_run
    expected = label_dicts(rules.label_rows(m for m in messages if m.topic in UNION_TOPICS))
    assert flink_rows(result) == expected


def test_each_label_column_true_and_false_at_its_boundary(boundary_run) -> None:
    result, _, _ = boundary_run
    rows = flink_rows(result)
    student = by_room(rows)
    teacher = by_room(rows, TEACHER)
    assert (student[1]["audio_stall"], student[1]["video_stall"]) == (1, 0)
    assert (student[2]["cannot_hear"], student[2]["cannot_see"]) == (1, 0)
    assert [student[n]["net_quality"] for n in (3, 4, 5, 6, 7)] == [
        "bad",
        "poor",
        "poor",
        "good",
        "none",
    ]
    assert [student[n]["device_abnormal"] for n in (7, 8, 9, 1)] == [1, 0, 1, 0]
    assert [student[n]["enter_slow"] for n in (10, 11)] == [1, 0]
    assert [student[n]["enter_attempts"] for n in (10, 12, 13, 1)] == [1, 2, 2, 0]
    assert (student[12]["enter_fail"], student[12]["enter_fail_component"]) == (1, "gateway")
    assert (student[13]["enter_fail"], student[13]["enter_fail_component"]) == (0, "media")
    assert (student[12]["in_room"], student[13]["in_room"]) == (0, 1)
    assert (teacher[14]["in_room"], student[14]["peer_in_room"]) == (0, 0)
    assert (teacher[15]["in_room"], student[15]["peer_in_room"]) == (1, 1)
    assert "peer_absent" in student[14]["problem_labels"]
    assert [student[n]["courseware_load_fail"] for n in (16, 17)] == [0, 1]
    assert [student[n]["courseware_out_of_sync"] for n in (18, 19)] == [1, 0]
    assert [student[n]["cannot_draw"] for n in (18, 19)] == [0, 1]
    assert [student[n]["fm_in_room"] for n in (20, 21, 1)] == [1, 0, 0]
    fm = {r["room_id"]: r for r in rows if r["user_id"] == FM}
    assert (fm[20]["peer_in_room"], fm[20]["fm_in_room"], fm[20]["problem_labels"]) == (0, 1, [])
    room22 = sorted(
        (r["start_time"] - T0, r["role"], r["in_room"]) for r in rows if r["room_id"] == 22
    )
    assert room22 == [(0, "teacher", 1), (30_000, "student", 0)]
    assert student[12]["problem_labels"] == ["not_in_room", "enter_fail"]
    assert student[3]["problem_labels"] == ["net_bad"]
    assert student[6]["problem_labels"] == []


def test_union_accounting_holds(boundary_run) -> None:
    _, messages, result = boundary_run
    assert result.accounting.holds
    labels = next(m for m in result.accounting.marts if m.mart == "room_user_labels_30s")
    union = sum(1 for m in messages if m.topic in UNION_TOPICS)
    assert (labels.events_in, labels.events_late, labels.mart_event_count) == (union, 0, union)


def test_bad_input_is_rejected_with_its_reason(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    good = '"room_id":"18446744073709551615","user_id":"7","role":"student","client_time":1,"server_time":2'
    lines = {
        "classroom_enter": [
            "{" + good + ',"action":"enter","result":"fail","started_at":0}',  # no component
            "{" + good + ',"action":"enter","result":"success","started_at":0}',  # ok, UInt64 max
            "{" + good.replace("1844674407370955161", "1844674407370955162") + ',"action":"leave"}',
            "{" + good + ',"action":"Leave"}',
        ],
        "classroom_av_sample": [
            "{"
            + good
            + ',"media":"audio","interval_ms":0,"bitrate_kbps":1,"freeze_ms":0,"loss_pct":0,"rtt_ms":1}',
            "{"
            + good
            + ',"media":"audio","interval_ms":5,"bitrate_kbps":1,"freeze_ms":6,"loss_pct":0,"rtt_ms":1}',
            "{"
            + good
            + ',"media":"audio","interval_ms":5,"bitrate_kbps":1,"freeze_ms":5,"loss_pct":100,"rtt_ms":1}',
            "{"
            + good
            + ',"media":"audio","interval_ms":5,"bitrate_kbps":1,"freeze_ms":5,"loss_pct":1.5,"rtt_ms":1}',
            "{"
            + good
            + ',"media":"audio","interval_ms":5,"bitrate_kbps":1,"freeze_ms":5,"loss_pct":null,"rtt_ms":1}',
        ],
        "classroom_device_sample": [
            "{" + good + ',"mic":"ok","speaker":"ok","camera":"ok","cpu_pct":101}',
            "{" + good + ',"mic":{"state":"ok"},"speaker":"ok","camera":"ok","cpu_pct":1}',
            "{"
            + good.replace('"client_time":1', '"client_time":300003')
            + ',"mic":"ok","speaker":"ok","camera":"ok","cpu_pct":1}',
            "{"
            + good.replace('"client_time":1', '"client_time":300002')
            + ',"mic":"ok","speaker":"ok","camera":"ok","cpu_pct":1}',
        ],
        "classroom_courseware_event": [
            "{" + good + ',"action":"draw","origin":"self","result":"ok","lag_ms":null}',
            "{" + good + ',"action":"draw","origin":"self","result":"ok","lag_ms":-1}',
            "{" + good + ',"action":"draw","origin":"self","result":"ok"',
        ],
        "classroom_help_request": [
            "{" + good + ',"request_id":""}',
            "{" + good.replace('"role":"student"', '"role":"parent"') + ',"request_id":"r"}',
            "{" + good.replace('"user_id":"7",', "") + ',"request_id":"r"}',
            "{" + good + ',"request_id":"r"}',
        ],
    }
    topics = tmp_path / "topics"
    write_topics(topics, [], lines)
    result = run_all(flink_session, flink_kafka, tmp_path / "home", topics, JOBS[:5])
    assert result.accounting.holds
    reasons = sorted(
        (row["topic"], row["reason"]) for row in read_topic(result, "rejected_messages")
    )
    assert reasons == sorted(
        [
            ("classroom_enter", "missing_field"),
            ("classroom_enter", "wrong_type"),
            ("classroom_enter", "wrong_type"),
            ("classroom_av_sample", "wrong_type"),
            ("classroom_av_sample", "wrong_type"),
            ("classroom_av_sample", "wrong_type"),
            ("classroom_av_sample", "missing_field"),
            ("classroom_device_sample", "wrong_type"),
            ("classroom_device_sample", "wrong_type"),
            ("classroom_device_sample", "future_timestamp"),
            ("classroom_courseware_event", "wrong_type"),
            ("classroom_courseware_event", "malformed_json"),
            ("classroom_help_request", "wrong_type"),
            ("classroom_help_request", "wrong_type"),
            ("classroom_help_request", "missing_field"),
        ]
    )
    accepted = {(row["topic"]): row["accepted"] for row in read_topic(result, "topic_accounting")}
    assert accepted == {
        "classroom_enter": 1,
        "classroom_av_sample": 1,
        "classroom_device_sample": 1,
        "classroom_courseware_event": 1,
        "classroom_help_request": 1,
    }
    enter_row = read_topic(result, "classroom_enter_clean")[0]
    assert enter_row["room_id"] == 18446744073709551615 and enter_row["user_id"] == 7


def test_a_message_behind_the_watermark_is_late_and_accounted(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    # one topic only, so the union's watermark is that topic's (the others end at once)
    t = T0
    on_time = [device(30, STUDENT, "student", t + 1000), device(30, STUDENT, "student", t + 40_000)]
    behind = device(30, STUDENT, "student", t + 35_999)  # arrives after the 40 s sample
    behind.server_time = t + 41_000
    boundary = device(30, STUDENT, "student", t + 36_001)  # 4 s delay: just ahead of it
    boundary.server_time = t + 41_001
    topics = tmp_path / "topics"
    write_topics(topics, [*on_time, behind, boundary])
    result = run_all(flink_session, flink_kafka, tmp_path / "home", topics, JOBS)
    late = [r for r in read_topic(result, "late_events") if r["mart"] == "room_user_labels_30s"]
    assert [(r["event_time_ms"], r["classroom_id"], r["event"]) for r in late] == [
        (t + 35_999, "30", "classroom_device_sample")
    ]
    assert [(r["start_time"] - t, r["messages"]) for r in flink_rows(result)] == [
        (0, 1),
        (30_000, 2),
    ]
    assert result.accounting.holds


@pytest.mark.slow
def test_generated_day_labels_equal_the_rules(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    topics = tmp_path / "topics"
    day = generate_labels_day(
        LabelsOptions(day=date(2026, 11, 20), seed=3, lessons=24, lesson_minutes=6), topics
    )
    result = run_all(flink_session, flink_kafka, tmp_path / "home", topics, JOBS)
    assert result.accounting.holds
    rejected = Counter(
        (row["topic"], row["reason"]) for row in read_topic(result, "rejected_messages")
    )
    assert rejected == day.rejected
    accepted = {item.topic: item.accepted for item in result.accounting.topics}
    assert accepted == {topic: len(day.accepted[topic]) for topic in TOPICS}
    # rt = the rules over the accepted messages minus those it reported late (which ones are
    # late depends on how far the union's inputs had got; each is in late_events)
    late = Counter(
        (int(r["classroom_id"]), r["user_id"], r["event_time_ms"], r["event"])
        for r in read_topic(result, "late_events")
        if r["mart"] == "room_user_labels_30s"  # late presses: help_request_triage's
    )
    on_time = []
    for topic in UNION_TOPICS:
        for m in day.accepted[topic]:
            key = (m.room_id, m.user_id, m.client_time, topic)
            if late[key]:
                late[key] -= 1
            else:
                on_time.append(m)
    assert not +late
    labels = rules.label_rows(on_time)
    assert flink_rows(result) == label_dicts(labels)
    # triage over the same rt label rows (late help requests are not routed apart yet)
    triage = latest_versions(read_topic(result, "help_request_triage"), ("request_id",))
    got = []
    for row in triage.values():
        skipped = ("version", "is_deleted", "processed_at", *rules.DIMENSION_COLUMNS)
        row = {k: v for k, v in row.items() if k not in skipped}
        got.append({**row, "room_id": int(row["room_id"])})
    requests = [m for m in day.accepted["classroom_help_request"] if isinstance(m, HelpRequest)]
    assert sorted(got, key=lambda r: r["request_id"]) == rules.triage_rows(labels, requests)
    expected_all = [
        json.loads(line)
        for line in (topics / "_expected" / "room_user_labels_30s.jsonl").read_text().splitlines()
    ]
    assert len(expected_all) >= len(flink_rows(result))
