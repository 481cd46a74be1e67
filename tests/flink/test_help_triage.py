"""help_request_triage on a real Flink mini-cluster (LIVE_CLASSROOM_CONTRACT.md A.4, A.5).

One room per pre-check and rule. A press at h = T0 + 31 s is decided at c = T0 + 45 s on the
window ending at e = T0 + 30 s (W0) and verified on [T0 + 60 s, T0 + 90 s) (W2). Every room has a
healthy teacher and student in W-1..W3 unless the case changes one; the mart must equal the
pure-Python rules as well as the outcomes written out here.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
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
    help_press,
    write_topics,
)
from flink_helpers import FlinkRun, RunOverTopics, latest_versions, read_topic, run_all
from labels_kafka import latest_accounting
from test_classroom_labels import JOBS

from classpulse.classroom_help import rules
from classpulse.classroom_help.records import UNION_TOPICS, HelpRequest, Message
from classpulse.config import Settings
from classpulse.flink.session import FlinkSession
from classpulse.kafka.landing import land_from_kafka
from classpulse.warehouse import get_client

W = [T0 - 30_000, T0, T0 + 30_000, T0 + 60_000, T0 + 90_000]  # W-1, W0, W1, W2, W3 starts
H = T0 + 31_000


def healthy(
    room: int,
    windows: range = range(5),
    *,
    teacher: bool = True,
    student: bool = True,
    skip: tuple[tuple[str, int], ...] = (),
) -> list[Message]:
    out: list[Message] = []
    for index in windows:
        for role, user, wanted in (("teacher", TEACHER, teacher), ("student", STUDENT, student)):
            if wanted and (role, index - 1) not in skip:
                out.append(device(room, user, role, W[index] + 100))
    return out


def cases() -> list[Message]:
    s, t = "student", "teacher"
    m: list[Message] = []
    # 101 rule 1 device (requester), resolved: W2 healthy
    m += healthy(101) + [device(101, STUDENT, s, W[1] + 500, mic="denied")]
    m += [help_press(101, STUDENT, s, H, "r101")]
    # 102 rule 2 peer device, escalated: still broken in W2
    m += healthy(102) + [
        device(102, TEACHER, t, W[1] + 500, camera="error"),
        device(102, TEACHER, t, W[3] + 500, camera="error"),
    ]
    m += [help_press(102, STUDENT, s, H, "r102")]
    # 103 rule 3 enter: only failed attempts in W0, resolved
    m += healthy(103, skip=(("student", 0),))
    m += [
        enter(103, STUDENT, s, W[1] + 2000, result="fail", started_at=W[1], failed_component="sdk")
    ]
    m += [help_press(103, STUDENT, s, H, "r103")]
    # 104 rule 4 peer absent (no teacher in W0 nor W2): call_peer, target 0 (no dimension)
    m += healthy(104, skip=(("teacher", 0), ("teacher", 2)))
    m += [help_press(104, STUDENT, s, H, "r104")]
    # 105 rule 5 network, escalated: the requester has no row in W2
    m += healthy(105, skip=(("student", 2),))
    m += [audio(105, STUDENT, s, W[1] + 500, loss_pct=10), help_press(105, STUDENT, s, H, "r105")]
    # 106 rule 6 media on the peer (teacher's audio stalls), resolved
    m += healthy(106) + [audio(106, TEACHER, t, W[1] + 500, interval_ms=1000, freeze_ms=200)]
    m += [help_press(106, STUDENT, s, H, "r106")]
    # 107 rule 7 courseware on the requester, resolved
    m += healthy(107) + [courseware(107, STUDENT, s, W[1] + 500, action="drag", result="fail")]
    m += [help_press(107, STUDENT, s, H, "r107")]
    # 108 rule 8 uncovered
    m += healthy(108) + [help_press(108, STUDENT, s, H, "r108")]
    # 109 fm present (pre-check 4) over a device problem
    m += healthy(109) + [
        device(109, STUDENT, s, W[1] + 500, cpu_pct=95),
        device(109, FM, "fm", W[1] + 600),
    ]
    m += [help_press(109, STUDENT, s, H, "r109")]
    # 110 no evidence: the requester has no row in W0; 111: an fm asks
    m += healthy(110, skip=(("student", 0),)) + [help_press(110, STUDENT, s, H, "r110")]
    m += healthy(111) + [device(111, FM, "fm", W[1] + 600), help_press(111, FM, "fm", H, "r111")]
    # 112 expired at 60 001 ms; 113 not at 60 000 ms (uncovered)
    m += healthy(112) + [help_press(112, STUDENT, s, H, "r112", delay=60_001)]
    m += healthy(113) + [help_press(113, STUDENT, s, H, "r113", delay=60_000)]
    # 114 duplicates: a redelivery of r114 (no row), r114b 59.999 s later (merged, though it
    # would be expired), r114c exactly 60 s after r114 (the horizon [h - 60 s, h) holds it: merged)
    m += healthy(114)
    redelivery = help_press(114, STUDENT, s, H, "r114", delay=3_000)
    m += [
        help_press(114, STUDENT, s, H, "r114"),
        redelivery,
        help_press(114, STUDENT, s, H + 59_999, "r114b", delay=70_000),
        help_press(114, STUDENT, s, H + 60_000, "r114c"),
    ]
    # 115 rule order: device (1) before network (5)
    m += healthy(115) + [
        device(115, STUDENT, s, W[1] + 500, speaker="missing"),
        audio(115, STUDENT, s, W[1] + 600, rtt_ms=600),
    ]
    m += [help_press(115, STUDENT, s, H, "r115")]
    # 116 proactive detection: the student's video stalls in W0 and W1, nobody asks; the ticket
    # is at e = end of W1, verified on W2 (still stalled: escalated); the teacher's row sees the
    # same problem on its peer, so it gets a ticket too
    m += healthy(116)
    for start in (W[1], W[2], W[3]):
        m += [audio(116, STUDENT, s, start + 500, interval_ms=1000, freeze_ms=1000)]
    # 117 the same, but a help press whose evidence is W0 blocks the detection at the end of W1
    m += healthy(117)
    for start in (W[1], W[2], W[3]):
        m += [audio(117, STUDENT, s, start + 500, interval_ms=1000, freeze_ms=1000)]
    m += [help_press(117, STUDENT, s, H, "r117")]
    return m


def current_rows(run: FlinkRun) -> list[dict[str, Any]]:
    rows = latest_versions(read_topic(run, "help_request_triage"), ("request_id",))
    out = []
    for row in rows.values():
        # the dimension columns (C) are checked by test_classroom_enrichment
        skipped = ("version", "is_deleted", "processed_at", *rules.DIMENSION_COLUMNS)
        row = {k: v for k, v in row.items() if k not in skipped}
        row["room_id"] = int(row["room_id"])
        out.append(row)
    return sorted(out, key=lambda r: r["request_id"])


@pytest.fixture(scope="module")
def triage_run(run_over_topics: RunOverTopics):
    messages = cases()
    result, _ = run_over_topics("triage", lambda topics: write_topics(topics, messages), JOBS)
    return result, messages, result


def test_triage_equals_the_pure_python_rules(triage_run) -> None:
    run, messages, result = triage_run
    labels = rules.label_rows(m for m in messages if m.topic in UNION_TOPICS)
    requests = [m for m in messages if isinstance(m, HelpRequest)]
    assert current_rows(run) == rules.triage_rows(labels, requests)
    assert result.accounting.holds


def test_each_pre_check_and_rule(triage_run) -> None:
    run, _, _ = triage_run
    rows = {r["request_id"]: r for r in current_rows(run)}

    def decision(request_id: str) -> tuple:
        r = rows[request_id]
        return (r["outcome"], r["category"], r["action"], r["target_user_id"], r["verify_status"])

    assert decision("r101") == ("auto", "device", "guide_device_check", STUDENT, "resolved")
    assert decision("r102") == ("auto", "peer_device", "guide_device_check", TEACHER, "escalated")
    assert decision("r103") == ("auto", "enter", "rejoin", STUDENT, "resolved")
    assert decision("r104") == ("auto", "peer_absent", "call_peer", 0, "escalated")
    assert decision("r105") == ("auto", "network", "switch_line", STUDENT, "escalated")
    assert decision("r106") == ("auto", "media", "switch_line", TEACHER, "resolved")
    assert decision("r107") == ("auto", "courseware", "reload_courseware", STUDENT, "resolved")
    assert decision("r108") == ("manual", "uncovered", "", 0, "")
    assert decision("r109") == ("manual", "fm_present", "", 0, "")
    assert decision("r110") == ("manual", "no_evidence", "", 0, "")
    assert decision("r111") == ("manual", "no_evidence", "", 0, "")
    assert decision("r112") == ("manual", "expired", "", 0, "")
    assert decision("r113") == ("manual", "uncovered", "", 0, "")
    assert decision("r114b") == ("merged", "duplicate", "", 0, "")
    assert decision("r114c") == ("merged", "duplicate", "", 0, "")
    assert decision("r115")[:2] == ("auto", "device")
    r101 = rows["r101"]
    assert (r101["decided_at"] - T0, r101["evidence_end"] - T0, r101["verify_start"] - T0) == (
        45_000,
        30_000,
        60_000,
    )
    assert (r101["handle_ms"], rows["r114b"]["handle_ms"], r101["received_time"]) == (
        14_000,
        0,
        H + 200,
    )
    assert rows["r114"]["received_time"] == H + 200  # the first delivery, not the redelivery
    detected = sorted(
        (
            r["room_id"],
            r["user_id"],
            r["evidence_end"] - T0,
            r["category"],
            r["target_user_id"],
            r["verify_status"],
        )
        for r in rows.values()
        if r["source"] == "detected"
    )
    assert detected == [
        (116, TEACHER, 60_000, "media", STUDENT, "escalated"),
        (116, STUDENT, 60_000, "media", STUDENT, "escalated"),
    ]
    assert rows[f"det:116:{STUDENT}:{T0 + 60_000}"]["request_time"] == T0 + 60_000


def test_the_marts_land_in_the_warehouse_and_read_back_final(
    triage_run, warehouse: Settings, flink_kafka: Settings
) -> None:
    run, messages, _ = triage_run
    landed = (
        "room_user_labels_30s",
        "help_request_triage",
        *(f"{topic}_clean" for topic in (*UNION_TOPICS, "classroom_help_request")),
    )
    # landed from the run's output topics (still as the run left them: no later run in this
    # module), by the landing consumer under a group of its own
    both = replace(
        warehouse,
        kafka_bootstrap_servers=flink_kafka.kafka_bootstrap_servers,
        kafka_partitions=flink_kafka.kafka_partitions,
    )
    report = land_from_kafka(both, only=landed, group=f"tests-triage-{uuid.uuid4().hex[:8]}")
    assert sum(report.rows.values()) > 0
    client = get_client(warehouse)
    columns = [name for name in current_rows(run)[0]]
    rows = client.query(
        f"SELECT {', '.join(columns)} FROM rt.help_request_triage_log FINAL ORDER BY request_id"
    ).named_results()
    assert [dict(row) for row in rows] == current_rows(run)
    labels = rules.label_rows(m for m in messages if m.topic in UNION_TOPICS)
    count, arrays = client.query(
        "SELECT count(), groupArray(problem_labels) FROM rt.room_user_labels_30s_log"
    ).result_rows[0]
    assert count == len(labels)
    assert sorted(map(list, arrays)) == sorted(row.problem_labels for row in labels)
    help_rows = client.query("SELECT count() FROM ods.classroom_help_request_clean").result_rows
    assert help_rows[0][0] == sum(1 for m in messages if isinstance(m, HelpRequest))


def test_a_late_help_press_is_accounted_late_and_still_decided(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path
) -> None:
    # one room, so each topic has one split: "late-b" (T0 + 35.999 s) arrives after "late-a"
    # (T0 + 40 s), behind its split's watermark (40 s - 4 s); "edge-c" (T0 + 36.001 s, another
    # user) arrives later still, just ahead of it. A late press goes to late_events under
    # help_request_triage and is still decided (A.5: ads includes it; rt's regular joins keep
    # the evidence, so rt holds it too)
    room = 140
    messages: list[Message] = [*healthy(room)]
    messages += [
        help_press(room, STUDENT, "student", T0 + 40_000, "late-a"),
        help_press(room, TEACHER, "teacher", T0 + 35_999, "late-b", delay=5_000),
        help_press(room, 300, "student", T0 + 36_001, "edge-c", delay=5_000),
    ]
    topics = tmp_path / "topics"
    write_topics(topics, messages)
    run = run_all(flink_session, flink_kafka, tmp_path / "home", topics, JOBS)
    late = [r for r in read_topic(run, "late_events") if r["mart"] == "help_request_triage"]
    assert [(r["event"], r["event_time_ms"], r["user_id"], r["classroom_id"]) for r in late] == [
        ("late-b", T0 + 35_999, TEACHER, str(room))
    ]
    assert late[0]["watermark_at"].endswith(":36.000")  # the split's: 40 s - 4 s
    counts = latest_accounting(read_topic(run, "mart_accounting"))["help_request_triage"]
    assert (counts["events_in"], counts["events_counted"], counts["events_late"]) == (3, 2, 1)
    assert run.accounting.holds
    labels = rules.label_rows(m for m in messages if m.topic in UNION_TOPICS)
    requests = [m for m in messages if isinstance(m, HelpRequest)]
    assert current_rows(run) == rules.triage_rows(labels, requests)
    assert {row["request_id"] for row in current_rows(run)} == {"late-a", "late-b", "edge-c"}
