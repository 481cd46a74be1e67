"""Issue 13: no single bad value may break the offline build; the latest version is a whole row;
the reconciliation identity of recorded_course_enter_time holds for every input.

The rows are landed directly (what the Flink jobs would have written), then the real dbt build
runs over them. Expected marts are worked out by hand from the rows below, never by the models.
"""

from __future__ import annotations

from typing import Any

from landing_rows import insert_rows

from classpulse import pipeline

DAY = "2026-11-20"
SPLIT = "file:/topics/x/20261120T000000Z.jsonl"
STAMP = "2026-11-20 00:00:00.000"
BAD_DATETIMES = ("N/A", "yesterday", "2024-02-30 10:00:00", "2026-11-20T10:00:00", "")
# Contract-valid numbers no real clock produces: every epoch and numeric column gets them.
EXTREME_NUMBERS = (-1, 0, 9_223_372_036_854_775_807, -9_223_372_036_854_775_807)


def landed(row: dict[str, Any], seq: int) -> dict[str, Any]:
    return {
        "source_split": SPLIT,
        "message_seq": seq,
        "ingested_at": STAMP,
        "processed_at": STAMP,
        **row,
    }


def event_landed(row: dict[str, Any]) -> dict[str, Any]:
    return {"source_split": SPLIT, "ingested_at": STAMP, "processed_at": STAMP, **row}


def user(seq: int, id: str, register: str, update: str, name: str = "Alice") -> dict[str, Any]:
    row = {"id": id, "name": name, "register_date_time": register, "status": "NORMAL"}
    return landed({**row, "update_time": update}, seq)


def student(seq: int, id: str, channel: str | None, update: str) -> dict[str, Any]:
    return landed({"id": id, "channel_id": channel, "update_time": update}, seq)


def channel(seq: int, id: str, level: str, update: str) -> dict[str, Any]:
    row = {"id": id, "chinese_name": "渠道", "english_name": "c", "level": level, "pid": "1"}
    return landed({**row, "create_time": "x", "update_time": update, "dept_id": "9"}, seq)


def order(seq: int, id: str, cc: int, status: int, confirm: str | None, update: str, **extra):
    row = {
        "id": id,
        "cc_id": cc,
        "status": status,
        "confirm_date_time": confirm,
        "update_time": update,
        "student_id": "1",
        "create_time": "not a date: optional, untyped",
    }
    return landed({**row, **extra}, seq)


def snapshot_day() -> dict[str, list[dict[str, Any]]]:
    """Valid versions, versions carrying one bad datetime each, and set -> null sequences."""
    users = [
        user(1, "1001", "2026-11-20 09:15:00", "2026-11-20 09:15:00"),
        user(2, "1002", "2026-11-20 10:05:00", "2026-11-20 10:05:00"),
        user(3, "1002", "N/A", "2026-11-20 12:00:00"),  # newer but invalid: not a version
        user(4, "1003", "2026-11-20 11:00:00", "yesterday"),  # its only version is invalid
        user(5, "1004", "2024-02-30 10:00:00", "2026-11-20 11:00:00"),
        user(6, "1005", "2026-11-20 09:40:00", "2026-11-20 09:40:00"),
        user(7, "1006", "2026-11-20 09:50:00", "2026-11-20 09:50:00"),
    ]
    users += [
        user(10 + n, f"19{n}", bad, "2026-11-20 08:00:00") for n, bad in enumerate(BAD_DATETIMES)
    ]
    users += [
        user(20 + n, f"19{n}", "2026-11-20 08:00:00", bad) for n, bad in enumerate(BAD_DATETIMES)
    ]
    students = [
        student(1, "1001", "100", "2026-11-20 09:16:00"),
        student(2, "1002", "101", "2026-11-20 10:06:00"),
        student(3, "1003", "100", "2026-11-20 11:01:00"),
        student(4, "1004", "100", "2026-11-20 11:01:00"),
        student(5, "1005", "100", "2026-11-20 09:41:00"),
        student(6, "1005", None, "2026-11-20 09:45:00"),  # channel set -> null: level other
        student(7, "1006", "100", "2026-11-20 09:51:00"),
        student(8, "1006", "101", "N/A"),  # invalid: the channel stays 100
    ]
    students += [student(10 + n, f"19{n}", "100", bad) for n, bad in enumerate(BAD_DATETIMES)]
    channels = [
        channel(1, "100", "A", "2026-11-20 08:00:00"),
        channel(2, "101", "B", "2026-11-20 08:00:00"),
        channel(3, "100", "B", "2024-02-30 10:00:00"),  # invalid: 100 stays A
    ]
    orders = [
        order(1, "7001", 301, 3, "2026-11-20 10:00:00", "2026-11-20 10:00:00"),
        order(2, "7002", 301, 3, "2026-11-20 11:00:00", "2026-11-20 11:00:00"),
        order(3, "7002", 301, 3, None, "2026-11-20 12:00:00"),  # confirm set -> null
        order(4, "7003", 302, 2, None, "2026-11-20 10:00:00"),
        order(5, "7003", 302, 3, "N/A", "2026-11-20 11:00:00"),  # invalid: 7003 stays status 2
        order(6, "7004", 302, 3, "2026-11-20 13:00:00", "2024-02-30 10:00:00"),
        order(7, "7005", 302, 3, "2026-11-20 14:00:00", "2026-11-20 14:00:00"),
        order(8, "7005", 302, 3, "2026-11-20 14:00:00", "2026-11-20 15:00:00", student_id=None),
    ]
    orders += [
        order(10 + n, f"79{n}", 303, 3, bad, "2026-11-20 16:00:00")
        for n, bad in enumerate(BAD_DATETIMES)
    ]
    orders += [
        order(20 + n, f"79{n}", 303, 3, "2026-11-20 16:00:00", bad)
        for n, bad in enumerate(BAD_DATETIMES)
    ]
    return {
        "ods.uc_account_user_clean": users,
        "ods.uc_account_student_clean": students,
        "ods.channel_name_dictionary_clean": channels,
        "ods.data_pack_order_info_clean": orders,
    }


def extreme_event_day() -> dict[str, list[dict[str, Any]]]:
    """One row per extreme number in every numeric column of the event topics (role, msgId and
    msgType of a classified event are fixed by its rule)."""
    base_ms = 1_763_604_000_000  # 2025-11-20 10:00 Asia/Shanghai
    qos, agora, timeline = [], [], []
    for value in EXTREME_NUMBERS:
        qos_row = {"classroom_id": "c", "user_type": "student", "user_id": 1, "sub_event": "X"}
        qos_row |= {"event_time": base_ms, "data_time": base_ms, "ppt_index": 1}
        for column in ("user_id", "event_time", "data_time", "ppt_index"):
            qos.append(event_landed({**qos_row, column: value, "sub_event": "PPT_SUCCESS"}))
        agora_row = {
            "classroom_id": "r",
            "user_type": "student",
            "user_id": 5,
            "agora_channel_id": 6,
            "event": "AGORA_QOS",
            "video_fr": 20,
            "video_uid": 7,
            "audio_lost": 1,
            "audio_uid": 7,
            "message_create_time": base_ms,
        }
        for column in (
            "user_id",
            "agora_channel_id",
            "video_fr",
            "video_uid",
            "audio_lost",
            "audio_uid",
            "message_create_time",
        ):
            agora.append(event_landed({**agora_row, column: value}))
        timeline_row = {
            "sourceSplit": SPLIT,
            "messageCreateTime": base_ms,
            "messageTimeStamp": base_ms,
            "userId": 2,
            "roomId": 3,
            "role": 2,
            "msgId": 305,
            "msgType": 116,
            "targetId": "pic_1",
            "targetType": "shape",
            "action": "move",
            "subAction": "drag",
            "pageIndex": 1,
            "event": "STUDENT_MOVE_PICTURE",
            "ingestedAt": STAMP,
            "processedAt": STAMP,
        }
        for column in (
            "messageCreateTime",
            "messageTimeStamp",
            "userId",
            "roomId",
            "pageIndex",
        ):
            timeline.append({**timeline_row, column: value})
    return {
        "ods.qos_log_clean": qos,
        "ods.agora_record_clean": agora,
        "ods.timeline_analysis_student": timeline,
    }


def rows(client, query: str) -> list[tuple]:
    return [tuple(row) for row in client.query(query).result_rows]


def test_a_bad_value_in_any_datetime_or_numeric_field_never_fails_the_build(dbt_warehouse, landing):
    for table, table_rows in {**snapshot_day(), **extreme_event_day()}.items():
        insert_rows(landing, table, table_rows)

    pipeline.build(dbt_warehouse)  # raises StageError naming the node if anything fails

    # 1002 keeps its valid version, 1003/1004 have none, 1005 lost its channel, 1006 keeps 100;
    # every user or student with a bad datetime (19x) is left out.
    assert rows(
        landing,
        "SELECT reg_hour, toString(level), leads FROM ads.registrations_hourly_by_level "
        "ORDER BY reg_hour, level",
    ) == [(2026112009, "A", 2), (2026112009, "other", 1), (2026112010, "B", 1)]
    # 7002's latest version has no confirm time, 7003's confirmed version and 7004 are invalid,
    # every 79x order carries a bad datetime.
    assert rows(
        landing,
        "SELECT cc_id, cc_index, type, toString(attribution_date), update_time "
        "FROM ads.cc_daily_tracking ORDER BY cc_id",
    ) == [
        (301, 1, 1, DAY, "2026-11-20 10:00:00"),
        (302, 1, 1, DAY, "2026-11-20 15:00:00"),  # 7005, latest version
    ]


def test_the_latest_version_is_a_whole_row_null_values_included(dbt_warehouse, landing):
    for table, table_rows in snapshot_day().items():
        insert_rows(landing, table, table_rows)

    pipeline.build(dbt_warehouse, layers=("ods", "dwd"))

    orders = dict(
        rows(
            landing,
            "SELECT order_record_id, (status, confirm_date_time, student_id, is_tracked) "
            "FROM dwd.cc_orders WHERE order_record_id IN ('7002', '7005')",
        )
    )
    assert orders == {
        "7002": (3, None, "1", False),  # not the older version's confirm time
        "7005": (3, "2026-11-20 14:00:00", None, True),  # not the older version's student
    }
    students = dict(rows(landing, "SELECT student_id, channel_id FROM dwd.students"))
    assert students["1005"] in ("", None)
    assert students["1006"] == "100"


def enter_row(user_id, classroom, user_type, spend, start_ms, success_ms):
    def business(ms: int) -> str:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        moment = datetime.fromtimestamp(ms / 1000, ZoneInfo("Asia/Shanghai"))
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]

    return {
        "user_id": user_id,
        "classroom_id": classroom,
        "user_type": user_type,
        "spend_time": spend,
        "event_time": business(start_ms),
        "create_time": business(success_ms),
        "processed_at": STAMP,
    }


def test_recorded_course_reconciliation_holds_with_late_session_starts(dbt_warehouse, landing):
    """Late PPT_START/PPT_PAGE and a late PPT_SUCCESS without an earlier event: the real-time
    rows are the rule over the on-time events, the offline rows the rule over all of them."""
    ten = 1_795_658_400_000  # 2026-11-20 10:00:00 Asia/Shanghai
    minute = 60_000
    # (user, classroom, sub_event, data_time, late)
    events = [
        (1, "c1", "PPT_START", ten, True),  # late start: rt measures from the page instead
        (1, "c1", "PPT_PAGE", ten + minute, False),
        (1, "c1", "PPT_SUCCESS", ten + 5 * minute, False),
        (2, "c1", "PPT_START", ten + 60 * minute, True),  # rt has no earlier event: no row
        (2, "c1", "PPT_SUCCESS", ten + 70 * minute, False),
        (3, "c2", "PPT_SUCCESS", ten + 120 * minute, True),  # late, no earlier event at all
        (4, "c2", "PPT_PAGE", ten + 180 * minute, True),  # late page in an on-time session
        (4, "c2", "PPT_START", ten + 179 * minute, False),
        (4, "c2", "PPT_SUCCESS", ten + 185 * minute, False),
        (5, "c2", "PPT_START", ten + 200 * minute, False),
        (5, "c2", "PPT_SUCCESS", ten + 205 * minute, True),  # late success with a session
    ]
    qos = [
        event_landed(
            {
                "classroom_id": classroom,
                "user_type": "student",
                "user_id": user_id,
                "event_time": data_time + 100,
                "sub_event": sub_event,
                "data_time": data_time,
                "ppt_index": None,
            }
        )
        for user_id, classroom, sub_event, data_time, _ in events
    ]
    late = [
        {
            "mart": "recorded_course_enter_time",
            "event_time": "x",
            "event_time_ms": data_time,
            "user_id": user_id,
            "classroom_id": classroom,
            "user_type": "student",
            "event": sub_event,
            "source_split": SPLIT,
            "processed_at": STAMP,
        }
        for user_id, classroom, sub_event, data_time, is_late in events
        if is_late
    ]
    # what the real-time job writes: the rule over the on-time events only (worked out by hand)
    real_time = [
        enter_row(1, "c1", "student", 4 * minute, ten + minute + 100, ten + 5 * minute + 100),
        enter_row(
            4, "c2", "student", 6 * minute, ten + 179 * minute + 100, ten + 185 * minute + 100
        ),
    ]
    insert_rows(landing, "ods.qos_log_clean", qos)
    insert_rows(landing, "ods.late_events", late)
    insert_rows(landing, "rt.recorded_course_enter_time_log", real_time)

    pipeline.build(dbt_warehouse)

    # offline: 1 (from the late start), 2, 4 and 5; real time: 1 and 4
    assert rows(
        landing,
        "SELECT rt_total, ads_total, late_events, unexplained, toString(status) "
        "FROM ads.rt_vs_offline_reconciliation WHERE mart = 'recorded_course_enter_time'",
    ) == [(2, 4, 5, 0, "ok")]
