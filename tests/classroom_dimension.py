"""The preheat's published dimension (LIVE_CLASSROOM_CONTRACT.md C) written for a test: one run's
rooms and members into the dim tables, then published, so dim.live_room_current and
dim.room_membership_current show them exactly as after a real preheat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from classpulse.classroom_help.rules import PublishedMember, PublishedRoom
from classpulse.config import Settings


def publish_dimension(
    settings: Settings,
    rooms: Sequence[PublishedRoom],
    members: Sequence[PublishedMember],
    run_id: int,
) -> None:
    """Write one preheat run's rooms and members and publish it (readers see all or none)."""
    from classpulse import preheat
    from classpulse.warehouse import get_client

    client = get_client(settings)
    preheat.ensure_schema(client, settings)
    lessons = sorted({(r.lesson_id, date.fromisoformat(r.lesson_date)) for r in rooms})
    client.insert(
        "dim.preheat_lesson_log",
        [[run_id, lesson, day, "built", datetime.now(UTC)] for lesson, day in lessons],
        column_names=["run_id", "lesson_id", "lesson_date", "build_status", "built_at"],
    )
    client.insert(
        "dim.live_room",
        [
            [
                run_id,
                r.lesson_id,
                date.fromisoformat(r.lesson_date),
                r.room_id,
                r.room_role,
                r.tutor_id,
                r.scope_node_id,
                r.expected_members,
            ]
            for r in rooms
        ],
        column_names=[
            "run_id",
            "lesson_id",
            "lesson_date",
            "room_id",
            "room_role",
            "tutor_id",
            "scope_node_id",
            "expected_members",
        ],
    )
    days = {r.lesson_id: date.fromisoformat(r.lesson_date) for r in rooms}
    client.insert(
        "dim.room_membership",
        [
            [
                run_id,
                m.lesson_id,
                days[m.lesson_id],
                m.room_id,
                m.student_id,
                m.tutor_id,
                m.class_id,
                m.group_node_id,
            ]
            for m in members
        ],
        column_names=[
            "run_id",
            "lesson_id",
            "lesson_date",
            "room_id",
            "student_id",
            "tutor_id",
            "class_id",
            "node_id",
        ],
    )
    client.insert(
        "dim.preheat_publications", [[run_id, []]], column_names=["run_id", "withheld_lessons"]
    )
