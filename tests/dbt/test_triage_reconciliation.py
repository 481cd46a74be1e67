"""A triage decision rt and ads disagree on, explained by a late label message (A.5), through the
real Flink jobs, the loader and dbt: the reconciliation counts it in decision_drift_rows and
explained_by_late_labels, and its status stays ok."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kafka_helpers import run_settings

from classpulse import pipeline
from classpulse.classroom_help.records import LABEL_JOBS, DeviceSample, HelpRequest, Message, render
from classpulse.config import Settings
from classpulse.dbt import run_dbt
from classpulse.warehouse import get_client

JOBS = LABEL_JOBS
T0 = int(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
ROOM, TEACHER, STUDENT = 150, 100, 200


def device(user: int, role: str, at: int, arrives: int | None = None, **fields) -> DeviceSample:
    return DeviceSample(
        room_id=ROOM,
        user_id=user,
        role=role,
        client_time=at,
        server_time=arrives or at + 200,
        **fields,
    )


def write_topics(root: Path, messages: list[Message]) -> None:
    by_topic: dict[str, list[Message]] = {}
    for message in messages:
        by_topic.setdefault(message.topic, []).append(message)
    for topic, items in by_topic.items():
        (root / topic).mkdir(parents=True, exist_ok=True)
        items.sort(key=lambda m: (m.server_time, m.client_time))
        (root / topic / "a.jsonl").write_text("\n".join(render(m) for m in items) + "\n")


def test_a_decision_changed_by_a_late_label_message_is_explained(
    dbt_warehouse: Settings, empty_kafka: Settings, tmp_path: Path
) -> None:
    settings = run_settings(dbt_warehouse, empty_kafka, tmp_path)
    # healthy teacher and student in the windows [T0 - 30 s, T0 + 120 s); the student's device
    # fault at T0 + 20 s (window W0, the press's evidence) arrives after T0 + 90 s: late for rt
    messages: list[Message] = []
    for start in range(T0 - 30_000, T0 + 120_000, 30_000):
        messages += [
            device(TEACHER, "teacher", start + 100),
            device(STUDENT, "student", start + 100),
        ]
    messages.append(device(STUDENT, "student", T0 + 20_000, arrives=T0 + 100_000, cpu_pct=95))
    # decided at T0 + 45 s on W0; ads: rule 1 (device, verified resolved on [T0 + 60 s, + 90 s));
    # rt never saw the fault: uncovered, manual
    messages.append(
        HelpRequest(
            room_id=ROOM,
            user_id=STUDENT,
            role="student",
            client_time=T0 + 31_000,
            server_time=T0 + 31_200,
            request_id="r-late-label",
        )
    )
    write_topics(settings.topics_dir, messages)
    pipeline.run_flink(settings, jobs=JOBS)
    pipeline.load(settings)
    run_dbt(settings, ["run", "--select", "+rt_vs_offline_reconciliation"])

    client = get_client(settings)
    late = client.query(
        "SELECT event_time_ms FROM ods.late_events WHERE mart = 'room_user_labels_30s'"
    ).result_rows
    assert late == [(T0 + 20_000,)]
    decision = (
        "SELECT outcome, category, verify_status FROM {table} WHERE request_id = 'r-late-label'"
    )
    assert client.query(decision.format(table="ads.help_request_triage")).result_rows == [
        ("auto", "device", "resolved")
    ]
    assert client.query(decision.format(table="rt.help_request_triage")).result_rows == [
        ("manual", "uncovered", "")
    ]
    rows = client.query(
        "SELECT rt_total, ads_total, unexplained, decision_drift_rows, explained_by_late_labels, "
        "status FROM ads.rt_vs_offline_reconciliation WHERE mart = 'help_request_triage'"
    ).result_rows
    assert rows == [(1, 1, 0, 1, 1, "ok")]
    labels = client.query(
        "SELECT late_events, explained_by_late, unexplained, status "
        "FROM ads.rt_vs_offline_reconciliation WHERE mart = 'room_user_labels_30s'"
    ).result_rows
    assert labels == [(1, 1, 0, "ok")]
