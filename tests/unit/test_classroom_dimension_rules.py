"""The oracle's dimension columns (LIVE_CLASSROOM_CONTRACT.md C), written out by hand."""

from __future__ import annotations

from classpulse.classroom_help.rules import (
    PublishedMember,
    PublishedRoom,
    dimension_columns,
    enrich_rows,
)

ROOMS = [
    PublishedRoom(1, 10, "2026-11-20", "in_class", 2, 300, 40, 7),
    PublishedRoom(1, 11, "2026-11-21", "post_class", 3, 301, 41, 7),  # greatest lesson wins
    PublishedRoom(2, 12, "2026-11-20", "main", 90, 0, 42, 7),
]
MEMBERS = [
    PublishedMember(11, 1, 200, 305, 70, 80),
    PublishedMember(10, 1, 201, 306, 71, 81),  # a member of the older lesson only
]
MIDNIGHT_SHANGHAI = 1_795_190_400_000  # 2026-11-21 00:00 Asia/Shanghai = 2026-11-20 16:00 UTC


def test_each_status_and_its_columns() -> None:
    ok = dimension_columns(1, 200, "student", 0, ROOMS, MEMBERS)
    assert ok == {
        "lesson_id": 11, "lesson_date": "2026-11-21", "room_role": "post_class",
        "expected_members": 3, "tutor_id": 305, "class_id": 70, "org_node_id": 80,
        "dim_run_id": 7, "dim_status": "ok",
    }  # fmt: skip
    teacher = dimension_columns(1, 100, "teacher", 0, ROOMS, MEMBERS)
    assert (teacher["tutor_id"], teacher["class_id"], teacher["org_node_id"]) == (301, 0, 41)
    assert teacher["dim_status"] == "ok"
    older = dimension_columns(1, 201, "student", 0, ROOMS, MEMBERS)
    assert older["dim_status"] == "member_unknown"
    assert (older["lesson_id"], older["tutor_id"], older["class_id"], older["org_node_id"]) == (
        11, 301, 0, 41,
    )  # fmt: skip
    unknown = dimension_columns(9, 200, "student", MIDNIGHT_SHANGHAI, ROOMS, MEMBERS)
    assert unknown == {
        "lesson_id": 0, "lesson_date": "2026-11-21", "room_role": "", "expected_members": 0,
        "tutor_id": 0, "class_id": 0, "org_node_id": 0, "dim_run_id": 0,
        "dim_status": "room_unknown",
    }  # fmt: skip
    timed_out = dimension_columns(1, 200, "student", MIDNIGHT_SHANGHAI - 1, ROOMS, MEMBERS,
                                  timed_out=True)  # fmt: skip
    assert timed_out["dim_status"] == "lookup_timeout"
    assert (timed_out["lesson_id"], timed_out["lesson_date"]) == (0, "2026-11-20")


def test_rule_4_calls_the_requesting_students_tutor() -> None:
    rows = [
        {"room_id": 1, "user_id": 200, "role": "student", "request_time": 0,
         "category": "peer_absent", "target_user_id": 0},
        {"room_id": 1, "user_id": 100, "role": "teacher", "request_time": 0,
         "category": "peer_absent", "target_user_id": 0},
        {"room_id": 9, "user_id": 200, "role": "student", "request_time": 0,
         "category": "peer_absent", "target_user_id": 0},
        {"room_id": 1, "user_id": 200, "role": "student", "request_time": 0,
         "category": "media", "target_user_id": 200},
    ]  # fmt: skip
    targets = [r["target_user_id"] for r in enrich_rows(rows, "request_time", ROOMS, MEMBERS)]
    assert targets == [305, 0, 0, 200]
