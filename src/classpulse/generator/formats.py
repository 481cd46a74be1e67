"""Message formats: numbers as JSON numbers or numeric strings, and the line templates."""

from __future__ import annotations

import json
from collections.abc import Callable

from classpulse.generator.records import AgoraRecord


def quote_number(value: int) -> str:
    return f'"{value}"'


BARE = str
QUOTED = quote_number
# pattern 0: all bare, 1: all quoted, 2: even positions quoted, 3: odd positions quoted
PATTERN_TABLE = (0,) * 12 + (1,) * 2 + (2,) * 3 + (3,) * 3


def make_quoters(width: int) -> tuple[tuple[Callable[[int], str], ...], ...]:
    return (
        (BARE,) * width,
        (QUOTED,) * width,
        tuple(QUOTED if i % 2 == 0 else BARE for i in range(width)),
        tuple(QUOTED if i % 2 == 1 else BARE for i in range(width)),
    )


QUOTERS_8 = make_quoters(8)
QUOTERS_7 = make_quoters(7)
QUOTERS_4 = make_quoters(4)


def format_nullable(value: int | None, quoter: Callable[[int], str]) -> str:
    return "null" if value is None else quoter(value)


def dump_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------
CLASSROOM_PREFIX = '{"classroom_id":"'


def build_agora_templates() -> dict[tuple[int, bool, bool], str]:
    """(pattern, has video, has audio) -> %-template for records without null keys."""
    templates = {}
    for pattern in range(4):
        q = QUOTERS_7[pattern]

        def slot(position: int, quoters: tuple[Callable[[int], str], ...] = q) -> str:
            return '"%d"' if quoters[position] is QUOTED else "%d"

        for video in (False, True):
            for audio in (False, True):
                text = (
                    f'{{"classroom_id":"%s","user_type":"%s","user_id":{slot(1)},'
                    f'"agora_channel_id":{slot(2)},"event":"%s"'
                )
                if video:
                    text += f',"agora_videoState":{{"fr":{slot(3)},"uid":{slot(4)}}}'
                if audio:
                    text += f',"agora_audioState":{{"lost":{slot(5)},"uid":{slot(6)}}}'
                templates[(pattern, video, audio)] = text + f',"messageCreateTime":{slot(0)}}}'
    return templates


AGORA_TEMPLATES = build_agora_templates()


def format_agora_slowly(record: AgoraRecord, pattern: int) -> tuple[str, bool]:
    """Records with a null key (rare): built piece by piece."""
    _, created, classroom, user_type, user, channel, event, fr, video_uid, lost, audio_uid, _ = (
        record
    )
    q = QUOTERS_7[pattern]
    room = "null" if classroom is None else f'"{classroom}"'
    text = (
        f'{{"classroom_id":{room},"user_type":"{user_type}","user_id":{format_nullable(user, q[1])},'
        f'"agora_channel_id":{format_nullable(channel, q[2])},"event":"{event}"'
    )
    if fr is not None:
        text += f',"agora_videoState":{{"fr":{q[3](fr)},"uid":{q[4](video_uid)}}}'
    if lost is not None:
        text += f',"agora_audioState":{{"lost":{q[5](lost)},"uid":{q[6](audio_uid)}}}'
    text += f',"messageCreateTime":{q[0](created)}}}'
    has_string = pattern in (1, 2) or (
        pattern == 3 and (user is not None or fr is not None or lost is not None)
    )
    return text, has_string


def build_qos_templates() -> dict[tuple[int, bool], str]:
    """(pattern, has pptIndex) -> %-template."""
    templates = {}
    for pattern in range(4):
        q = QUOTERS_4[pattern]

        def slot(position: int, quoters: tuple[Callable[[int], str], ...] = q) -> str:
            return '"%d"' if quoters[position] is QUOTED else "%d"

        head = (
            f'{{"classroom_id":"%s","user_type":"%s","user_id":{slot(1)},"event_time":{slot(0)},'
            f'"sub_event":"%s","extra":{{"data_time":{slot(2)}'
        )
        templates[(pattern, False)] = head + "}}"
        templates[(pattern, True)] = head + f',"msg":{{"pptIndex":{slot(3)}}}}}}}'
    return templates


QOS_TEMPLATES = build_qos_templates()
