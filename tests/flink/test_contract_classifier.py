"""The oracle of the differential test checked on the contract's own examples (no JVM)."""

from __future__ import annotations

import pytest
from contract_classifier import classify

STUDENT = "uc_account-student"
USER = "uc_account-user"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ('{"id":"s1","update_time":"2026-11-20 10:00:00"} trailing', "malformed_json"),
        ('{"id":"s1","update_time":"2026-11-20 10:00:00"}{"b":2}', "malformed_json"),
        ('{"id":"s1","update_time":"2026-11-20 10:00:00"}}', "malformed_json"),
        ('{"id":"s1","update_time":NaN}', "malformed_json"),
        ("[1,2,3]", "malformed_json"),
        ("", "malformed_json"),
        ('{"id":null,"update_time":"2026-11-20 10:00:00"}', "missing_field"),
        ('{"id":"s1"}', "missing_field"),
        ('{"id":"s1","update_time":"yesterday"}', "wrong_type"),
        ('{"id":"s1","update_time":"N/A"}', "wrong_type"),
        ('{"id":"s1","update_time":"2024-02-30 10:00:00"}', "wrong_type"),
        ('{"id":1.5,"update_time":"2024-02-29 10:00:00"}', "wrong_type"),
        ('{"id":"s1","channel_id":{},"update_time":"2024-02-29 10:00:00"}', "wrong_type"),
        ('{"id":"s1","channel_id":null,"update_time":"2024-02-29 10:00:00"}', None),
        ('{"id":42,"update_time":"2024-02-29 10:00:00"}', None),
    ],
)
def test_student_rules(payload: str, reason: str | None) -> None:
    assert classify(STUDENT, payload).reason == reason


def test_ids_and_numbers_as_strings_or_integers_are_the_same() -> None:
    as_integers = classify(
        "qos_log",
        '{"classroom_id":52,"user_id":31,"event_time":5,"sub_event":"PPT_START",'
        '"extra":{"data_time":4}}',
    )
    as_strings = classify(
        "qos_log",
        '{"classroom_id":"52","user_id":"31","event_time":"5","sub_event":"PPT_START",'
        '"extra":{"data_time":"4"}}',
    )
    assert as_integers.row == as_strings.row
    assert as_integers.row is not None and as_integers.row["classroom_id"] == "52"
    fraction = '{"classroom_id":"52","user_id":31.0,"event_time":5,"sub_event":"x","extra":{"data_time":4}}'
    assert classify("qos_log", fraction).reason == "wrong_type"


def test_clock_skew_and_events() -> None:
    message = (
        '{"createTime":1000,"data":{"userid":1,"roomid":2,"timestamp":%d,"role":2,"msgid":305,'
        '"msg":{"msgtype":116,"msg_data":{"target_id":"match","target_type":"template",'
        '"action":"match","sub_action":"drop:wrong"}}}}'
    )
    assert classify("timeline_client_topic", message.replace("%d", "301000")).event == (
        "STUDENT_MATCH_WRONG"
    )
    assert classify("timeline_client_topic", message.replace("%d", "301001")).reason == (
        "future_timestamp"
    )


def test_a_repeated_key_takes_its_last_value() -> None:
    verdict = classify(
        USER,
        '{"id":"u","id":"v","name":"n","register_date_time":'
        '"2024-01-01 00:00:00","status":"NORMAL","update_time":"2024-01-01 00:00:00"}',
    )
    assert verdict.row is not None and verdict.row["id"] == "v"
