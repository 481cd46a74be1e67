"""Whole preheat runs: plan, build, check and publish a day, or re-preheat what changes touch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from classpulse.config import Settings
from classpulse.preheat.engine import (
    CHANGE_KINDS,
    DEFAULT_MAX_BATCH_STUDENTS,
    PreheatError,
    business_today,
    check_run,
    connect,
    create_run,
    ensure_schema,
    execute,
    pack_batches,
    plan_lessons,
    preheat_batch,
    query_sql,
    size_lessons,
)
from classpulse.preheat.publication import RunReport, publish_run, report

ProgressCallback = Callable[[str, int, int], None]


def run_preheat(
    settings: Settings,
    day: date,
    lesson_ids: Sequence[int] | None = None,
    kind: str = "day",
    max_batch_students: int = DEFAULT_MAX_BATCH_STUDENTS,
    check: bool = True,
    publish: bool = True,
    force: bool = False,
    note: str = "",
    on_progress: ProgressCallback | None = None,
) -> RunReport:
    """Plan, build every batch, check and publish one run (the CLI's and changes' path).

    ``lesson_ids`` None means every lesson of ``day``. ``on_progress(stage, done, total)``
    is called after each batch of the stages ``build`` and ``check``.
    """
    client = connect(settings)
    ensure_schema(client, settings)
    if lesson_ids is None:
        planned = plan_lessons(settings, day, client=client)
        if not planned:
            raise PreheatError(
                f"no lessons on {day}; write them with `classpulse preheat generate` and land "
                "them (`classpulse preheat run` lands the preheat topics first)"
            )
    else:
        planned = size_lessons(settings, lesson_ids, client=client)
        if not planned:
            raise PreheatError("no lessons given")
    batches = pack_batches(planned, max_batch_students)
    run_id = create_run(
        settings, day, [lesson.lesson_id for lesson in planned], kind, note, client=client
    )
    for number, batch in enumerate(batches, start=1):
        preheat_batch(settings, day, batch, run_id, batch_no=number, client=client)
        if on_progress is not None:
            on_progress("build", number, len(batches))
    if check:
        check_run(
            settings,
            run_id,
            on_batch=(lambda done, total: on_progress("check", done, total))
            if on_progress
            else None,
            client=client,
        )
    if publish:
        publish_run(settings, run_id, force=force or not check, client=client)
    return report(settings, run_id, client=client)


@dataclass
class ChangeResult:
    after: int
    up_to: int
    events: dict[str, int]
    unknown_kinds: dict[str, int]
    lessons: list[int]
    run: RunReport | None


def apply_changes(
    settings: Settings,
    max_batch_students: int = DEFAULT_MAX_BATCH_STUDENTS,
    on_progress: ProgressCallback | None = None,
) -> ChangeResult:
    """Re-preheat exactly the lessons touched by change events landed since the last call.

    The touched lessons (``changes.sql``) get one new run, checked and published; every
    other lesson stays on its run. The cursor only moves once the run is published, so a
    failed attempt is retried from the same events.
    """
    client = connect(settings)
    ensure_schema(client, settings)
    after = int(client.command("SELECT max(processed_up_to) FROM dim.preheat_change_cursor") or 0)
    counted = query_sql(client, settings, "change_events", {"after": after})
    events = {str(kind): int(count) for kind, count, _ in counted}
    if not counted:
        return ChangeResult(after, after, {}, {}, [], None)
    up_to = max(int(last) for _, _, last in counted)
    unknown = {kind: count for kind, count in events.items() if kind not in CHANGE_KINDS}
    touched = [
        int(row[0])
        for row in query_sql(
            client,
            settings,
            "changes",
            {"after": after, "upto": up_to, "timezone": settings.timezone},
        )
    ]
    run = None
    if touched:
        run = run_preheat(
            settings,
            business_today(settings),
            lesson_ids=touched,
            kind="changes",
            max_batch_students=max_batch_students,
            note=f"changes {after + 1}..{up_to}",
            on_progress=on_progress,
        )
    execute(
        client,
        "INSERT INTO dim.preheat_change_cursor (processed_up_to, run_id, events, lessons) "
        "SELECT {upto:UInt64}, {run_id:UInt64}, {events:UInt32}, {lessons:UInt32}",
        {
            "upto": up_to,
            "run_id": run.run_id if run else 0,
            "events": sum(events.values()),
            "lessons": len(touched),
        },
    )
    return ChangeResult(after, up_to, events, unknown, touched, run)
