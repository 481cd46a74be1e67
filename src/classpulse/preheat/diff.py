"""Preheat regression diff: what a run (or today's logic) would change, lesson by lesson.

The seed's rule before a policy or logic change ships: preheat the same source with the
old and the new version and compare the results until the only differences are the
intended ones. Here both versions are runs in ``dim``:

- :func:`diff_runs` compares run A with run B (``run_a=0``: what readers see now);
- :func:`diff_against_current_logic` builds a scratch run of the given lessons with the
  SQL and policies as they are now (never published), diffs it against what readers see,
  and deletes it unless asked to keep it.

Items are matched by stable ids (rooms and nodes hash their natural keys, members are
room + student), so a diff counts, per lesson, rooms, org nodes and memberships added,
removed and changed (same id, different attributes), and reports a change of the lesson's
own build (status or policy) with its before/after description. SQL: ``diff.sql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from classpulse.config import Settings
from classpulse.preheat.engine import (
    DEFAULT_MAX_BATCH_STUDENTS,
    PreheatError,
    connect,
    create_run,
    ensure_schema,
    pack_batches,
    preheat_batch,
    query_sql,
    size_lessons,
)
from classpulse.preheat.publication import discard_run

ENTITIES: tuple[str, ...] = ("lesson", "room", "node", "member")


@dataclass(frozen=True)
class Change:
    added: int = 0
    removed: int = 0
    changed: int = 0

    @property
    def total(self) -> int:
        return self.added + self.removed + self.changed


@dataclass
class LessonDiff:
    lesson_id: int
    changes: dict[str, Change] = field(default_factory=dict)
    before: str = ""
    after: str = ""

    def of(self, entity: str) -> Change:
        return self.changes.get(entity, Change())

    @property
    def differs(self) -> bool:
        return any(change.total for change in self.changes.values())


@dataclass
class DiffResult:
    run_a: int  # 0: what readers saw at the time of the diff
    run_b: int
    lessons: list[LessonDiff]
    scratch_kept: bool = False

    @property
    def differing(self) -> list[LessonDiff]:
        return [lesson for lesson in self.lessons if lesson.differs]

    def totals(self) -> dict[str, Change]:
        totals: dict[str, Change] = {}
        for entity in ENTITIES:
            parts = [lesson.of(entity) for lesson in self.lessons]
            totals[entity] = Change(
                sum(part.added for part in parts),
                sum(part.removed for part in parts),
                sum(part.changed for part in parts),
            )
        return totals


def diff_runs(
    settings: Settings, run_a: int, run_b: int, lessons: Sequence[int] = (), client=None
) -> DiffResult:
    """Per lesson, rooms/nodes/members added, removed or changed from run A to run B."""
    client = client or connect(settings)
    ensure_schema(client, settings)
    for run_id in (run_a, run_b):
        if run_id and not int(
            client.command(
                "SELECT count() FROM dim.preheat_runs WHERE run_id = {run_id:UInt64}",
                parameters={"run_id": run_id},
            )
        ):
            raise PreheatError(f"no run {run_id}; see `classpulse preheat status`")
    rows = query_sql(
        client,
        settings,
        "diff",
        {"run_a": run_a, "run_b": run_b, "lessons": sorted(int(lesson) for lesson in lessons)},
    )
    by_lesson: dict[int, LessonDiff] = {}
    for lesson_id, entity, added, removed, changed, before, after in rows:
        item = by_lesson.setdefault(int(lesson_id), LessonDiff(int(lesson_id)))
        item.changes[str(entity)] = Change(int(added), int(removed), int(changed))
        if entity == "lesson":
            item.before, item.after = str(before or ""), str(after or "")
    return DiffResult(run_a, run_b, [by_lesson[key] for key in sorted(by_lesson)])


def diff_against_current_logic(
    settings: Settings,
    day: date | None = None,
    lessons: Sequence[int] | None = None,
    keep_scratch: bool = False,
    max_batch_students: int = DEFAULT_MAX_BATCH_STUDENTS,
) -> DiffResult:
    """Preheat lessons into an unpublished scratch run and diff it against what readers see.

    The lessons are ``lessons`` or, without them, every lesson readers currently see on
    ``day``. The scratch run is deleted afterwards unless ``keep_scratch``.
    """
    client = connect(settings)
    ensure_schema(client, settings)
    if lessons is None:
        if day is None:
            raise PreheatError("give a day or lessons to diff")
        lessons = [
            int(row[0])
            for row in client.query(
                "SELECT lesson_id FROM dim.lesson_current_run WHERE lesson_date = {day:Date}",
                parameters={"day": day},
            ).result_rows
        ]
    if not lessons:
        raise PreheatError(f"no published lessons on {day}; run `classpulse preheat run` first")
    planned = size_lessons(settings, lessons, client=client)
    run_day = day or date.today()
    run_id = create_run(
        settings, run_day, [item.lesson_id for item in planned], "scratch", "diff", client=client
    )
    try:
        for number, batch in enumerate(pack_batches(planned, max_batch_students), start=1):
            preheat_batch(settings, run_day, batch, run_id, batch_no=number, client=client)
        result = diff_runs(settings, 0, run_id, [item.lesson_id for item in planned], client=client)
    finally:
        if not keep_scratch:
            discard_run(settings, run_id, client=client)
    result.scratch_kept = keep_scratch
    return result
