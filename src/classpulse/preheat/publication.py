"""Publication of preheat runs (atomic, versioned), their reports and status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from classpulse.classroom_help.rules.enrichment import PublishedMember, PublishedRoom
from classpulse.config import Settings
from classpulse.preheat.engine import (
    Finding,
    PreheatError,
    connect,
    ensure_schema,
    query_sql,
    run_sql,
)


@dataclass(frozen=True)
class Publication:
    run_id: int
    lessons: int
    withheld: list[int]
    already_published: bool = False


def publish_run(settings: Settings, run_id: int, force: bool = False, client=None) -> Publication:
    """Make run ``run_id`` what readers see, in one insert.

    Refuses a scratch run, a run with planned lessons not built, or built lessons never
    checked, unless ``force``. Lessons whose latest check found errors are withheld
    (readers keep their previous run) unless ``force``.
    """
    client = client or connect(settings)
    ensure_schema(client, settings)
    parameters = {"run_id": run_id}
    run = client.query(
        "SELECT run_kind, lesson_ids FROM dim.preheat_runs WHERE run_id = {run_id:UInt64}",
        parameters=parameters,
    ).result_rows
    if not run:
        raise PreheatError(f"no run {run_id}; see `classpulse preheat status`")
    kind, planned = run[0]
    if kind == "scratch":
        raise PreheatError(
            f"run {run_id} is a scratch run (diff); scratch runs are never published"
        )
    published = client.query(
        "SELECT withheld_lessons FROM dim.preheat_publications WHERE run_id = {run_id:UInt64}",
        parameters=parameters,
    ).result_rows
    built = {
        int(row[0])
        for row in client.query(
            "SELECT lesson_id FROM dim.preheat_lesson_log WHERE run_id = {run_id:UInt64}",
            parameters=parameters,
        ).result_rows
    }
    if published:
        withheld = sorted(int(lesson) for lesson in published[0][0])
        return Publication(run_id, len(built) - len(withheld), withheld, already_published=True)
    checks = dict(
        client.query(
            "SELECT lesson_id, argMax(errors, check_id) FROM dim.preheat_check_log "
            "WHERE run_id = {run_id:UInt64} GROUP BY lesson_id",
            parameters=parameters,
        ).result_rows
    )
    missing = sorted(set(int(lesson) for lesson in planned) - built)
    unchecked = sorted(built - set(checks))
    if not force and missing:
        raise PreheatError(
            f"run {run_id}: {len(missing)} planned lesson(s) not built (e.g. {missing[:5]}); "
            "build their batches or publish with --force"
        )
    if not force and unchecked:
        raise PreheatError(
            f"run {run_id}: {len(unchecked)} lesson(s) not checked (e.g. {unchecked[:5]}); "
            "run `classpulse preheat check` or publish with --force"
        )
    withheld = [] if force else sorted(int(lesson) for lesson, errors in checks.items() if errors)
    run_sql(client, settings, "publish", {"run_id": run_id, "withheld": withheld})
    return Publication(run_id, len(built) - len(withheld), withheld)


def discard_run(settings: Settings, run_id: int, wait: bool = False, client=None) -> None:
    """Delete every row of an unpublished run (scratch runs after a diff, abandoned runs).

    The deletes run in the background unless ``wait``: nothing reads an unpublished run.
    """
    client = client or connect(settings)
    ensure_schema(client, settings)
    published = client.command(
        "SELECT count() FROM dim.preheat_publications WHERE run_id = {run_id:UInt64}",
        parameters={"run_id": run_id},
    )
    if int(published):
        raise PreheatError(f"run {run_id} is published; published runs are kept")
    run_sql(
        client, settings, "discard_run", {"run_id": run_id}, {"mutations_sync": 2 if wait else 0}
    )


def publish_dimension(
    settings: Settings,
    rooms: Sequence[PublishedRoom],
    members: Sequence[PublishedMember],
    run_id: int,
) -> None:
    """Write rooms and members as run ``run_id`` of the dimension and publish it (readers see all
    or none): dim.live_room_current and dim.room_membership_current then show them as after a
    preheat. For a dimension known in advance (the live-classroom benchmark, tests), where no
    lesson is built from the preheat topics."""
    client = connect(settings)
    ensure_schema(client, settings)
    days = {room.lesson_id: date.fromisoformat(room.lesson_date) for room in rooms}
    client.insert(
        "dim.preheat_lesson_log",
        [[run_id, lesson, day, "built", datetime.now(UTC)] for lesson, day in sorted(days.items())],
        column_names=["run_id", "lesson_id", "lesson_date", "build_status", "built_at"],
    )
    client.insert(
        "dim.live_room",
        [
            [
                run_id,
                room.lesson_id,
                days[room.lesson_id],
                room.room_id,
                room.room_role,
                room.tutor_id,
                room.scope_node_id,
                room.expected_members,
            ]
            for room in rooms
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
    client.insert(
        "dim.room_membership",
        [
            [
                run_id,
                member.lesson_id,
                days[member.lesson_id],
                member.room_id,
                member.student_id,
                member.tutor_id,
                member.class_id,
                member.group_node_id,
            ]
            for member in members
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


# ---------------------------------------------------------------------------------------
# Reports


@dataclass(frozen=True)
class LessonReport:
    lesson_id: int
    lesson_date: date
    build_status: str
    policy_id: int
    students: int
    tutors: int
    rooms: int
    nodes: int
    members: int
    batch_no: int
    batch_seconds: float
    build_seconds: float  # the lesson's share of its batch, by students
    errors: int | None  # None: never checked
    warnings: int | None


@dataclass
class RunReport:
    run_id: int
    kind: str
    day: date
    planned: int
    created_at: datetime
    published_at: datetime | None
    withheld: list[int]
    lessons: list[LessonReport]
    findings: list[Finding]

    @property
    def built(self) -> int:
        return len(self.lessons)

    @property
    def students(self) -> int:
        return sum(lesson.students for lesson in self.lessons)

    @property
    def members(self) -> int:
        return sum(lesson.members for lesson in self.lessons)

    @property
    def rooms(self) -> int:
        return sum(lesson.rooms for lesson in self.lessons)

    @property
    def nodes(self) -> int:
        return sum(lesson.nodes for lesson in self.lessons)

    @property
    def build_seconds(self) -> float:
        batches = {lesson.batch_no: lesson.batch_seconds for lesson in self.lessons}
        return sum(batches.values())

    @property
    def error_lessons(self) -> list[int]:
        return [lesson.lesson_id for lesson in self.lessons if lesson.errors]

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for lesson in self.lessons:
            counts[lesson.build_status] = counts.get(lesson.build_status, 0) + 1
        return counts


def report(settings: Settings, run_id: int, client=None) -> RunReport:
    """Run ``run_id``: per-lesson counts, durations, check results and publication."""
    client = client or connect(settings)
    ensure_schema(client, settings)
    parameters = {"run_id": run_id}
    run = client.query(
        "SELECT run_kind, run_day, length(lesson_ids), created_at FROM dim.preheat_runs "
        "WHERE run_id = {run_id:UInt64}",
        parameters=parameters,
    ).result_rows
    if not run:
        raise PreheatError(f"no run {run_id}; see `classpulse preheat status`")
    kind, day, planned, created_at = run[0]
    publication = client.query(
        "SELECT published_at, withheld_lessons FROM dim.preheat_publications "
        "WHERE run_id = {run_id:UInt64} ORDER BY published_at LIMIT 1",
        parameters=parameters,
    ).result_rows
    lessons = [lesson_report(row) for row in query_sql(client, settings, "report", parameters)]
    findings = [
        Finding(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]))
        for r in query_sql(client, settings, "report_findings", parameters)
    ]
    return RunReport(
        run_id=run_id,
        kind=str(kind),
        day=day,
        planned=int(planned),
        created_at=created_at,
        published_at=publication[0][0] if publication else None,
        withheld=sorted(int(lesson) for lesson in publication[0][1]) if publication else [],
        lessons=lessons,
        findings=findings,
    )


def lesson_report(row: tuple) -> LessonReport:
    (lesson_id, lesson_date, status, policy_id, students, tutors, rooms, nodes, members) = row[:9]
    batch_no, batch_lessons, batch_students, batch_seconds, checked, errors, warnings = row[9:]
    if batch_students:
        share = batch_seconds * students / batch_students
    else:
        share = batch_seconds / max(batch_lessons, 1)
    return LessonReport(
        lesson_id=int(lesson_id),
        lesson_date=lesson_date,
        build_status=str(status),
        policy_id=int(policy_id),
        students=int(students),
        tutors=int(tutors),
        rooms=int(rooms),
        nodes=int(nodes),
        members=int(members),
        batch_no=int(batch_no),
        batch_seconds=float(batch_seconds),
        build_seconds=float(share),
        errors=int(errors) if checked else None,
        warnings=int(warnings) if checked else None,
    )


@dataclass(frozen=True)
class RunStatus:
    run_id: int
    kind: str
    day: date
    planned: int
    built: int
    students: int
    members: int
    checked: int
    error_lessons: int
    published_at: datetime | None
    withheld: int
    created_at: datetime
    note: str


def list_runs(settings: Settings, limit: int = 20, client=None) -> list[RunStatus]:
    """The latest runs, newest first, with build, check and publication progress."""
    client = client or connect(settings)
    ensure_schema(client, settings)
    statuses = []
    for row in query_sql(client, settings, "runs_status", {"limit": limit}):
        (run_id, kind, day, planned, created_at, note, built, students, members) = row[:9]
        checked, error_lessons, is_published, published_at, withheld = row[9:]
        statuses.append(
            RunStatus(
                run_id=int(run_id),
                kind=str(kind),
                day=day,
                planned=int(planned),
                built=int(built),
                students=int(students),
                members=int(members),
                checked=int(checked),
                error_lessons=int(error_lessons),
                published_at=published_at if is_published else None,
                withheld=int(withheld),
                created_at=created_at,
                note=str(note),
            )
        )
    return statuses
