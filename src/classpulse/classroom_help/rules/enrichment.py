"""Contract C in pure Python: the published room and member columns of label and triage rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from classpulse.classroom_help.rules.triage import business_date

DIMENSION_COLUMNS = (
    "lesson_id",
    "lesson_date",
    "room_role",
    "expected_members",
    "tutor_id",
    "class_id",
    "org_node_id",
    "dim_run_id",
    "dim_status",
)


@dataclass(frozen=True, slots=True)
class PublishedRoom:
    """A row of dim.live_room_current."""

    room_id: int
    lesson_id: int
    lesson_date: str
    room_role: str
    expected_members: int
    tutor_id: int
    scope_node_id: int
    run_id: int


@dataclass(frozen=True, slots=True)
class PublishedMember:
    """A row of dim.room_membership_current."""

    lesson_id: int
    room_id: int
    student_id: int
    tutor_id: int
    class_id: int
    group_node_id: int


def dimension_columns(
    room_id: int,
    user_id: int,
    role: str,
    row_time: int,
    rooms: Iterable[PublishedRoom],
    members: Iterable[PublishedMember],
    *,
    timed_out: bool = False,
    timezone: str = "Asia/Shanghai",
) -> dict[str, object]:
    """C's dimension columns of one aggregated row: the room (greatest lesson_id wins), the
    student's membership in that lesson, and dim_status; never a reason to drop the row."""
    found = [room for room in rooms if room.room_id == room_id]
    unknown = {
        "lesson_id": 0,
        "lesson_date": business_date(row_time, timezone),
        "room_role": "",
        "expected_members": 0,
        "tutor_id": 0,
        "class_id": 0,
        "org_node_id": 0,
        "dim_run_id": 0,
    }
    if timed_out:
        return {**unknown, "dim_status": "lookup_timeout"}
    if not found:
        return {**unknown, "dim_status": "room_unknown"}
    room = max(found, key=lambda r: r.lesson_id)
    columns: dict[str, object] = {
        "lesson_id": room.lesson_id,
        "lesson_date": room.lesson_date,
        "room_role": room.room_role,
        "expected_members": room.expected_members,
        "tutor_id": room.tutor_id,
        "class_id": 0,
        "org_node_id": room.scope_node_id,
        "dim_run_id": room.run_id,
        "dim_status": "ok",
    }
    if role != "student":
        return columns
    member = next(
        (
            m
            for m in members
            if m.lesson_id == room.lesson_id and m.room_id == room_id and m.student_id == user_id
        ),
        None,
    )
    if member is None:
        return {**columns, "dim_status": "member_unknown"}
    return {
        **columns,
        "tutor_id": member.tutor_id,
        "class_id": member.class_id,
        "org_node_id": member.group_node_id,
    }


def enrich_rows(
    rows: Iterable[Mapping[str, object]],
    time_column: str,
    rooms: Sequence[PublishedRoom],
    members: Sequence[PublishedMember],
    *,
    timed_out: bool = False,
    timezone: str = "Asia/Shanghai",
) -> list[dict[str, object]]:
    """Rows with C's dimension columns; a triage row's rule 4 target becomes the requester's
    tutor_id (a student's; a teacher calls nobody)."""
    out = []
    for row in rows:
        columns = dimension_columns(
            int(row["room_id"]),
            int(row["user_id"]),
            str(row["role"]),
            int(row[time_column]),
            rooms,
            members,
            timed_out=timed_out,
            timezone=timezone,
        )
        enriched = {**row, **columns}
        if enriched.get("category") == "peer_absent":
            enriched["target_user_id"] = columns["tutor_id"] if row["role"] == "student" else 0
        out.append(enriched)
    return out
