"""A small hand-made day on the seven source topics, one case per contract rule.

Every message is built here and every expected output row is written out by hand in the tests,
so a failure names the rule. Times are 2026-11-20 in Asia/Shanghai (08:00 there is 00:00 UTC).
Within each topic file the event times grow in arrival order except where a case says "late".
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")


def at(clock: str) -> int:
    """Epoch ms of ``HH:MM:SS[.fff]`` on 2026-11-20, business time zone."""
    fmt = "%H:%M:%S.%f" if "." in clock else "%H:%M:%S"
    moment = datetime.strptime(clock, fmt).replace(year=2026, month=11, day=20, tzinfo=ZONE)
    return int(moment.timestamp() * 1000)


def compact(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def timeline(
    clock: str,
    user: int,
    room: int,
    *,
    role: int = 2,
    msgid: int = 305,
    msgtype: int = 116,
    target: tuple[str, str, str, str] | None = None,
    page: int = 1,
    quoted: bool = False,
    created_ms: int | None = None,
) -> str:
    """A courseware message in the canonical layout (the generator's key order)."""
    event_ms = at(clock)
    number = (lambda value: str(value)) if quoted else (lambda value: value)
    msg: dict[str, Any] = {"msgtype": number(msgtype)}
    if target is not None:
        target_id, target_type, action, sub_action = target
        msg["msg_data"] = {
            "target_id": target_id,
            "target_type": target_type,
            "action": action,
            "sub_action": sub_action,
            "page_index": number(page),
        }
    created = event_ms + 300 if created_ms is None else created_ms
    return compact(
        {
            "createTime": number(created),
            "data": {
                "userid": number(user),
                "roomid": number(room),
                "timestamp": number(event_ms),
                "role": number(role),
                "msgid": number(msgid),
                "msg": msg,
            },
        }
    )


MOVE = ("pic_1", "shape", "move", "drag")
HOVER = ("pic_2", "shape", "mouse", "over")
LINE = ("line_1", "shape", "add", "pen")
PLAY = ("audio_1", "template", "audio", "start")
PAUSE = ("audio_1", "template", "audio", "pause")
WRONG = ("match", "template", "match", "drop:wrong")
CORRECT = ("match", "template", "match", "drop:correct")


def timeline_lines() -> list[str]:
    lines = [
        # one event per rule: room 100, user 1, 08:00:01..07
        timeline("08:00:01", 1, 100, target=MOVE),
        timeline("08:00:02", 1, 100, target=HOVER),
        timeline("08:00:03", 1, 100, target=LINE),
        timeline("08:00:04", 1, 100, target=PLAY),
        timeline("08:00:05", 1, 100, target=PAUSE),
        timeline("08:00:06", 1, 100, target=WRONG),
        timeline("08:00:07", 1, 100, target=CORRECT),
        # valid, but no rule matches
        timeline("08:00:08", 9, 100, role=1, target=MOVE),  # a teacher
        timeline("08:00:09", 1, 100, msgtype=117, target=MOVE),
        timeline("08:00:10", 1, 100, msgid=201, target=MOVE),
        timeline("08:00:11", 1, 100, target=("option_2", "template", "match", "drop:correct")),
        timeline("08:00:12", 1, 100, target=("match", "template", "match", "drop:Correct")),
        timeline("08:00:13", 1, 100, target=("audio_1", "template", "audio", "stop")),
        timeline("08:00:14", 1, 100, msgid=100, msgtype=2),  # no msg_data at all
        timeline("08:00:15", 1, 100, target=("pic_2", "shape", "mouse", "out")),
        # the same events in other layouts: numeric strings, spaces and key order, escapes
        timeline("08:00:20", 2, 100, target=MOVE, quoted=True),
        json.dumps(
            {
                "data": {
                    "msg": {
                        "msg_data": {
                            "sub_action": "over",
                            "action": "mouse",
                            "target_type": "shape",
                            "target_id": "pic_2",
                            "page_index": 3,
                        },
                        "msgtype": "116",
                    },
                    "role": 2,
                    "msgid": 305,
                    "userid": 2,
                    "roomid": "100",
                    "timestamp": at("08:00:21"),
                },
                "createTime": at("08:00:21") + 300,
            }
        ),
        timeline("08:00:22", 2, 100, target=('pic"1', "shape", "move", "drag")),
        # rejected, one per reason (none of them may reach a window or move a watermark)
        timeline("08:00:23", 1, 100, target=MOVE)[:60],
        "{'createTime': 1, 'data': {}}",
        "<html>502 Bad Gateway</html>",
        "[1,2,3]",
        "",
        compact({"data": json.loads(timeline("08:00:24", 1, 100, target=MOVE))["data"]}),
        timeline("08:00:25", 1, 100, target=MOVE).replace('"userid":1', '"userid":null'),
        timeline("08:00:26", 1, 100, target=MOVE).replace('"roomid":100', '"roomid":"abc"'),
        timeline("08:00:27", 1, 100, target=MOVE).replace('"msgtype":116', '"msgtype":{"a":1}'),
        timeline("08:00:28", 1, 100, target=MOVE).replace('"page_index":1', '"page_index":"1.5"'),
        timeline("08:00:29", 1, 100, target=MOVE, created_ms=at("08:00:29") - 300_001),
        compact({"createTime": at("08:00:29"), "data": "oops"}),
        # exactly 5 minutes ahead of the server is still natural
        timeline("08:00:30", 2, 100, target=PLAY, created_ms=at("08:00:30") - 300_000),
        # windows and the watermark (10 s), room 200, user 3
        timeline("08:01:10", 3, 200, target=MOVE),
        timeline("08:02:10", 3, 200, target=MOVE),  # watermark 08:02:00
        # unnatural: client two hours ahead; rejected, so it cannot move the watermark
        timeline("10:02:11", 3, 200, target=MOVE, created_ms=at("08:02:11")),
        timeline("08:00:40", 3, 200, target=MOVE),  # late: behind 08:02:00
        timeline("08:02:05", 3, 200, target=MOVE),  # behind the newest, not the watermark
        timeline("08:02:12", 3, 200, target=MOVE),
    ]
    return lines


TIMELINE_REJECTED = {
    "malformed_json": 5,
    "missing_field": 3,
    "wrong_type": 3,
    "future_timestamp": 2,
}


def agora(
    clock: str,
    *,
    user_type: str = "student",
    user: int | None = 21,
    channel: int | None = 600,
    classroom: str | None = "30",
    video: tuple[int, int] | None = None,
    audio: tuple[int, int] | None = None,
) -> str:
    document: dict[str, Any] = {
        "classroom_id": classroom,
        "user_type": user_type,
        "user_id": user,
        "agora_channel_id": channel,
        "event": "AGORA_QOS",
    }
    if video is not None:
        document["agora_videoState"] = {"fr": video[0], "uid": video[1]}
    if audio is not None:
        document["agora_audioState"] = {"lost": audio[0], "uid": audio[1]}
    document["messageCreateTime"] = at(clock)
    return compact(document)


def agora_lines() -> list[str]:
    return [
        agora("08:00:01", video=(30, 121), audio=(2, 121)),
        agora("08:00:05", audio=(0, 121)),
        agora("08:00:10", video=(20, 121)),
        agora("08:00:12", user_type="teacher", user=9, video=(15, 109), audio=(1, 109)),
        agora("08:00:15", video=(25, 121), audio=(-1, 121)),  # no audio metric
        agora("08:00:20", user=None, channel=None, classroom=None, audio=(1, 121)),
        agora("08:00:31", video=(10, 121), audio=(4, 121)),
        agora("08:01:20", audio=(1, 121)),  # watermark 08:01:10
        agora("08:00:40", video=(5, 121), audio=(3, 121)),  # late, for both metrics
        '{"classroom_id":"30","user_type":"student"',
        agora("08:01:21", audio=(2, 121)).replace(',"event":"AGORA_QOS"', ""),
        agora("08:01:21", video=(24, 121)).replace('"fr":24', '"fr":"x"'),
        # valid, keys in another order (general path)
        json.dumps(
            {
                "messageCreateTime": str(at("08:01:21")),
                "event": "AGORA_QOS",
                "agora_audioState": {"uid": "121", "lost": "2"},
                "user_id": "21",
                "user_type": "student",
                "agora_channel_id": 600,
                "classroom_id": "30",
            }
        ),
    ]


def qos(clock: str, user: int, classroom: str, sub_event: str, **extra: Any) -> str:
    event_ms = extra.pop("event_ms", at(clock) + 400)
    user_type = extra.pop("user_type", "student")
    return compact(
        {
            "classroom_id": classroom,
            "user_type": user_type,
            "user_id": user,
            "event_time": event_ms,
            "sub_event": sub_event,
            "extra": {"data_time": at(clock), "msg": {"pptIndex": 0}},
        }
    )


def qos_lines() -> list[str]:
    return [
        qos("04:59:59.999", 32, "51", "PPT_START"),  # 3 h + 1 ms before its success
        qos("05:00:00", 33, "52", "PPT_START"),  # exactly 3 h before its success
        qos("06:00:00", 32, "51", "PPT_PAGE"),
        qos("07:00:00", 31, "50", "PPT_START"),
        qos("07:01:00", 31, "50", "PPT_PAGE"),
        qos("07:02:00", 31, "50", "PPT_SUCCESS"),
        qos("07:05:00", 31, "50", "PPT_SUCCESS"),
        qos("07:10:00", 34, "53", "PPT_SUCCESS"),  # nothing earlier: no row
        qos("07:20:00", 35, "54", "PPT_START", event_ms=at("07:20:00.900")),
        qos("07:20:00", 35, "54", "PPT_PAGE", event_ms=at("07:20:00.100"), user_type="teacher"),
        qos("07:30:00", 35, "54", "PPT_SUCCESS"),
        qos("07:40:00", 36, "55", "PPT_START"),
        qos("07:40:00", 36, "55", "PPT_SUCCESS"),  # same time, not strictly earlier: no row
        qos("08:00:00", 32, "51", "PPT_SUCCESS"),
        qos("08:00:00", 33, "52", "PPT_SUCCESS"),
        qos("07:06:00", 31, "50", "PPT_SUCCESS"),  # late: behind 07:59:50
        "{not json",
        qos("08:01:00", 31, "50", "PPT_PAGE").replace(',"sub_event":"PPT_PAGE"', ""),
        qos("08:01:00", 31, "50", "PPT_PAGE").replace('"user_id":31', '"user_id":"x1"'),
    ]


def snapshot(**fields: Any) -> str:
    return compact(fields)


def channel(id_: str, level: str, update: str) -> str:
    return snapshot(
        id=id_,
        chinese_name=f"渠道{id_}",
        english_name=f"channel_{id_}",
        level=level,
        pid="10",
        create_time="2026-01-01 00:00:00",
        update_time=f"2026-11-20 {update}",
        dept_id="900",
    )


def user(id_: str, name: str, registered: str, update: str, status: str = "NORMAL") -> str:
    return snapshot(
        id=id_,
        name=name,
        register_date_time=f"2026-11-20 {registered}",
        status=status,
        update_time=f"2026-11-20 {update}",
    )


def student(id_: str, channel_id: str, update: str) -> str:
    return snapshot(id=id_, channel_id=channel_id, update_time=f"2026-11-20 {update}")


def order(id_: str, cc: int | str, status: int, confirm: str | None, update: str) -> str:
    return snapshot(
        id=id_,
        leads_flow_event_id="e",
        group_id="g",
        cc_id=cc,
        student_id="s",
        order_id="o" + id_,
        leads_id="l",
        confirm_date_time=confirm,
        create_time="2026-11-20 08:00:00",
        update_time=f"2026-11-20 {update}",
        order_create_time="2026-11-20 08:00:00",
        canceled_date_time=None,
        apply_refund_date=None,
        status=status,
    )


SNAPSHOT_FILES: dict[str, dict[str, list[str]]] = {
    "blink_stg_activity__channel_name_dictionary_da": {
        "a.jsonl": [channel("c1", "A", "07:00:00"), channel("c2", "E", "07:00:00")],
        "b.jsonl": [channel("c3", "B", "07:00:00"), channel("c1", "C", "07:30:00")],
    },
    "uc_account-user": {
        "a.jsonl": [
            user("u1", "Alice", "09:15:00", "09:15:00"),
            user("u2", "Bob", "09:20:00", "09:20:00"),
            user("u3", "Carl", "10:05:00", "10:05:00"),
            user("u5", "测试账号", "10:10:00", "10:10:00"),
            user("u6", "DM_robot", "10:10:00", "10:10:00"),
            user("u7", "my test", "10:10:00", "10:10:00"),
            user("u8", "Test Case", "10:30:00", "10:30:00"),
            user("u9", "Frozen", "10:40:00", "10:40:00", status="FROZEN"),
            user("u10", "Later frozen", "10:50:00", "08:00:00"),
            user("u11", "Later normal", "11:00:00", "08:00:00", status="FROZEN"),
            user("u12", "Tie by file", "11:30:00", "11:30:00"),
            user("u13", "Tie by line", "12:00:00", "12:00:00"),
            user("u14", "Out of order", "12:10:00", "12:10:00"),
            '{"id":"u15","name":"no status"}',
        ],
        "b.jsonl": [
            user("u10", "Later frozen", "10:50:00", "09:00:00", status="FROZEN"),
            user("u11", "Later normal", "11:00:00", "09:00:00"),
        ],
    },
    "uc_account-student": {
        "a.jsonl": [
            student("u1", "c1", "09:15:00"),
            student("u2", "c2", "09:20:00"),
            student("u3", "c404", "10:05:00"),
            student("u4", "c1", "10:06:00"),  # no user
            student("u5", "c1", "10:10:00"),
            student("u6", "c1", "10:10:00"),
            student("u7", "c1", "10:10:00"),
            student("u8", "c3", "10:30:00"),
            student("u9", "c1", "10:40:00"),
            student("u10", "c1", "10:50:00"),
            student("u11", "c3", "11:00:00"),
            student("u12", "c2", "08:30:00"),
            student("u13", "c3", "08:30:00"),
            student("u13", "c2", "08:30:00"),  # same update_time, later line: wins
            student("u14", "c3", "10:00:00"),
            "not json",
        ],
        "b.jsonl": [
            student("u12", "c3", "08:30:00"),  # same update_time, later file: wins
            student("u14", "c2", "09:00:00"),  # later file but older version: loses
        ],
    },
    "data_pack_order_info": {
        "a.jsonl": [
            order("o1", 7, 3, "2026-11-20 10:00:00", "10:00:00"),
            order("o2", 7, 3, "2026-11-20 11:00:00", "11:00:00"),
            order("o3", 8, 3, None, "09:00:00"),
            order("o4", "8", 3, "2026-11-19 23:59:59", "09:00:00"),
            order("o5", 7, 1, None, "09:30:00"),
            order("o6", 9, 3, "2026-11-20 13:00:00", "13:00:00"),
            order("o6", 9, 2, "2026-11-20 13:00:00", "13:00:00"),  # tie, later line wins
            order("o7", 9, 2, None, "13:10:00"),
            order("o8", "abc", 3, "2026-11-20 13:00:00", "13:00:00"),
        ],
        "b.jsonl": [
            order("o2", 7, 4, "2026-11-20 11:00:00", "12:00:00"),  # no longer confirmed
            order("o7", 9, 3, "2026-11-20 13:30:00", "13:10:00"),  # tie, later file wins
            '{"id":"o9","cc_id":1,"update_time":"2026-11-20 13:00:00"}',
        ],
    },
}


def write_scenario(root: Path) -> dict[str, int]:
    """Write every topic under ``root``; returns messages per topic."""
    files = {
        "timeline_client_topic": {"20261120T000000Z.jsonl": timeline_lines()},
        "agora_record": {"20261120T000000Z.jsonl": agora_lines()},
        "qos_log": {"20261120T000000Z.jsonl": qos_lines()},
        **SNAPSHOT_FILES,
    }
    counts: dict[str, int] = {}
    for topic, named in files.items():
        directory = root / topic
        directory.mkdir(parents=True, exist_ok=True)
        for name, lines in named.items():
            (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
            counts[topic] = counts.get(topic, 0) + len(lines)
        (directory / ".hidden.jsonl.inprogress").write_text("{}\n")  # never read
    return counts
