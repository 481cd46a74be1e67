"""Every contract rule on a real PyFlink mini-cluster, over the hand-made day of flink_scenario.

The scenario's topic files are produced into a real broker (files in name order, lines in order:
one partition keeps that order), every job runs once bounded over Kafka (cleaning, then the
marts, as stages of one session) and the outputs are read back read_committed; each test checks
exact output rows for one rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from contract_classifier import STUDENT_EVENTS
from flink_helpers import FlinkRun, RunOverTopics, latest_versions
from flink_scenario import TIMELINE_REJECTED, at, write_scenario

DAY = "2026-11-20"


@dataclass
class Outputs:
    result: FlinkRun
    messages: dict[str, int]

    def rows(self, topic: str) -> list[dict[str, Any]]:
        return self.result.rows(topic)


@pytest.fixture(scope="module")
def outputs(run_over_topics: RunOverTopics) -> Outputs:
    return Outputs(*run_over_topics("flink_scenario", write_scenario))


# -- courseware cleaning ---------------------------------------------------------------------


def test_each_rule_yields_its_event_and_near_misses_none(outputs: Outputs) -> None:
    events = [
        (row["userId"], row["roomId"], row["messageTimeStamp"], row["event"])
        for row in outputs.rows("timeline_analysis_student")
    ]
    first_user = sorted((ts, event) for user, room, ts, event in events if user == 1)
    assert first_user == [
        (at("08:00:01"), "STUDENT_MOVE_PICTURE"),
        (at("08:00:02"), "STUDENT_HOVER_PICTURE"),
        (at("08:00:03"), "STUDENT_LINE_DRAW"),
        (at("08:00:04"), "STUDENT_AUDIO_PLAY"),
        (at("08:00:05"), "STUDENT_AUDIO_PAUSE"),
        (at("08:00:06"), "STUDENT_MATCH_WRONG"),
        (at("08:00:07"), "STUDENT_MATCH_CORRECT"),
    ]
    assert not [event for event in events if event[0] == 9]  # the teacher's action


def test_layouts_and_numeric_strings_clean_to_the_same_row(outputs: Outputs) -> None:
    rows = {
        row["messageTimeStamp"]: row
        for row in outputs.rows("timeline_analysis_student")
        if row["userId"] == 2
    }
    quoted, reordered, escaped = rows[at("08:00:20")], rows[at("08:00:21")], rows[at("08:00:22")]
    assert quoted["event"] == "STUDENT_MOVE_PICTURE" and quoted["roomId"] == 100
    assert quoted["messageCreateTime"] == at("08:00:20") + 300
    assert (quoted["role"], quoted["msgId"], quoted["msgType"], quoted["pageIndex"]) == (
        2,
        305,
        116,
        1,
    )
    assert reordered["event"] == "STUDENT_HOVER_PICTURE"
    assert (reordered["targetId"], reordered["subAction"], reordered["pageIndex"]) == (
        "pic_2",
        "over",
        3,
    )
    assert escaped["targetId"] == 'pic"1' and escaped["event"] == "STUDENT_MOVE_PICTURE"
    assert rows[at("08:00:30")]["event"] == "STUDENT_AUDIO_PLAY"  # exactly 5 min ahead: natural


def test_each_rejection_reason_lands_with_its_raw_payload(outputs: Outputs) -> None:
    rejected = [row for row in outputs.rows("rejected_messages")]
    timeline = [row for row in rejected if row["topic"] == "timeline_client_topic"]
    assert Counter(row["reason"] for row in timeline) == TIMELINE_REJECTED
    payloads = {row["payload"]: row["reason"] for row in timeline}
    assert payloads["<html>502 Bad Gateway</html>"] == "malformed_json"
    assert payloads["[1,2,3]"] == "malformed_json"
    assert payloads[""] == "malformed_json"
    assert payloads['{"createTime":' + str(at("08:00:29")) + ',"data":"oops"}'] == "missing_field"
    assert any('"roomid":"abc"' in payload for payload in payloads)
    assert {row["source_split"] for row in timeline} == {"timeline_client_topic/0"}
    others = Counter((row["topic"], row["reason"]) for row in rejected if row not in timeline)
    assert others == {
        ("agora_record", "malformed_json"): 1,
        ("agora_record", "missing_field"): 1,
        ("agora_record", "wrong_type"): 1,
        ("qos_log", "malformed_json"): 1,
        ("qos_log", "missing_field"): 1,
        ("qos_log", "wrong_type"): 1,
        ("uc_account-student", "malformed_json"): 1,
        ("uc_account-user", "missing_field"): 1,
        ("data_pack_order_info", "wrong_type"): 1,
        ("data_pack_order_info", "missing_field"): 1,
    }


def test_every_message_is_accounted_for(outputs: Outputs) -> None:
    accounting = outputs.result.accounting
    assert accounting is not None and accounting.holds
    # topics the scenario does not write (the live-classroom ones) are read and empty
    read = {
        item.topic: item.messages_read
        for item in accounting.topics
        if item.messages_read or item.topic in outputs.messages
    }
    assert read == outputs.messages  # hidden in-progress files are never produced
    # what Kafka holds (offsets) is what was produced and what the cleaning read
    assert outputs.result.held == outputs.result.produced == outputs.messages
    timeline = next(t for t in accounting.topics if t.topic == "timeline_client_topic")
    assert timeline.rejected == sum(TIMELINE_REJECTED.values())
    assert timeline.accepted == outputs.messages["timeline_client_topic"] - timeline.rejected


def test_cleaned_rows_carry_ingest_and_processing_times(outputs: Outputs) -> None:
    for topic, (source, *columns) in {
        "timeline_analysis_student": (
            "timeline_client_topic",
            "ingestedAt",
            "processedAt",
            "sourceSplit",
        ),
        "agora_record_clean": ("agora_record", "ingested_at", "processed_at", "source_split"),
        "qos_log_clean": ("qos_log", "ingested_at", "processed_at", "source_split"),
        "uc_account_user_clean": ("uc_account-user", "ingested_at", "processed_at", "source_split"),
    }.items():
        rows = outputs.rows(topic)
        assert rows, topic
        for row in rows:
            ingested, processed, split = (row[column] for column in columns)
            assert ingested.endswith("Z") and processed.endswith("Z")  # UTC instants
            assert ingested <= processed, topic
            assert split == f"{source}/0", topic  # the source topic and partition


# -- classroom_performance_1min --------------------------------------------------------------


def test_classroom_windows_use_event_time_and_route_late_events(outputs: Outputs) -> None:
    rows = {
        (row["start_time"], row["end_time"], row["webserver_id"], row["user_id"], row["event"]): (
            row["role"],
            row["event_count"],
        )
        for row in outputs.rows("classroom_performance_1min")
    }
    window = (f"{DAY} 08:00:00", f"{DAY} 08:01:00")
    expected = {
        (*window, 100, 1, event): (2, 1)
        for event, *_ in STUDENT_EVENTS  # every event of the contract's table
    }
    expected[(*window, 100, 2, "STUDENT_MOVE_PICTURE")] = (2, 2)
    expected[(*window, 100, 2, "STUDENT_HOVER_PICTURE")] = (2, 1)
    expected[(*window, 100, 2, "STUDENT_AUDIO_PLAY")] = (2, 1)
    expected[(f"{DAY} 08:01:00", f"{DAY} 08:02:00", 200, 3, "STUDENT_MOVE_PICTURE")] = (2, 1)
    # 08:02:05 is behind the newest event but not behind the watermark; 08:02:12 follows the
    # unnatural two-hours-ahead message, which therefore did not move the watermark
    expected[(f"{DAY} 08:02:00", f"{DAY} 08:03:00", 200, 3, "STUDENT_MOVE_PICTURE")] = (2, 3)
    assert rows == expected
    late = [
        row for row in outputs.rows("late_events") if row["mart"] == "classroom_performance_1min"
    ]
    assert [(row["event_time"], row["user_id"], row["web_server_id"]) for row in late] == [
        (f"{DAY} 08:00:40", 3, 200)
    ]
    assert late[0]["watermark_at"] == f"{DAY} 08:02:00.000"
    assert (late[0]["window_start"], late[0]["window_end"]) == window


def test_mart_accounting_counted_plus_late_equals_events_in(outputs: Outputs) -> None:
    accounting = outputs.result.accounting
    assert accounting is not None
    marts = {mart.mart: mart for mart in accounting.marts}
    classroom = marts["classroom_performance_1min"]
    assert (classroom.events_in, classroom.events_counted, classroom.events_late) == (16, 15, 1)
    assert classroom.events_in == len(outputs.rows("timeline_analysis_student"))
    assert classroom.mart_event_count == classroom.events_counted
    av = marts["av_quality_30s"]
    assert (av.events_in, av.events_counted, av.events_late) == (12, 10, 2)
    recorded = marts["recorded_course_enter_time"]
    assert (recorded.events_late, recorded.events_in) == (1, len(outputs.rows("qos_log_clean")))
    assert all(mart.holds for mart in accounting.marts)


# -- av_quality_30s --------------------------------------------------------------------------


def test_av_quality_splits_audio_and_video_for_students(outputs: Outputs) -> None:
    rows = {
        (
            row["start_time"],
            row["user_id"],
            row["web_server_id"],
            row["classroom_id"],
            row["event"],
        ): (
            row["extra_uid"],
            row["event_sum"],
            row["event_avg"],
            row["event_count"],
        )
        for row in outputs.rows("av_quality_30s")
    }
    assert rows == {
        (f"{DAY} 08:00:00", 21, 600, "30", "AGORA_QOS_AUDIO_STATE"): (121, 2, 1.0, 2),
        (f"{DAY} 08:00:00", 21, 600, "30", "AGORA_QOS_VIDEO_STATE"): (121, 75, 25.0, 3),
        (f"{DAY} 08:00:00", -1, -1, "-1", "AGORA_QOS_AUDIO_STATE"): (121, 1, 1.0, 1),
        (f"{DAY} 08:00:30", 21, 600, "30", "AGORA_QOS_AUDIO_STATE"): (121, 4, 4.0, 1),
        (f"{DAY} 08:00:30", 21, 600, "30", "AGORA_QOS_VIDEO_STATE"): (121, 10, 10.0, 1),
        (f"{DAY} 08:01:00", 21, 600, "30", "AGORA_QOS_AUDIO_STATE"): (121, 3, 1.5, 2),
    }
    assert {row["end_time"] for row in outputs.rows("av_quality_30s")} >= {f"{DAY} 08:00:30"}
    late = [row for row in outputs.rows("late_events") if row["mart"] == "av_quality_30s"]
    assert sorted((row["event"], row["metric_value"]) for row in late) == [
        ("AGORA_QOS_AUDIO_STATE", 3),
        ("AGORA_QOS_VIDEO_STATE", 5),
    ]


# -- recorded_course_enter_time --------------------------------------------------------------


def test_enter_time_is_one_row_per_success_within_the_look_back(outputs: Outputs) -> None:
    rows = sorted(
        (
            row["user_id"],
            row["classroom_id"],
            row["user_type"],
            row["spend_time"],
            row["event_time"],
            row["create_time"],
        )
        for row in outputs.rows("recorded_course_enter_time")
    )
    assert rows == [
        # one row per PPT_SUCCESS, from the session's first event (not one row per pair)
        # event_time and create_time keep the events' milliseconds (event_time = at + 400 ms)
        (31, "50", "student", 120_000, f"{DAY} 07:00:00.400", f"{DAY} 07:02:00.400"),
        (31, "50", "student", 300_000, f"{DAY} 07:00:00.400", f"{DAY} 07:05:00.400"),
        # the start 3 h + 1 ms earlier is outside the look-back; the page 2 h earlier is not
        (32, "51", "student", 7_200_000, f"{DAY} 06:00:00.400", f"{DAY} 08:00:00.400"),
        # exactly 3 h earlier is inside
        (33, "52", "student", 10_800_000, f"{DAY} 05:00:00.400", f"{DAY} 08:00:00.400"),
        # earliest-time tie: the smaller event_time wins, with its user_type
        (35, "54", "teacher", 600_000, f"{DAY} 07:20:00.100", f"{DAY} 07:30:00.400"),
    ]
    late = [
        row for row in outputs.rows("late_events") if row["mart"] == "recorded_course_enter_time"
    ]
    assert [(row["user_id"], row["event"], row["event_time_ms"]) for row in late] == [
        (31, "PPT_SUCCESS", at("07:06:00"))
    ]


# -- registrations_hourly_by_level -----------------------------------------------------------


def test_registrations_count_the_latest_versions(outputs: Outputs) -> None:
    current = latest_versions(outputs.rows("registrations_hourly_by_level"), ("reg_hour", "level"))
    assert {key: row["leads"] for key, row in current.items()} == {
        (2026112009, "C"): 1,  # u1: channel c1, whose latest level is C
        (2026112009, "other"): 1,  # u2: level E
        (2026112010, "other"): 1,  # u3: unknown channel
        (2026112010, "B"): 1,  # u8: 'Test Case' is not a test account (case-sensitive)
        (2026112011, "B"): 2,  # u11 (latest NORMAL), u12 (tie: the later file wins)
        (2026112012, "other"): 1,  # u13 (tie: the later line wins)
        (2026112012, "B"): 1,  # u14 (a later file with an older version loses)
    }


# -- cc_daily_tracking -----------------------------------------------------------------------


def test_cc_tracking_counts_confirmed_latest_orders(outputs: Outputs) -> None:
    log = outputs.rows("cc_daily_tracking")
    current = latest_versions(log, ("cc_id", "type", "attribution_date"))
    assert {key: (row["cc_index"], row["update_time"]) for key, row in current.items()} == {
        (7, 1, "2026-11-20"): (1, f"{DAY} 10:00:00"),  # o2's latest version is status 4
        (8, 1, "2026-11-19"): (1, f"{DAY} 09:00:00"),  # o3 has no confirm time
        (9, 1, "2026-11-20"): (1, f"{DAY} 13:10:00"),  # o6 lost its tie, o7 won its tie
    }
