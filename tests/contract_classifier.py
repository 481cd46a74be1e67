"""An independent reading of the source-topic rules of shared/spec/DATA_CONTRACT.md, in Python.

It never imports the project: the cleaning jobs are checked against it (test_cleaning_properties),
and the generator's own re-reading (test_generator) takes its table of student events.
For one raw message it gives the rejection reason, or the row the cleaning job must write.

From the contract ("Conventions", "Source topics"):
- a message is one JSON object; anything else (a parse error, trailing content, another JSON
  value) is ``malformed_json``;
- a required field that is absent or null is ``missing_field``;
- a value of the wrong type is ``wrong_type``: numbers (ids, codes, counts, epoch fields) are JSON
  integers or numeric strings, a non-numeric string (or a fraction) where a number is required is
  wrong; ids are strings or JSON integers; datetimes are valid ``YYYY-MM-DD HH:MM:SS`` strings;
- ``timeline_client_topic``: client time more than 5 minutes after server time is
  ``future_timestamp``; valid student messages are classified by the table of events.

Where the contract leaves room, the decisions documented in jvm/udf (ParseMessage) and in the
generator's manifest rules are taken: precedence malformed_json > missing_field > wrong_type >
future_timestamp; a number must fit the column (BIGINT, INT for role and status); text fields take
any JSON scalar as its text (numbers as written); an object or array where a scalar belongs is a
wrong type; a string holding an unpaired surrogate is a wrong type; a repeated key takes its last
value (as Python's json does); a path through a non-object is absent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

BIGINT_RANGE = (-(2**63), 2**63 - 1)
INT_RANGE = (-(2**31), 2**31 - 1)
DIGITS = re.compile(r"-?[0-9]+")
DATETIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


class Integer(str):
    """A JSON number without fraction or exponent, as written."""


class Fraction(str):
    """Any other JSON number, as written."""


class Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Field:
    column: str  # the column of the cleaned topic
    kind: str  # text | id | bigint | int | datetime
    path: tuple[str, ...]
    required: bool = False


def field(column: str, kind: str, path: str, required: bool = False) -> Field:
    return Field(column, kind, tuple(path.split(".")), required)


# Straight from "Source topics" of the contract: the shapes, the "Required:" lists, "<int>" and
# "<epoch ms>" for numbers, "YYYY-MM-DD HH:MM:SS" for datetimes, ids and the rest as text.
TOPICS: dict[str, tuple[Field, ...]] = {
    "timeline_client_topic": (
        field("messageCreateTime", "bigint", "createTime", True),
        field("userId", "bigint", "data.userid", True),
        field("roomId", "bigint", "data.roomid", True),
        field("messageTimeStamp", "bigint", "data.timestamp", True),
        field("role", "int", "data.role", True),
        field("msgId", "bigint", "data.msgid", True),
        field("msgType", "bigint", "data.msg.msgtype", True),
        field("targetId", "text", "data.msg.msg_data.target_id"),
        field("targetType", "text", "data.msg.msg_data.target_type"),
        field("action", "text", "data.msg.msg_data.action"),
        field("subAction", "text", "data.msg.msg_data.sub_action"),
        field("pageIndex", "bigint", "data.msg.msg_data.page_index"),
    ),
    "agora_record": (
        field("classroom_id", "id", "classroom_id"),
        field("user_type", "text", "user_type", True),
        field("user_id", "bigint", "user_id"),
        field("agora_channel_id", "bigint", "agora_channel_id"),
        field("event", "text", "event", True),
        field("video_fr", "bigint", "agora_videoState.fr"),
        field("video_uid", "bigint", "agora_videoState.uid"),
        field("audio_lost", "bigint", "agora_audioState.lost"),
        field("audio_uid", "bigint", "agora_audioState.uid"),
        field("message_create_time", "bigint", "messageCreateTime", True),
    ),
    "qos_log": (
        field("classroom_id", "id", "classroom_id", True),
        field("user_type", "text", "user_type"),
        field("user_id", "bigint", "user_id", True),
        field("event_time", "bigint", "event_time", True),
        field("sub_event", "text", "sub_event", True),
        field("data_time", "bigint", "extra.data_time", True),
        field("ppt_index", "bigint", "extra.msg.pptIndex"),
    ),
    "uc_account-student": (
        field("id", "id", "id", True),
        field("channel_id", "id", "channel_id"),  # may be null or absent: level 'other'
        field("update_time", "datetime", "update_time", True),
    ),
    "uc_account-user": (
        field("id", "id", "id", True),
        field("name", "text", "name", True),
        field("register_date_time", "datetime", "register_date_time", True),
        field("status", "text", "status", True),
        field("update_time", "datetime", "update_time", True),
    ),
    "blink_stg_activity__channel_name_dictionary_da": (
        field("id", "id", "id", True),
        field("chinese_name", "text", "chinese_name"),
        field("english_name", "text", "english_name"),
        field("level", "text", "level", True),
        field("pid", "id", "pid"),
        field("create_time", "datetime", "create_time"),
        field("update_time", "datetime", "update_time", True),
        field("dept_id", "id", "dept_id"),
    ),
    "data_pack_order_info": (
        field("id", "id", "id", True),
        field("leads_flow_event_id", "id", "leads_flow_event_id"),
        field("group_id", "id", "group_id"),
        field("cc_id", "bigint", "cc_id", True),
        field("student_id", "id", "student_id"),
        field("order_id", "id", "order_id"),
        field("leads_id", "id", "leads_id"),
        field("confirm_date_time", "datetime", "confirm_date_time"),
        field("create_time", "datetime", "create_time"),
        field("update_time", "datetime", "update_time", True),
        field("order_create_time", "datetime", "order_create_time"),
        field("canceled_date_time", "datetime", "canceled_date_time"),
        field("apply_refund_date", "datetime", "apply_refund_date"),
        field("status", "int", "status", True),
    ),
}

# The contract's table of student interaction events (msgid 305, msgtype 116, role 2);
# None = any value.
STUDENT_EVENTS = (
    ("STUDENT_MOVE_PICTURE", None, "shape", "move", None),
    ("STUDENT_HOVER_PICTURE", None, "shape", "mouse", "over"),
    ("STUDENT_LINE_DRAW", None, "shape", "add", None),
    ("STUDENT_AUDIO_PLAY", None, "template", "audio", "start"),
    ("STUDENT_AUDIO_PAUSE", None, "template", "audio", "pause"),
    ("STUDENT_MATCH_WRONG", "match", "template", "match", "drop:wrong"),
    ("STUDENT_MATCH_CORRECT", "match", "template", "match", "drop:correct"),
)
UNNATURAL_MS = 5 * 60 * 1000


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_object(payload: str) -> dict[str, Any]:
    """The one JSON object of a payload (strict RFC 8259), numbers kept as written."""
    try:
        document = json.loads(
            payload,
            parse_int=Integer,
            parse_float=Fraction,
            parse_constant=_no_constants,
        )
    except ValueError as error:  # JSONDecodeError is a ValueError
        raise Rejected("malformed_json") from error
    if not isinstance(document, dict):
        raise Rejected("malformed_json")
    return document


def lookup(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = document
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate
        return False
    return True


def typed(kind: str, value: Any) -> Any:
    """The column value, or raise wrong_type."""
    wrong = Rejected("wrong_type")
    if isinstance(value, (dict, list)):
        raise wrong
    if kind == "text":
        if value is True or value is False:
            return "true" if value else "false"
        if (
            isinstance(value, str)
            and not isinstance(value, (Integer, Fraction))
            and not is_unicode(value)
        ):
            raise wrong
        return str(value)
    if kind == "id":
        if isinstance(value, Integer):
            return str(value)
        if isinstance(value, str) and not isinstance(value, Fraction) and is_unicode(value):
            return str(value)
        raise wrong
    if kind in ("bigint", "int"):
        if value is True or value is False or isinstance(value, Fraction):
            raise wrong
        if not isinstance(value, str) or not DIGITS.fullmatch(value):
            raise wrong
        number = int(value)
        low, high = BIGINT_RANGE if kind == "bigint" else INT_RANGE
        if not low <= number <= high:
            raise wrong
        return number
    if kind == "datetime":
        if not isinstance(value, str) or isinstance(value, (Integer, Fraction)):
            raise wrong
        if not DATETIME_SHAPE.fullmatch(value):
            raise wrong
        try:
            datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise wrong from None
        return value
    raise AssertionError(kind)


@dataclass(frozen=True)
class Verdict:
    reason: str | None
    row: dict[str, Any] | None  # the cleaned row (None when rejected)
    event: str | None = None  # timeline_client_topic: the classified event, if any


def classify(topic: str, payload: str) -> Verdict:
    fields = TOPICS[topic]
    try:
        document = load_object(payload)
        values = {spec.column: lookup(document, spec.path) for spec in fields}
        if any(spec.required and values[spec.column] is None for spec in fields):
            raise Rejected("missing_field")
        row = {
            spec.column: None
            if values[spec.column] is None
            else typed(spec.kind, values[spec.column])
            for spec in fields
        }
        skew = (
            row["messageTimeStamp"] - row["messageCreateTime"]
            if topic.startswith("timeline")
            else 0
        )
        if skew > UNNATURAL_MS:  # only timeline_client_topic carries both times
            raise Rejected("future_timestamp")
    except Rejected as rejected:
        return Verdict(rejected.reason, None)
    event = None
    if topic == "timeline_client_topic":
        event = student_event(row)
    return Verdict(None, row, event)


def student_event(row: dict[str, Any]) -> str | None:
    if (row["msgId"], row["msgType"], row["role"]) != (305, 116, 2):
        return None
    for event, target_id, target_type, action, sub_action in STUDENT_EVENTS:
        if (
            row["targetType"] == target_type
            and row["action"] == action
            and target_id in (None, row["targetId"])
            and sub_action in (None, row["subAction"])
        ):
            return event
    return None
