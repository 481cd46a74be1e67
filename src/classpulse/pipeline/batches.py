"""Lesson preheat batch by batch: the lesson_preheat DAG maps groups of batches onto tasks."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from classpulse.config import Settings
from classpulse.pipeline.errors import StageError, failing_as, timed


def group_batches(batches: list[dict[str, Any]], max_groups: int) -> list[list[dict[str, Any]]]:
    """Spread batches over at most ``max_groups`` groups: largest first onto the lightest group.

    Airflow maps one task per group and refuses more than ``[core] max_map_length`` of them,
    so a day with more batches than that runs several batches per task. Usually a group is
    one batch. Each group lists its batches in batch order; the result is deterministic.
    """
    if max_groups < 1:
        raise ValueError("max_groups must be positive")
    if len(batches) <= max_groups:
        return [[batch] for batch in batches]
    groups: list[list[dict[str, Any]]] = [[] for _ in range(max_groups)]
    loads = [0] * max_groups
    for batch in sorted(batches, key=lambda item: (-item["students"], item["batch_no"])):
        lightest = min(range(max_groups), key=lambda index: (loads[index], index))
        groups[lightest].append(batch)
        loads[lightest] += batch["students"]
    return [sorted(group, key=lambda item: item["batch_no"]) for group in groups]


def plan_preheat(
    settings: Settings,
    day: date,
    max_batch_students: int,
    max_groups: int,
    note: str = "",
) -> list[dict[str, Any]]:
    """Plan ``day``'s lessons into batches, register the run, group the batches for tasks.

    Returns one JSON-able dict per group: ``day``, ``run_id``, ``batches`` (``batch_no``,
    ``lessons``, ``students`` each), and the group's ``lessons`` and ``students`` totals:
    everything a mapped task needs.
    """
    from classpulse import preheat as engine

    with failing_as("preheat", "check the warehouse and the preheat topics", engine.PreheatError):
        planned = engine.plan_lessons(settings, day)
        if not planned:
            raise StageError(
                "preheat",
                f"no lessons on {day}",
                "land the preheat topics (`classpulse load`) or check the day",
            )
        packed = engine.pack_batches(planned, max_batch_students)
        run_id = engine.create_run(
            settings, day, [lesson.lesson_id for lesson in planned], note=note
        )
    sizes = {lesson.lesson_id: lesson.students for lesson in planned}
    batches = [
        {"batch_no": number, "lessons": batch, "students": sum(sizes[i] for i in batch)}
        for number, batch in enumerate(packed, start=1)
    ]
    return [
        {
            "day": day.isoformat(),
            "run_id": run_id,
            "batches": group,
            "lessons": sum(len(batch["lessons"]) for batch in group),
            "students": sum(batch["students"] for batch in group),
        }
        for group in group_batches(batches, max_groups)
    ]


def preheat_group(settings: Settings, group: dict[str, Any]) -> dict[str, Any]:
    """Build the batches of one planned group into its run (safe to retry)."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    day = date.fromisoformat(group["day"])
    totals = {"students": 0, "rooms": 0, "nodes": 0, "members": 0}
    retried = False
    with failing_as("preheat", "a batch is safe to retry: clear the task", engine.PreheatError):
        client = engine.connect(settings)
        for batch in group["batches"]:
            result = engine.preheat_batch(
                settings, day, batch["lessons"], group["run_id"], batch["batch_no"], client
            )
            for name in totals:
                totals[name] += getattr(result, name)
            retried = retried or result.retried
    return timed(
        {
            "run_id": group["run_id"],
            "batches": [batch["batch_no"] for batch in group["batches"]],
            "lessons": group["lessons"],
            **totals,
            "retried": retried,
        },
        started,
    )


def check_group(settings: Settings, group: dict[str, Any]) -> dict[str, Any]:
    """Check the lessons of one planned group against the source; record the findings."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    result = engine.CheckResult(group["run_id"], 0, 0.0)
    with failing_as("preheat check", "fix the check SQL named above", engine.PreheatError):
        client = engine.connect(settings)
        for batch in group["batches"]:
            result.merge(
                engine.check_batch(settings, group["run_id"], batch["lessons"], client=client)
            )
    kinds: dict[str, int] = {}
    for finding in result.errors:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + finding.count
    return timed(
        {
            "run_id": group["run_id"],
            "lessons": result.lessons,
            "errors": len(result.errors),
            "warnings": len(result.warnings),
            "failed_lessons": result.failed_lessons,
            "error_kinds": kinds,
        },
        started,
    )


def publish_preheat(settings: Settings, run_id: int, force: bool = False) -> dict[str, Any]:
    """Publish a checked run in one insert; lessons whose check found errors are withheld."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    with failing_as("preheat publish", "build and check every batch first", engine.PreheatError):
        publication = engine.publish_run(settings, run_id, force=force)
    return timed(
        {
            "run_id": run_id,
            "lessons": publication.lessons,
            "withheld": publication.withheld,
            "already_published": publication.already_published,
        },
        started,
    )


def report_preheat(settings: Settings, run_id: int) -> dict[str, Any]:
    """A run's totals, build statuses, check findings and publication, JSON-able."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    with failing_as("preheat report", "see `classpulse preheat status`", engine.PreheatError):
        run = engine.report(settings, run_id)
    findings: dict[str, int] = {}
    for finding in run.findings:
        key = f"{finding.severity}:{finding.kind}"
        findings[key] = findings.get(key, 0) + finding.count
    return timed(
        {
            "run_id": run.run_id,
            "kind": run.kind,
            "day": run.day.isoformat(),
            "planned": run.planned,
            "built": run.built,
            "students": run.students,
            "rooms": run.rooms,
            "nodes": run.nodes,
            "members": run.members,
            "status": run.status_counts(),
            "build_seconds": round(run.build_seconds, 2),
            "published": run.published_at is not None,
            "withheld": run.withheld,
            "error_lessons": run.error_lessons,
            "findings": findings,
        },
        started,
    )


def apply_preheat_changes(settings: Settings, max_batch_students: int) -> dict[str, Any]:
    """Re-preheat exactly the lessons the change events landed since the last call touch."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    with failing_as(
        "preheat changes",
        "the cursor did not move: the same events are retried",
        engine.PreheatError,
    ):
        result = engine.apply_changes(settings, max_batch_students=max_batch_students)
    run = result.run
    return timed(
        {
            "events": result.events,
            "unknown_kinds": result.unknown_kinds,
            "processed": [result.after + 1, result.up_to] if result.events else [],
            "lessons": result.lessons,
            "run_id": run.run_id if run else None,
            "withheld": run.withheld if run else [],
            "error_lessons": run.error_lessons if run else [],
        },
        started,
    )
