"""Dimension enrichment of room_user_labels_30s and help_request_triage on Kafka and a real
Flink mini-cluster (LIVE_CLASSROOM_CONTRACT.md C): each dim_status, the greatest lesson of a room,
rule 4's target from the requester's tutor, a hung warehouse, and late help presses.

Expected rows come from ``classpulse.classroom_help.rules`` (pure Python) over the same records
and the same published dimension; nothing is computed from the SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from classroom_help_cases import STUDENT, T0, TEACHER, device, help_press
from labels_kafka import (
    JOBS,
    latest_accounting,
    latest_versions,
    produce_messages,
    read_json,
    unanswering_server,
)

from classpulse.classroom_help import rules
from classpulse.classroom_help.records import UNION_TOPICS, HelpRequest, Message
from classpulse.config import Settings
from classpulse.flink.pipeline import kafka_jars, run_bounded
from classpulse.flink.session import FlinkSession, SessionOptions
from classpulse.preheat.publication import publish_dimension

DAY = "2026-11-20"
W = [T0 + 30_000 * k for k in range(-1, 4)]  # W-1 .. W2 starts

ROOMS = [
    rules.PublishedRoom(1001, 501, DAY, "in_class", 2, 300, 41, 11),
    rules.PublishedRoom(1002, 502, DAY, "in_class", 2, 301, 42, 11),
    # two lessons share room 1003: the greatest lesson_id (504) wins
    rules.PublishedRoom(1003, 503, DAY, "in_class", 2, 302, 43, 11),
    rules.PublishedRoom(1003, 504, DAY, "post_class", 5, 303, 44, 11),
    rules.PublishedRoom(1004, 505, DAY, "in_class", 1, 304, 45, 11),
]
MEMBERS = [
    rules.PublishedMember(501, 1001, STUDENT, 300, 71, 81),
    # student 201 is no member of room 1002: member_unknown
    rules.PublishedMember(502, 1002, 202, 301, 72, 82),
    rules.PublishedMember(503, 1003, STUDENT, 302, 73, 83),
    rules.PublishedMember(504, 1003, STUDENT, 303, 74, 84),
    rules.PublishedMember(505, 1004, STUDENT, 399, 75, 85),
]


def scenario() -> list[Message]:
    """Room 1001: teacher and member student; 1002: a student who is no member; 1003: two
    lessons; 1004: the student alone presses help (peer absent: call the tutor); 1009: no room
    row, its student alone presses help (no tutor known)."""
    m: list[Message] = []
    for start in W:
        for room, users in (
            (1001, ((TEACHER, "teacher"), (STUDENT, "student"))),
            (1002, ((TEACHER, "teacher"), (201, "student"))),
            (1003, ((TEACHER, "teacher"), (STUDENT, "student"))),
            (1004, ((STUDENT, "student"),)),
            (1009, ((STUDENT, "student"),)),
        ):
            for user, role in users:
                m.append(device(room, user, role, start + 1_000))
    m.append(help_press(1004, STUDENT, "student", T0 + 31_000, "h-1004"))
    m.append(help_press(1009, STUDENT, "student", T0 + 31_000, "h-1009"))
    m.append(help_press(1002, 201, "student", T0 + 32_000, "h-1002"))
    return m


def expected(messages: list[Message], timed_out: bool = False) -> tuple[list[dict], list[dict]]:
    union = [x for x in messages if x.topic in UNION_TOPICS]
    helps = [x for x in messages if isinstance(x, HelpRequest)]
    labels = rules.label_rows(union)
    triage = rules.triage_rows(labels, helps)
    return (
        rules.enrich_rows(
            [row.as_dict() for row in labels], "start_time", ROOMS, MEMBERS, timed_out=timed_out
        ),
        rules.enrich_rows(triage, "request_time", ROOMS, MEMBERS, timed_out=timed_out),
    )


@pytest.fixture(scope="module")
def kafka_session() -> Iterator[FlinkSession]:
    yield FlinkSession(SessionOptions(parallelism=2, jars=kafka_jars()))


def comparable(rows: list[dict], columns: list[str], key: tuple[str, ...]) -> list[dict]:
    picked = [{c: row[c] for c in columns} for row in rows]
    return sorted(picked, key=lambda r: tuple(r[k] for k in key))


def run_scenario(
    settings: Settings, tmp_path: Path, session: FlinkSession, variables: dict[str, str]
) -> tuple[list[dict], list[dict], list[Message]]:
    messages = scenario()
    produce_messages(settings, tmp_path / "topics", messages)
    run_bounded(settings, jobs=JOBS, session=session, variables=variables)
    labels = read_json(settings, "room_user_labels_30s")
    triage = list(
        latest_versions(read_json(settings, "help_request_triage"), "request_id").values()
    )
    return labels, triage, messages


def test_label_and_triage_rows_carry_the_published_dimension(
    empty_kafka: Settings, warehouse: Settings, tmp_path: Path, kafka_session: FlinkSession
) -> None:
    publish_dimension(warehouse, ROOMS, MEMBERS, run_id=11)
    settings = replace(empty_kafka, home=tmp_path / "home")
    labels, triage, messages = run_scenario(
        settings,
        tmp_path,
        kafka_session,
        {
            "CLICKHOUSE_HOST": warehouse.clickhouse_host,
            "CLICKHOUSE_PORT": str(warehouse.clickhouse_port),
            "CLICKHOUSE_USER": warehouse.clickhouse_user,
            "CLICKHOUSE_PASSWORD": warehouse.clickhouse_password,
            # found, not fast: a loaded machine must not turn this test into lookup_timeout
            "DIM_LOOKUP_TIMEOUT": "30 s",
        },
    )
    want_labels, want_triage = expected(messages)
    label_columns = list(want_labels[0])
    assert comparable(labels, label_columns, ("start_time", "room_id", "user_id")) == comparable(
        want_labels, label_columns, ("start_time", "room_id", "user_id")
    )
    triage_columns = list(want_triage[0])
    assert comparable(triage, triage_columns, ("request_id",)) == comparable(
        want_triage, triage_columns, ("request_id",)
    )
    # each status and the rules the cases were built for, written out
    statuses = {(r["room_id"], r["user_id"]): r["dim_status"] for r in labels}
    assert statuses == {
        (1001, TEACHER): "ok",
        (1001, STUDENT): "ok",
        (1002, TEACHER): "ok",
        (1002, 201): "member_unknown",
        (1003, TEACHER): "ok",
        (1003, STUDENT): "ok",
        (1004, STUDENT): "ok",
        (1009, STUDENT): "room_unknown",
    }
    room_1003 = {r["lesson_id"] for r in labels if r["room_id"] == 1003}
    assert room_1003 == {504}
    student_1003 = next(r for r in labels if r["room_id"] == 1003 and r["user_id"] == STUDENT)
    assert (student_1003["class_id"], student_1003["org_node_id"], student_1003["tutor_id"]) == (
        74,
        84,
        303,
    )
    by_id = {r["request_id"]: r for r in triage}
    assert (by_id["h-1004"]["category"], by_id["h-1004"]["target_user_id"]) == ("peer_absent", 399)
    assert (by_id["h-1009"]["category"], by_id["h-1009"]["target_user_id"]) == ("peer_absent", 0)
    assert by_id["h-1009"]["dim_status"] == "room_unknown"
    assert by_id["h-1009"]["lesson_date"] == DAY
    # nothing lost for a dimension: every accepted union message is in a label row
    accounting = latest_accounting(read_json(settings, "mart_accounting"))
    union = sum(1 for x in messages if x.topic in UNION_TOPICS)
    assert sum(r["messages"] for r in labels) == union
    assert accounting["room_user_labels_30s"]["events_in"] == union
    helps = sum(1 for x in messages if isinstance(x, HelpRequest))
    help_counts = accounting["help_request_triage"]
    assert help_counts["events_counted"] + help_counts["events_late"] == helps


def test_a_hung_warehouse_marks_rows_lookup_timeout_and_drops_none(
    empty_kafka: Settings, tmp_path: Path, kafka_session: FlinkSession
) -> None:
    settings = replace(empty_kafka, home=tmp_path / "home")
    with unanswering_server() as port:
        labels, triage, messages = run_scenario(
            settings,
            tmp_path,
            kafka_session,
            {"CLICKHOUSE_HOST": "127.0.0.1", "CLICKHOUSE_PORT": str(port)},
        )
    want_labels, want_triage = expected(messages, timed_out=True)
    label_columns = list(want_labels[0])
    assert comparable(labels, label_columns, ("start_time", "room_id", "user_id")) == comparable(
        want_labels, label_columns, ("start_time", "room_id", "user_id")
    )
    assert {r["dim_status"] for r in labels} == {"lookup_timeout"}
    triage_columns = list(want_triage[0])
    assert comparable(triage, triage_columns, ("request_id",)) == comparable(
        want_triage, triage_columns, ("request_id",)
    )
