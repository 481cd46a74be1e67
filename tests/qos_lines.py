"""``qos_log`` lines written by hand for the tests of the recorded-course mart: one student's
event in classroom ``c1`` at a data time, the client's event time 250 ms later (imported by name:
``from qos_lines import TEN, MINUTE, qos``)."""

from __future__ import annotations

import json

TEN = 1_795_658_400_000  # 2026-11-20 10:00:00 Asia/Shanghai
MINUTE = 60_000


def qos(user_id: int, sub_event: str, data_time: int) -> str:
    message = {
        "user_type": "student",
        "sub_event": sub_event,
        "classroom_id": "c1",
        "user_id": user_id,
        "event_time": data_time + 250,
        "extra": {"data_time": data_time},
    }
    return json.dumps(message)
