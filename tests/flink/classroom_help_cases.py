"""Hand-made live-classroom cases (LIVE_CLASSROOM_CONTRACT.md A): one room per rule and boundary.

Times are 2026-11-20 from 10:00:00 business time (02:00 UTC); ``T0`` is a 30 s window start.
Every message arrives 200 ms after its event, except where a case says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from classpulse.classroom_help.records import (
    TOPICS,
    AvSample,
    CoursewareEvent,
    DeviceSample,
    EnterMessage,
    HelpRequest,
    Message,
    render,
)

T0 = int(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
TEACHER, STUDENT, FM = 100, 200, 900


def env(room: int, user: int, role: str, at: int, delay: int = 200) -> dict[str, object]:
    return dict(room_id=room, user_id=user, role=role, client_time=at, server_time=at + delay)


def audio(room: int, user: int, role: str, at: int, **fields: object) -> AvSample:
    return AvSample(**env(room, user, role, at), media="audio", **fields)  # type: ignore[arg-type]


def video(room: int, user: int, role: str, at: int, **fields: object) -> AvSample:
    return AvSample(**env(room, user, role, at), media="video", **fields)  # type: ignore[arg-type]


def device(room: int, user: int, role: str, at: int, **fields: object) -> DeviceSample:
    return DeviceSample(**env(room, user, role, at), **fields)  # type: ignore[arg-type]


def courseware(room: int, user: int, role: str, at: int, **fields: object) -> CoursewareEvent:
    return CoursewareEvent(**env(room, user, role, at), **fields)  # type: ignore[arg-type]


def enter(room: int, user: int, role: str, at: int, **fields: object) -> EnterMessage:
    return EnterMessage(**env(room, user, role, at), **fields)  # type: ignore[arg-type]


def leave(room: int, user: int, role: str, at: int) -> EnterMessage:
    return EnterMessage(**env(room, user, role, at), action="leave")


def help_press(
    room: int, user: int, role: str, at: int, request_id: str, delay: int = 200
) -> HelpRequest:
    return HelpRequest(**env(room, user, role, at, delay), request_id=request_id)


def present(room: int, at: int, *, teacher: bool = True, student: bool = True) -> list[Message]:
    """Healthy samples of the room's teacher and student at ``at``."""
    out: list[Message] = []
    if teacher:
        out.append(device(room, TEACHER, "teacher", at))
    if student:
        out.append(device(room, STUDENT, "student", at))
    return out


def write_topics(
    root: Path, messages: Iterable[Message], bad_lines: dict[str, list[str]] | None = None
) -> None:
    """One file per topic, lines in arrival (server_time) order, bad lines at the end; sets each
    record's split and position as the file holds it."""
    by_topic: dict[str, list[Message]] = {topic: [] for topic in TOPICS}
    for message in messages:
        by_topic[message.topic].append(message)
    for topic, items in by_topic.items():
        directory = root / topic
        directory.mkdir(parents=True, exist_ok=True)
        items.sort(key=lambda m: (m.server_time, m.client_time))
        lines = []
        for position, message in enumerate(items, start=1):
            message.split, message.position = "a.jsonl", position
            lines.append(render(message))
        lines.extend((bad_lines or {}).get(topic, []))
        if lines:
            (directory / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
