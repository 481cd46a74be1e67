"""Messages of the five live-classroom topics (contract A.1), as named records.

Every message carries its place in the topic (``split``: file name, ``position``: 1-based line),
which orders ties and builds ``message_key``. ``payload`` renders the JSON line as the client sent
it; the generator corrupts some lines after rendering.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ENTER = "classroom_enter"
AV = "classroom_av_sample"
DEVICE = "classroom_device_sample"
COURSEWARE = "classroom_courseware_event"
HELP = "classroom_help_request"

# The union's topics in the order of the A.1 table (ties of "latest" fall back to it).
UNION_TOPICS = (ENTER, AV, DEVICE, COURSEWARE)
TOPICS = (*UNION_TOPICS, HELP)
TOPIC_RANK = {topic: rank for rank, topic in enumerate(UNION_TOPICS)}
# The Flink jobs of the labels (flink_sql/jobs): one cleaning job per topic, then the mart.
LABEL_JOBS = (
    "clean_classroom_enter",
    "clean_classroom_av_sample",
    "clean_classroom_device_sample",
    "clean_classroom_courseware_event",
    "clean_classroom_help_request",
    "mart_room_user_labels_30s",
)

ROLES = ("teacher", "student", "fm")
COMPONENTS = ("sdk", "gateway", "media", "message", "courseware")
DEVICE_STATES = ("ok", "missing", "denied", "error")


@dataclass(slots=True)
class Envelope:
    room_id: int
    user_id: int
    role: str
    client_time: int  # epoch ms, the event time
    server_time: int  # epoch ms, receive time
    split: str = ""
    position: int = 0

    def envelope(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "user_id": self.user_id,
            "role": self.role,
            "client_time": self.client_time,
            "server_time": self.server_time,
        }


@dataclass(slots=True)
class EnterMessage(Envelope):
    action: str = "enter"  # enter | leave
    result: str | None = None  # enter only: success | fail
    started_at: int | None = None  # enter only: attempt start
    failed_component: str | None = None  # result = fail only

    topic = ENTER

    def document(self) -> dict[str, Any]:
        document = {**self.envelope(), "action": self.action}
        if self.action == "enter":
            document["result"] = self.result
            document["started_at"] = self.started_at
            if self.result == "fail":
                document["failed_component"] = self.failed_component
        return document


@dataclass(slots=True)
class AvSample(Envelope):
    media: str = "audio"  # audio | video
    interval_ms: int = 500
    bitrate_kbps: int = 48
    freeze_ms: int = 0
    loss_pct: int = 0
    rtt_ms: int = 80

    topic = AV

    def document(self) -> dict[str, Any]:
        return {
            **self.envelope(),
            "media": self.media,
            "interval_ms": self.interval_ms,
            "bitrate_kbps": self.bitrate_kbps,
            "freeze_ms": self.freeze_ms,
            "loss_pct": self.loss_pct,
            "rtt_ms": self.rtt_ms,
        }


@dataclass(slots=True)
class DeviceSample(Envelope):
    mic: str = "ok"
    speaker: str = "ok"
    camera: str = "ok"
    cpu_pct: int = 30

    topic = DEVICE

    def document(self) -> dict[str, Any]:
        return {
            **self.envelope(),
            "mic": self.mic,
            "speaker": self.speaker,
            "camera": self.camera,
            "cpu_pct": self.cpu_pct,
        }


@dataclass(slots=True)
class CoursewareEvent(Envelope):
    action: str = "page_turn"  # load | page_turn | draw | drag
    origin: str = "self"  # self | peer
    result: str = "ok"  # ok | fail
    lag_ms: int | None = None

    topic = COURSEWARE

    def document(self) -> dict[str, Any]:
        document = {
            **self.envelope(),
            "action": self.action,
            "origin": self.origin,
            "result": self.result,
        }
        if self.lag_ms is not None:
            document["lag_ms"] = self.lag_ms
        return document


@dataclass(slots=True)
class HelpRequest(Envelope):
    request_id: str = ""

    topic = HELP

    def document(self) -> dict[str, Any]:
        return {**self.envelope(), "request_id": self.request_id}


UnionMessage = EnterMessage | AvSample | DeviceSample | CoursewareEvent
Message = UnionMessage | HelpRequest


def render(message: Message) -> str:
    """The JSON line of a message (compact, the contract's field names)."""
    return json.dumps(message.document(), separators=(",", ":"))


def message_key(topic: str, split: str, position: int) -> str:
    """``<topic>|<split>|<position>`` (contract section 0)."""
    return f"{topic}|{split}|{position}"
