"""Courseware message kinds of timeline_client_topic and the tables that pick them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from classpulse.generator.contract import STUDENT_EVENTS
from classpulse.generator.formats import QUOTED, QUOTERS_8, dump_json

# Courseware message kinds (timeline_client_topic)


@dataclass(frozen=True)
class MessageKind:
    """One kind of courseware message: ids, the msg_data fragments, and its event."""

    name: str
    role: int
    msgid: int
    msgtype: int
    fragments: tuple[str, ...]  # JSON fragments of msg_data without page_index; () = none
    event: int  # index into STUDENT_EVENTS, -1 when the message carries no event
    weight: int  # per mille within its participant's table


def build_fragments(
    target_ids: Sequence[str], target_type: str, action: str, sub_actions: Sequence[str]
) -> tuple[str, ...]:
    return tuple(
        f'"target_id":{dump_json(target)},"target_type":{dump_json(target_type)},'
        f'"action":{dump_json(action)},"sub_action":{dump_json(sub)}'
        for target in target_ids
        for sub in sub_actions
    )


PICTURES = tuple(f"pic_{n}" for n in range(1, 9))
LINES = tuple(f"line_{n}" for n in range(1, 5))
AUDIOS = tuple(f"audio_{n}" for n in range(1, 5))


def build_student_kinds() -> list[MessageKind]:
    event = STUDENT_EVENTS.index
    return [
        MessageKind("move", 2, 305, 116, build_fragments(PICTURES, "shape", "move", ("drag", "drop")), event("STUDENT_MOVE_PICTURE"), 200),
        MessageKind("hover", 2, 305, 116, build_fragments(PICTURES, "shape", "mouse", ("over",)), event("STUDENT_HOVER_PICTURE"), 150),
        MessageKind("line", 2, 305, 116, build_fragments(LINES, "shape", "add", ("pen", "line")), event("STUDENT_LINE_DRAW"), 120),
        MessageKind("audio_play", 2, 305, 116, build_fragments(AUDIOS, "template", "audio", ("start",)), event("STUDENT_AUDIO_PLAY"), 90),
        MessageKind("audio_pause", 2, 305, 116, build_fragments(AUDIOS, "template", "audio", ("pause",)), event("STUDENT_AUDIO_PAUSE"), 60),
        MessageKind("match_wrong", 2, 305, 116, build_fragments(("match",), "template", "match", ("drop:wrong",)), event("STUDENT_MATCH_WRONG"), 60),
        MessageKind("match_correct", 2, 305, 116, build_fragments(("match",), "template", "match", ("drop:correct",)), event("STUDENT_MATCH_CORRECT"), 100),
        # valid, unclassified near misses
        MessageKind("hover_out", 2, 305, 116, build_fragments(PICTURES, "shape", "mouse", ("out",)), -1, 40),
        MessageKind("audio_stop", 2, 305, 116, build_fragments(AUDIOS, "template", "audio", ("stop",)), -1, 20),
        MessageKind("match_option", 2, 305, 116, build_fragments(("option_2",), "template", "match", ("drop:correct",)), -1, 20),
        MessageKind("match_case", 2, 305, 116, build_fragments(("match",), "template", "match", ("drop:Correct",)), -1, 10),
        MessageKind("shape_case", 2, 305, 116, build_fragments(PICTURES[:2], "Shape", "move", ("drag",)), -1, 10),
        MessageKind("rotate", 2, 305, 116, build_fragments(PICTURES[:4], "shape", "rotate", ("cw",)), -1, 20),
        MessageKind("other_msgtype", 2, 305, 117, build_fragments(PICTURES[:4], "shape", "move", ("drag",)), -1, 20),
        MessageKind("other_msgid", 2, 306, 116, build_fragments(PICTURES[:4], "shape", "move", ("drag",)), -1, 10),
        MessageKind("chat", 2, 101, 1, build_fragments(("chat",), "text", "send", ("plain",)), -1, 40),
        MessageKind("hand_up", 2, 102, 5, build_fragments(("hand",), "button", "raise", ("up",)), -1, 30),
    ]  # fmt: skip


def build_teacher_kinds() -> list[MessageKind]:
    return [
        MessageKind("page_turn", 1, 305, 116, build_fragments(("ppt",), "page", "turn", ("next", "prev")), -1, 400),
        MessageKind("teacher_move", 1, 305, 116, build_fragments(PICTURES, "shape", "move", ("drag",)), -1, 250),
        MessageKind("teacher_audio", 1, 305, 116, build_fragments(AUDIOS, "template", "audio", ("start",)), -1, 150),
        MessageKind("teacher_match", 1, 305, 116, build_fragments(("match",), "template", "match", ("drop:correct",)), -1, 100),
        MessageKind("teacher_chat", 1, 101, 1, build_fragments(("chat",), "text", "send", ("plain",)), -1, 100),
    ]  # fmt: skip


STUDENT_KINDS = build_student_kinds()
TEACHER_KINDS = build_teacher_kinds()
HEARTBEAT_STUDENT = MessageKind("heartbeat", 2, 100, 2, (), -1, 0)
HEARTBEAT_TEACHER = MessageKind("heartbeat", 1, 100, 2, (), -1, 0)
KINDS: list[MessageKind] = [*STUDENT_KINDS, *TEACHER_KINDS, HEARTBEAT_STUDENT, HEARTBEAT_TEACHER]
KIND_INDEX = {id(kind): index for index, kind in enumerate(KINDS)}
HEARTBEAT_STUDENT_INDEX = KIND_INDEX[id(HEARTBEAT_STUDENT)]
HEARTBEAT_TEACHER_INDEX = KIND_INDEX[id(HEARTBEAT_TEACHER)]
KIND_EVENT = tuple(kind.event for kind in KINDS)
KIND_FEEDS = tuple(kind.event >= 0 for kind in KINDS)


def build_pick_table(kinds: Sequence[MessageKind]) -> tuple[int, ...]:
    table: list[int] = []
    for kind in kinds:
        table.extend([KIND_INDEX[id(kind)]] * kind.weight)
    if len(table) != 1000:
        raise AssertionError("kind weights must add up to 1000")
    return tuple(table)


STUDENT_PICK = build_pick_table(STUDENT_KINDS)
TEACHER_PICK = build_pick_table(TEACHER_KINDS)


def number_slot(pattern: int, position: int) -> str:
    """``%d`` or ``"%d"``: where a pattern writes a number or a numeric string."""
    return '"%d"' if QUOTERS_8[pattern][position] is QUOTED else "%d"


def build_timeline_templates() -> tuple[tuple[tuple[str, ...], ...], ...]:
    """[pattern][kind][fragment] -> %-template over (createTime, userid, roomid, timestamp[, page])."""
    patterns = []
    for pattern in range(4):
        q = QUOTERS_8[pattern]
        kinds = []
        for kind in KINDS:
            head = (
                f'{{"createTime":{number_slot(pattern, 0)},"data":{{"userid":{number_slot(pattern, 1)},'
                f'"roomid":{number_slot(pattern, 2)},"timestamp":{number_slot(pattern, 3)},'
                f'"role":{q[4](kind.role)},"msgid":{q[5](kind.msgid)},"msg":{{"msgtype":{q[6](kind.msgtype)}'
            )
            if not kind.fragments:
                kinds.append((head + "}}}",))
                continue
            kinds.append(
                tuple(
                    f'{head},"msg_data":{{{fragment.replace("%", "%%")},'
                    f'"page_index":{number_slot(pattern, 7)}}}}}}}}}'
                    for fragment in kind.fragments
                )
            )
        patterns.append(tuple(kinds))
    return tuple(patterns)


TIMELINE_TEMPLATES = build_timeline_templates()
KIND_HAS_DATA = tuple(bool(kind.fragments) for kind in KINDS)
