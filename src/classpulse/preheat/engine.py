"""The preheat engine: SQL files and client, planning and batches, building and checking runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from classpulse.config import Settings
from classpulse.warehouse.scratch import split_statements

SQL_DIR = Path("clickhouse") / "preheat"
REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
BUILD_STEPS: tuple[str, ...] = ("placement", "rooms", "org_nodes", "membership")
DEFAULT_MAX_BATCH_STUDENTS = 1_000_000
MAX_BATCH_LESSONS = 2_000
RUN_KINDS: tuple[str, ...] = ("day", "lessons", "changes", "scratch")
CHANGE_KINDS: tuple[str, ...] = (
    "student_moved",
    "tutor_changed",
    "lesson_rescheduled",
    "lesson_reopened",
)
# estimate_seconds: measured by `classpulse bench preheat` on 2 cores (preheat + check),
# then multiplied by SAFETY_FACTOR, so a task timeout only fires on a real hang.
# Measured 2026-11-21 (2 cores): 30k students 0.8 s, 600k 2.7 s, a day of 2,095 lessons
# and 785k enrollments 4.0 s: ~3.3 µs per student, ~0.7 ms per lesson, ~0.4 s per batch.
# The constants below are rounded up about 2x before the safety factor.
FIXED_SECONDS = 0.5
SECONDS_PER_LESSON = 0.003
SECONDS_PER_STUDENT = 8e-6
SAFETY_FACTOR = 3.0

_schema_ready: set[tuple[str, str]] = set()
_schema_lock = threading.Lock()


class PreheatError(RuntimeError):
    """A preheat problem with what to do about it."""


# ---------------------------------------------------------------------------------------
# SQL files and the client


def read_statements(root: Path, name: str) -> list[str]:
    """The statements of ``clickhouse/preheat/<name>.sql`` in file order, as ClickHouse's own
    lexer cuts them (:func:`classpulse.warehouse.scratch.split_statements`)."""
    path = root / SQL_DIR / f"{name}.sql"
    if not path.is_file():  # running outside the checkout: the package's own repository
        path = REPOSITORY_ROOT / SQL_DIR / f"{name}.sql"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PreheatError(f"missing engine SQL file {path}") from None
    return split_statements(text)


def connect(settings: Settings):
    """A client whose query parameters travel in the request body (lesson lists are long)."""
    from classpulse.warehouse import get_client

    return get_client(settings, form_encode_query_params=True, send_receive_timeout=3600)


def execute(
    client,
    statement: str,
    parameters: dict[str, Any],
    query_settings: dict[str, Any] | None = None,
) -> None:
    """Run a statement that returns no rows, its parameters in the request body.

    ``raw_query`` honours ``form_encode_query_params``; ``command`` would put the
    parameters in the URL, which a day's list of lesson ids outgrows.
    """
    client.raw_query(statement, parameters=parameters, settings=query_settings)


def run_sql(
    client,
    settings: Settings,
    name: str,
    parameters: dict[str, Any],
    query_settings: dict[str, Any] | None = None,
) -> None:
    """Run every statement of an engine SQL file with server-side parameters."""
    from clickhouse_connect.driver.exceptions import DatabaseError

    for number, statement in enumerate(read_statements(settings.root, name), start=1):
        try:
            execute(client, statement, parameters, query_settings)
        except DatabaseError as error:
            raise PreheatError(f"{SQL_DIR / name}.sql, statement {number}: {error}") from error


def query_sql(client, settings: Settings, name: str, parameters: dict[str, Any]) -> list[tuple]:
    """Rows of the single SELECT in an engine SQL file."""
    (statement,) = read_statements(settings.root, name)
    return [tuple(row) for row in client.query(statement, parameters=parameters).result_rows]


def ensure_schema(client, settings: Settings) -> None:
    """Create the preheat landing tables, the ``dim`` tables and views (once per process).

    The landing tables come first (their DDL files, as the loader creates them): the
    source views read them, so a warehouse that never landed a preheat topic still works.
    """
    from classpulse.loader import LANDING_DIR, create_landing_tables, read_landing_tables
    from classpulse.preheat.generator import PREHEAT_TOPICS

    key = (settings.clickhouse_url, str(settings.warehouse_path))
    with _schema_lock:
        if key in _schema_ready:
            return
        root = settings.root if (settings.root / LANDING_DIR).is_dir() else REPOSITORY_ROOT
        landing = [table for table in read_landing_tables(root) if table.topic in PREHEAT_TOPICS]
        create_landing_tables(client, landing)
        run_sql(client, settings, "schema", {})
        _schema_ready.add(key)


def forget_schema() -> None:
    """Make the next call re-apply ``schema.sql`` (after the views or tables changed)."""
    with _schema_lock:
        _schema_ready.clear()


def new_id() -> int:
    """A time-ordered id (microseconds since the epoch) for runs and checks."""
    return time.time_ns() // 1000


def business_today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.timezone)).date()


# ---------------------------------------------------------------------------------------
# Planning


@dataclass(frozen=True)
class PlannedLesson:
    lesson_id: int
    students: int


def plan_lessons(settings: Settings, day: date, client=None) -> list[PlannedLesson]:
    """The lessons of ``day`` (scheduled there now, or shown there now) with size estimates."""
    client = client or connect(settings)
    ensure_schema(client, settings)
    rows = query_sql(client, settings, "plan", {"day": day})
    return [PlannedLesson(int(lesson), int(students)) for lesson, students in rows]


def size_lessons(settings: Settings, lesson_ids: Sequence[int], client=None) -> list[PlannedLesson]:
    """Size estimates of given lessons (0 for lessons without enrollments)."""
    client = client or connect(settings)
    ensure_schema(client, settings)
    ids = sorted({int(lesson) for lesson in lesson_ids})
    sizes = dict(query_sql(client, settings, "lesson_sizes", {"lessons": ids}))
    return [PlannedLesson(lesson, int(sizes.get(lesson, 0))) for lesson in ids]


def pack_batches(
    lessons: Iterable[PlannedLesson],
    max_batch_students: int = DEFAULT_MAX_BATCH_STUDENTS,
    max_batch_lessons: int = MAX_BATCH_LESSONS,
) -> list[list[int]]:
    """First-fit decreasing: largest lessons first, each into the first batch it fits.

    A lesson larger than ``max_batch_students`` gets a batch of its own. Deterministic:
    ties are broken by lesson id, and each batch lists its lessons in id order.
    """
    if max_batch_students < 1 or max_batch_lessons < 1:
        raise PreheatError("batch limits must be positive")
    batches: list[list[int]] = []
    loads: list[int] = []
    for lesson in sorted(lessons, key=lambda item: (-item.students, item.lesson_id)):
        for index, load in enumerate(loads):
            fits = load + lesson.students <= max_batch_students
            if fits and len(batches[index]) < max_batch_lessons:
                batches[index].append(lesson.lesson_id)
                loads[index] += lesson.students
                break
        else:
            batches.append([lesson.lesson_id])
            loads.append(lesson.students)
    return [sorted(batch) for batch in batches]


def plan_batches(
    settings: Settings, day: date, max_batch_students: int = DEFAULT_MAX_BATCH_STUDENTS
) -> list[list[int]]:
    """The day's lessons in batches of at most ``max_batch_students`` enrollments."""
    return pack_batches(plan_lessons(settings, day), max_batch_students)


def estimate_seconds(students: int, lessons: int = 1) -> float:
    """A generous time limit for preheating and checking a batch (for task timeouts)."""
    measured = FIXED_SECONDS + SECONDS_PER_LESSON * lessons + SECONDS_PER_STUDENT * students
    return round(SAFETY_FACTOR * measured, 1)


# ---------------------------------------------------------------------------------------
# Runs and batches


def create_run(
    settings: Settings,
    day: date,
    lesson_ids: Sequence[int],
    kind: str = "day",
    note: str = "",
    client=None,
) -> int:
    """Register a run covering ``lesson_ids``; return its id (time-ordered, unique)."""
    if kind not in RUN_KINDS:
        raise PreheatError(f"unknown run kind {kind!r}; one of {', '.join(RUN_KINDS)}")
    client = client or connect(settings)
    ensure_schema(client, settings)
    last = int(client.command("SELECT max(run_id) FROM dim.preheat_runs") or 0)
    run_id = max(new_id(), last + 1)
    execute(
        client,
        "INSERT INTO dim.preheat_runs (run_id, run_kind, run_day, lesson_ids, note) "
        "SELECT {run_id:UInt64}, {kind:String}, {day:Date}, {lessons:Array(UInt64)}, "
        "{note:String}",
        {
            "run_id": run_id,
            "kind": kind,
            "day": day,
            "lessons": sorted({int(lesson) for lesson in lesson_ids}),
            "note": note,
        },
    )
    return run_id


@dataclass
class BatchResult:
    run_id: int
    batch_no: int
    lessons: int
    students: int
    rooms: int
    nodes: int
    members: int
    seconds: float
    retried: bool
    step_seconds: dict[str, float] = field(default_factory=dict)


def preheat_batch(
    settings: Settings,
    day: date,
    lesson_ids: Sequence[int],
    run_id: int,
    batch_no: int = 0,
    client=None,
) -> BatchResult:
    """Build rooms, org nodes and membership of ``lesson_ids`` into run ``run_id``.

    Safe to retry: rows an earlier attempt of this batch left behind are removed first.
    ``day`` is recorded for lessons the schedule does not know (status ``not_found``).
    """
    ids = sorted({int(lesson) for lesson in lesson_ids})
    if not ids:
        raise PreheatError("a batch needs at least one lesson")
    client = client or connect(settings)
    ensure_schema(client, settings)
    started = time.perf_counter()
    parameters: dict[str, Any] = {"run_id": run_id, "lessons": ids, "day": day}
    steps: dict[str, float] = {}
    retried = int(query_sql(client, settings, "batch_rows", parameters)[0][0]) > 0
    if retried:
        run_sql(client, settings, "clear_batch", parameters)
        steps["clear_batch"] = time.perf_counter() - started
    for step in BUILD_STEPS:
        step_started = time.perf_counter()
        run_sql(client, settings, step, parameters)
        steps[step] = time.perf_counter() - step_started
    step_started = time.perf_counter()
    run_sql(
        client,
        settings,
        "lesson_log",
        {**parameters, "batch_no": batch_no, "batch_seconds": time.perf_counter() - started},
    )
    steps["lesson_log"] = time.perf_counter() - step_started
    totals = client.query(
        "SELECT sum(students), sum(rooms), sum(nodes), sum(members) FROM dim.preheat_lesson_log "
        "WHERE run_id = {run_id:UInt64} AND lesson_id IN {lessons:Array(UInt64)}",
        parameters=parameters,
    ).first_row
    return BatchResult(
        run_id=run_id,
        batch_no=batch_no,
        lessons=len(ids),
        students=int(totals[0] or 0),
        rooms=int(totals[1] or 0),
        nodes=int(totals[2] or 0),
        members=int(totals[3] or 0),
        seconds=time.perf_counter() - started,
        retried=retried,
        step_seconds=steps,
    )


# ---------------------------------------------------------------------------------------
# Checks


@dataclass(frozen=True)
class Finding:
    lesson_id: int
    kind: str
    severity: str
    detail: str
    count: int


@dataclass
class CheckResult:
    run_id: int
    lessons: int
    seconds: float
    findings: list[Finding] = field(default_factory=list)
    check_ids: list[int] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warning"]

    @property
    def failed_lessons(self) -> list[int]:
        return sorted({finding.lesson_id for finding in self.errors})

    def merge(self, other: CheckResult) -> None:
        self.lessons += other.lessons
        self.seconds += other.seconds
        self.findings.extend(other.findings)
        self.check_ids.extend(other.check_ids)


def check_batch(
    settings: Settings, run_id: int, lesson_ids: Sequence[int], client=None
) -> CheckResult:
    """Check run ``run_id``'s ``lesson_ids`` against the source; record and return findings."""
    ids = sorted({int(lesson) for lesson in lesson_ids})
    client = client or connect(settings)
    ensure_schema(client, settings)
    started = time.perf_counter()
    check_id = new_id()
    parameters = {"run_id": run_id, "lessons": ids, "check_id": check_id}
    if ids:
        run_sql(client, settings, "check", parameters)
    rows = client.query(
        "SELECT lesson_id, kind, severity, detail, count FROM dim.preheat_findings "
        "WHERE run_id = {run_id:UInt64} AND check_id = {check_id:UInt64} "
        "ORDER BY severity, lesson_id, kind",
        parameters=parameters,
    ).result_rows
    findings = [Finding(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in rows]
    return CheckResult(run_id, len(ids), time.perf_counter() - started, findings, [check_id])


def run_batches(settings: Settings, run_id: int, client) -> list[list[int]]:
    """The lessons a run built, grouped as they were built (by batch number)."""
    rows = client.query(
        "SELECT batch_no, groupArray(lesson_id) FROM dim.preheat_lesson_log "
        "WHERE run_id = {run_id:UInt64} GROUP BY batch_no ORDER BY batch_no",
        parameters={"run_id": run_id},
    ).result_rows
    return [sorted(int(lesson) for lesson in lessons) for _, lessons in rows]


def check_run(
    settings: Settings,
    run_id: int,
    on_batch: Callable[[int, int], None] | None = None,
    client=None,
) -> CheckResult:
    """Check every lesson run ``run_id`` built, batch by batch."""
    client = client or connect(settings)
    ensure_schema(client, settings)
    batches = run_batches(settings, run_id, client)
    if not batches:
        raise PreheatError(f"run {run_id} built no lessons; nothing to check")
    result = CheckResult(run_id, 0, 0.0)
    for number, lessons in enumerate(batches, start=1):
        result.merge(check_batch(settings, run_id, lessons, client=client))
        if on_batch is not None:
            on_batch(number, len(batches))
    return result


def check_current(
    settings: Settings,
    day: date | None = None,
    lesson_ids: Sequence[int] | None = None,
    client=None,
) -> CheckResult:
    """Check what readers see now (each lesson's current run) against the source."""
    client = client or connect(settings)
    ensure_schema(client, settings)
    rows = client.query(
        "SELECT run_id, groupArray(lesson_id) FROM dim.lesson_current_run "
        "WHERE ({day:Nullable(Date)} IS NULL OR lesson_date = {day:Nullable(Date)}) "
        "AND (empty({lessons:Array(UInt64)}) OR has({lessons:Array(UInt64)}, lesson_id)) "
        "GROUP BY run_id ORDER BY run_id",
        parameters={"day": day, "lessons": sorted(lesson_ids or [])},
    ).result_rows
    result = CheckResult(0, 0, 0.0)
    for run_id, lessons in rows:
        for start in range(0, len(lessons), MAX_BATCH_LESSONS):
            chunk = sorted(lessons)[start : start + MAX_BATCH_LESSONS]
            result.merge(check_batch(settings, int(run_id), chunk, client=client))
    return result
