"""The cleaning jobs on hand-made messages outside the generator's byte layout (issues 10, 13).

Trailing content after the object (``{"a":1} trailing`` and ``{"a":1}{"b":2}`` in every topic), numbers and ids as strings or integers, other key orders,
escapes, CRLF line ends, repeated keys; a null or absent uc_account-student.channel_id (valid,
level 'other'); one bad value in every datetime and numeric field of every topic (wrong_type, so
nothing unparseable reaches the warehouse). The messages are produced into a real broker, the
cleaning jobs and the registrations mart run once on the PyFlink mini-cluster over Kafka, and
the outputs are read back read_committed; every expected row below is written out by hand.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from flink_helpers import FlinkRun, RunOverTopics, latest_versions

T0 = 1_795_132_800_000  # 2026-11-20 08:00:00 Asia/Shanghai

TIMELINE_MOVE = (
    '{"createTime":%d,"data":{"userid":1,"roomid":100,"timestamp":%d,"role":2,"msgid":305,'
    '"msg":{"msgtype":116,"msg_data":{"target_id":"pic_1","target_type":"shape","action":"move",'
    '"sub_action":"drag","page_index":1}}}}'
)


def fill(text: str, *numbers: int) -> str:
    """Each ``%d`` of ``text`` replaced by the next number."""
    for number in numbers:
        text = text.replace("%d", str(number), 1)
    return text


def timeline_move(at: int) -> str:
    return fill(TIMELINE_MOVE, at + 300, at)


def with_value(template: str, value: str) -> str:
    return template.replace("@", value)


TIMELINE_FIELD = (  # one field replaced by '@'
    '{"createTime":@,"data":{"userid":1,"roomid":100,"timestamp":%d,"role":2,"msgid":305,'
    '"msg":{"msgtype":116}}}',
    '{"createTime":%d,"data":{"userid":@,"roomid":100,"timestamp":%d,"role":2,"msgid":305,'
    '"msg":{"msgtype":116}}}',
    '{"createTime":%d,"data":{"userid":1,"roomid":100,"timestamp":%d,"role":@,"msgid":305,'
    '"msg":{"msgtype":116}}}',
    '{"createTime":%d,"data":{"userid":1,"roomid":100,"timestamp":%d,"role":2,"msgid":@,'
    '"msg":{"msgtype":116}}}',
    '{"createTime":%d,"data":{"userid":1,"roomid":100,"timestamp":%d,"role":2,"msgid":305,'
    '"msg":{"msgtype":116,"msg_data":{"page_index":@}}}}',
)
TIMELINE_FIELD = tuple(fill(template, T0, T0) for template in TIMELINE_FIELD)

TIMELINE_LINES = {
    # valid, classified: the canonical layout and the same event in other layouts
    "canonical": timeline_move(T0 + 1000),
    "strings_reordered_crlf": fill(
        '{ "data" : { "msg" : { "msg_data" : { "sub_action" : "drag" , "action" : "move" ,'
        ' "target_type" : "shape" , "target_id" : "\\u56fe\\u7247" , "page_index" : "2" } ,'
        ' "msgtype" : "116" } , "msgid" : "305" , "role" : "2" , "timestamp" : "%d" ,'
        ' "roomid" : "100" , "us\\u0065rid" : "1" } , "createTime" : "%d" }\r',
        T0 + 2000,
        T0 + 2300,
    ),
    "repeated_key": timeline_move(T0 + 3000).replace('"userid":1', '"userid":"not yet","userid":7'),
    # not one JSON object
    "trailing_word": timeline_move(T0) + " trailing",
    "two_objects": timeline_move(T0) + '{"b":2}',
    "extra_brace": timeline_move(T0) + "}",
    "trailing_number": timeline_move(T0) + " 1",
    # wrong types, one field each
    "create_time_datetime": with_value(TIMELINE_FIELD[0], '"2026-11-20 08:00:00"'),
    "create_time_fraction": with_value(TIMELINE_FIELD[0], f"{T0}.5"),
    "user_id_too_big": with_value(TIMELINE_FIELD[1], "9223372036854775808"),
    "role_fraction": with_value(TIMELINE_FIELD[2], "2.0"),
    "role_beyond_int": with_value(TIMELINE_FIELD[2], "2147483648"),
    "msgid_exponent": with_value(TIMELINE_FIELD[3], "3.05e2"),
    "page_index_empty": with_value(TIMELINE_FIELD[4], '""'),
    "page_index_plus": with_value(TIMELINE_FIELD[4], '"+1"'),
    # missing: a nested object that is null
    "msg_null": fill(
        '{"createTime":%d,"data":{"userid":1,"roomid":100,"timestamp":%d,"role":2,'
        '"msgid":305,"msg":null}}',
        T0,
        T0,
    ),
}
TIMELINE_REASONS = {
    "trailing_word": "malformed_json",
    "two_objects": "malformed_json",
    "extra_brace": "malformed_json",
    "trailing_number": "malformed_json",
    "create_time_datetime": "wrong_type",
    "create_time_fraction": "wrong_type",
    "user_id_too_big": "wrong_type",
    "role_fraction": "wrong_type",
    "role_beyond_int": "wrong_type",
    "msgid_exponent": "wrong_type",
    "page_index_empty": "wrong_type",
    "page_index_plus": "wrong_type",
    "msg_null": "missing_field",
}

AGORA = fill(
    '{"classroom_id":"30","user_type":"student","user_id":21,"agora_channel_id":600,'
    '"event":"AGORA_QOS","agora_videoState":{"fr":30,"uid":121},'
    '"agora_audioState":{"lost":2,"uid":121},"messageCreateTime":%d}',
    T0,
)
AGORA_LINES = {
    "integer_classroom": AGORA.replace('"classroom_id":"30"', '"classroom_id":31'),
    "numeric_strings": AGORA.replace('"user_id":21', '"user_id":"22"').replace(
        '"fr":30', '"fr":"31"'
    ),
    "trailing": AGORA + " x",
    "bad_user_id": AGORA.replace('"user_id":21', '"user_id":"abc"'),
    "bad_channel": AGORA.replace('"agora_channel_id":600', '"agora_channel_id":600.5'),
    "bad_fr": AGORA.replace('"fr":30', '"fr":"x"'),
    "bad_video_uid": AGORA.replace('"fr":30,"uid":121', '"fr":30,"uid":true'),
    "bad_lost": AGORA.replace('"lost":2', '"lost":{}'),
    "bad_audio_uid": AGORA.replace('"lost":2,"uid":121', '"lost":2,"uid":"1 21"'),
    "bad_create_time": AGORA.replace(str(T0), '"2026-11-20 08:00:00"'),
    "object_classroom": AGORA.replace('"classroom_id":"30"', '"classroom_id":{"id":30}'),
}
AGORA_REASONS = {
    name: "wrong_type" for name in AGORA_LINES if name.startswith(("bad_", "object_"))
} | {"trailing": "malformed_json"}

QOS = fill(
    '{"classroom_id":"50","user_type":"student","user_id":31,"event_time":%d,'
    '"sub_event":"PPT_START","extra":{"data_time":%d,"msg":{"pptIndex":0}}}',
    T0 + 400,
    T0,
)
QOS_LINES = {
    "integer_ids": QOS.replace('"classroom_id":"50"', '"classroom_id":52').replace(
        '"user_id":31', '"user_id":"32"'
    ),
    "trailing": QOS + "{}",
    "bad_user_id": QOS.replace('"user_id":31', '"user_id":"x1"'),
    "bad_event_time": QOS.replace(str(T0 + 400), '"N/A"'),
    "bad_data_time": QOS.replace(f'"data_time":{T0}', f'"data_time":{T0}.0'),
    "bad_ppt_index": QOS.replace('"pptIndex":0', '"pptIndex":"1e2"'),
}
QOS_REASONS = {name: "wrong_type" for name in QOS_LINES if name.startswith("bad_")} | {
    "trailing": "malformed_json"
}

STUDENT_LINES = {
    "channel_null": '{"id":"s1","channel_id":null,"update_time":"2026-11-20 09:15:00"}',
    "channel_absent": '{"update_time":"2026-11-20 10:20:00","id":"s2"}',
    "integer_ids": '{"id":3,"channel_id":100,"update_time":"2026-11-20 11:00:00"}',
    "channel_object": '{"id":"s4","channel_id":{},"update_time":"2026-11-20 11:00:00"}',
    "bad_update_time": '{"id":"s5","channel_id":"100","update_time":"2024-02-30 10:00:00"}',
    "update_time_word": '{"id":"s6","channel_id":"100","update_time":"yesterday"}',
    "trailing": '{"id":"s7","channel_id":"100","update_time":"2026-11-20 11:00:00"}}',
    "id_null": '{"id":null,"channel_id":"100","update_time":"2026-11-20 11:00:00"}',
}
STUDENT_REASONS = {
    "channel_object": "wrong_type",
    "bad_update_time": "wrong_type",
    "update_time_word": "wrong_type",
    "trailing": "malformed_json",
    "id_null": "missing_field",
}

USER = (
    '{"id":"s1","name":"Alice","register_date_time":"2026-11-20 09:15:00","status":"NORMAL",'
    '"update_time":"2026-11-20 09:15:00"}'
)
USER_LINES = {
    "s1": USER,
    "s2": USER.replace('"s1"', '"s2"').replace("09:15:00", "10:20:00"),
    "s3": USER.replace('"s1"', "3").replace("09:15:00", "11:00:00"),  # an integer id
    "bad_register": USER.replace('"s1"', '"s8"').replace(
        '"register_date_time":"2026-11-20 09:15:00"', '"register_date_time":"N/A"'
    ),
    "bad_update": USER.replace('"s1"', '"s9"').replace(
        '"update_time":"2026-11-20 09:15:00"', '"update_time":"2026-11-20 24:00:00"'
    ),
    "two_objects": USER + '{"b":2}',
}
USER_REASONS = {
    "bad_register": "wrong_type",
    "bad_update": "wrong_type",
    "two_objects": "malformed_json",
}

CHANNEL = (
    '{"id":"100","chinese_name":"渠道","english_name":"channel","level":"A","pid":"10",'
    '"create_time":"2026-01-01 00:00:00","update_time":"2026-11-20 07:00:00","dept_id":"900"}'
)
CHANNEL_LINES = {
    "integer_ids": CHANNEL.replace('"pid":"10"', '"pid":10').replace(
        '"dept_id":"900"', '"dept_id":900'
    ),
    "bad_create_time": CHANNEL.replace("2026-01-01 00:00:00", "2026-13-01 00:00:00"),
    "bad_update_time": CHANNEL.replace("2026-11-20 07:00:00", ""),
}
CHANNEL_REASONS = {"bad_create_time": "wrong_type", "bad_update_time": "wrong_type"}

ORDER = (
    '{"id":"o1","leads_flow_event_id":"e","group_id":"g","cc_id":7,"student_id":"s",'
    '"order_id":"oo1","leads_id":"l","confirm_date_time":"2026-11-20 10:00:00",'
    '"create_time":"2026-11-20 08:00:00","update_time":"2026-11-20 10:00:00",'
    '"order_create_time":"2026-11-20 08:00:00","canceled_date_time":null,'
    '"apply_refund_date":null,"status":3}'
)
ORDER_LINES = {
    "valid": ORDER,
    "confirm_null_string_numbers": ORDER.replace(
        '"confirm_date_time":"2026-11-20 10:00:00"', '"confirm_date_time":null'
    )
    .replace('"cc_id":7', '"cc_id":"8"')
    .replace('"status":3', '"status":"4"'),
    "bad_confirm": ORDER.replace(
        '"confirm_date_time":"2026-11-20 10:00:00"', '"confirm_date_time":"N/A"'
    ),
    "bad_create": ORDER.replace('"create_time":"2026-11-20 08:00:00"', '"create_time":"yesterday"'),
    "bad_update": ORDER.replace(
        '"update_time":"2026-11-20 10:00:00"', '"update_time":"2024-02-30 10:00:00"'
    ),
    "bad_order_create": ORDER.replace(
        '"order_create_time":"2026-11-20 08:00:00"', '"order_create_time":"2026-11-20"'
    ),
    "bad_canceled": ORDER.replace(
        '"canceled_date_time":null', '"canceled_date_time":"2026-11-20T10:00:00"'
    ),
    "bad_refund": ORDER.replace('"apply_refund_date":null', '"apply_refund_date":20261120'),
    "bad_cc_id": ORDER.replace('"cc_id":7', '"cc_id":"12abc"'),
    "bad_status": ORDER.replace('"status":3', '"status":3.0'),
    "status_beyond_int": ORDER.replace('"status":3', '"status":2147483648'),
    "trailing": ORDER + " ,",
}
ORDER_REASONS = {
    name: "wrong_type" for name in ORDER_LINES if name.startswith(("bad_", "status_"))
} | {"trailing": "malformed_json"}

TOPIC_LINES = {
    "timeline_client_topic": TIMELINE_LINES,
    "agora_record": AGORA_LINES,
    "qos_log": QOS_LINES,
    "uc_account-student": STUDENT_LINES,
    "uc_account-user": USER_LINES,
    "blink_stg_activity__channel_name_dictionary_da": CHANNEL_LINES,
    "data_pack_order_info": ORDER_LINES,
}
TOPIC_REASONS = {
    "timeline_client_topic": TIMELINE_REASONS,
    "agora_record": AGORA_REASONS,
    "qos_log": QOS_REASONS,
    "uc_account-student": STUDENT_REASONS,
    "uc_account-user": USER_REASONS,
    "blink_stg_activity__channel_name_dictionary_da": CHANNEL_REASONS,
    "data_pack_order_info": ORDER_REASONS,
}
# one JSON object and then more: not one message, whatever the object holds (issue 10)
TRAILING_CONTENT = {"object_then_word": '{"a":1} trailing', "two_objects_bare": '{"a":1}{"b":2}'}
for _topic, _lines in TOPIC_LINES.items():
    _lines.update(TRAILING_CONTENT)
    TOPIC_REASONS[_topic].update(dict.fromkeys(TRAILING_CONTENT, "malformed_json"))
JOBS = (
    "clean_timeline_client_topic",
    "clean_agora_record",
    "clean_qos_log",
    "clean_uc_account_student",
    "clean_uc_account_user",
    "clean_channel_name_dictionary",
    "clean_data_pack_order_info",
    "mart_registrations_hourly_by_level",
)


def write_topic_lines(topics: Path) -> None:
    for topic, lines in TOPIC_LINES.items():
        (topics / topic).mkdir(parents=True)
        text = "\n".join(lines.values()) + "\n"
        (topics / topic / "20261120T000000Z.jsonl").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def outputs(run_over_topics: RunOverTopics) -> FlinkRun:
    return run_over_topics("cleaning_rules", write_topic_lines, JOBS)[0]


def test_every_rejection_has_its_reason_and_nothing_else_is_rejected(outputs: FlinkRun) -> None:
    got = Counter(
        (row["topic"], row["payload"], row["reason"]) for row in outputs.rows("rejected_messages")
    )
    want = Counter(
        (topic, TOPIC_LINES[topic][name].removesuffix("\r"), reason)
        for topic, reasons in TOPIC_REASONS.items()
        for name, reason in reasons.items()
    )
    assert got == want


def test_trailing_content_is_rejected_as_malformed_json_in_every_topic(outputs: FlinkRun) -> None:
    got = {
        (row["topic"], row["payload"]): row["reason"]
        for row in outputs.rows("rejected_messages")
        if row["payload"] in TRAILING_CONTENT.values()
    }
    assert got == {
        (topic, line): "malformed_json"
        for topic in TOPIC_LINES
        for line in TRAILING_CONTENT.values()
    }


def test_counts_add_up_per_topic(outputs: FlinkRun) -> None:
    accounting = outputs.accounting
    assert accounting.holds
    # what each topic holds by its offsets: every line produced, none lost, none doubled
    assert (
        outputs.held
        == outputs.produced
        == {topic: len(lines) for topic, lines in TOPIC_LINES.items()}
    )
    got = {
        item.topic: (item.messages_read, item.accepted, item.rejected) for item in accounting.topics
    }
    assert got == {
        topic: (len(lines), len(lines) - len(TOPIC_REASONS[topic]), len(TOPIC_REASONS[topic]))
        for topic, lines in TOPIC_LINES.items()
    }


def test_courseware_layouts_clean_to_the_same_event(outputs: FlinkRun) -> None:
    rows = sorted(
        (
            row["messageTimeStamp"] - T0,
            row["messageCreateTime"] - row["messageTimeStamp"],
            row["userId"],
            row["roomId"],
            row["role"],
            row["msgId"],
            row["msgType"],
            row["targetId"],
            row["pageIndex"],
            row["event"],
        )
        for row in outputs.rows("timeline_analysis_student")
    )
    assert rows == [
        (1000, 300, 1, 100, 2, 305, 116, "pic_1", 1, "STUDENT_MOVE_PICTURE"),
        (2000, 300, 1, 100, 2, 305, 116, "图片", 2, "STUDENT_MOVE_PICTURE"),
        (3000, 300, 7, 100, 2, 305, 116, "pic_1", 1, "STUDENT_MOVE_PICTURE"),  # the last userid
    ]


def test_agora_and_qos_take_ids_and_numbers_as_strings_or_integers(outputs: FlinkRun) -> None:
    agora = sorted(
        (row["classroom_id"], row["user_id"], row["video_fr"], row["audio_lost"])
        for row in outputs.rows("agora_record_clean")
    )
    assert agora == [("30", 22, 31, 2), ("31", 21, 30, 2)]
    qos = [
        (row["classroom_id"], row["user_id"], row["event_time"] - T0, row["ppt_index"])
        for row in outputs.rows("qos_log_clean")
    ]
    assert qos == [("52", 32, 400, 0)]


def test_students_without_a_channel_are_valid(outputs: FlinkRun) -> None:
    students = sorted(
        (row["id"], row["channel_id"], row["update_time"])
        for row in outputs.rows("uc_account_student_clean")
    )
    assert students == [
        ("3", "100", "2026-11-20 11:00:00"),
        ("s1", None, "2026-11-20 09:15:00"),
        ("s2", None, "2026-11-20 10:20:00"),
    ]


def test_students_without_a_channel_count_as_other(outputs: FlinkRun) -> None:
    current = latest_versions(outputs.rows("registrations_hourly_by_level"), ("reg_hour", "level"))
    assert {key: row["leads"] for key, row in current.items()} == {
        (2026112009, "other"): 1,  # s1: channel_id null
        (2026112010, "other"): 1,  # s2: no channel_id
        (2026112011, "A"): 1,  # 3 (an integer id on both sides): channel 100, level A
    }


def test_snapshot_rows_keep_their_text_and_typed_numbers(outputs: FlinkRun) -> None:
    channels = [
        (row["id"], row["pid"], row["dept_id"])
        for row in outputs.rows("channel_name_dictionary_clean")
    ]
    assert channels == [("100", "10", "900")]
    orders = sorted(
        (row["cc_id"], row["status"], row["confirm_date_time"], row["canceled_date_time"])
        for row in outputs.rows("data_pack_order_info_clean")
    )
    assert orders == [(7, 3, "2026-11-20 10:00:00", None), (8, 4, None, None)]
    users = sorted(
        (row["id"], row["register_date_time"]) for row in outputs.rows("uc_account_user_clean")
    )
    assert users == [
        ("3", "2026-11-20 11:00:00"),
        ("s1", "2026-11-20 09:15:00"),
        ("s2", "2026-11-20 10:20:00"),
    ]
