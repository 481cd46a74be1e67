"""``classpulse preheat …``: generate preheat sources, run, check, diff and publish preheats.

The engine lives in :mod:`classpulse.preheat` (runs, checks, publication, changes) and
:mod:`classpulse.preheat.diff`; the sources in :mod:`classpulse.preheat.generator`. This
module parses options, lands the preheat topics when asked, shows progress on stderr and
prints tables on stdout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from classpulse.commands.options import parse_day, scale_option, topics_root_option
from classpulse.config import Settings, load_settings
from classpulse.loader import LoadError
from classpulse.preheat import (
    DEFAULT_MAX_BATCH_STUDENTS,
    PreheatError,
    RunReport,
    apply_changes,
    business_today,
    check_current,
    check_run,
    list_runs,
    publish_run,
    report,
    run_preheat,
)
from classpulse.preheat.changes import generate_changes
from classpulse.preheat.diff import ENTITIES, DiffResult, diff_against_current_logic, diff_runs
from classpulse.preheat.generator import PREHEAT_TOPICS, clean_topics, generate
from classpulse.preheat.world import PreheatGeneratorError, PreheatGeneratorOptions

errors = Console(stderr=True)


@contextlib.contextmanager
def clear_errors() -> Iterator[None]:
    """Turn engine, loader and connection errors into one-line CLI errors."""
    from clickhouse_connect.driver.exceptions import ClickHouseError

    try:
        yield
    except (PreheatError, LoadError, PreheatGeneratorError) as error:
        raise click.ClickException(str(error)) from None
    except ClickHouseError as error:
        text = str(error).strip().splitlines()
        hint = ""
        if "connect" in str(error).lower() or "connection" in str(error).lower():
            hint = "\nIs the warehouse running? Start it with `classpulse warehouse start`."
        raise click.ClickException("\n".join(text[:4]) + hint) from None


def topics_settings(settings: Settings, topics: Path | None) -> Settings:
    return replace(settings, topics_dir=topics) if topics is not None else settings


def land_preheat_topics(settings: Settings) -> int:
    """Produce new preheat topic files into Kafka (once each), land the preheat topics from
    Kafka; return rows landed."""
    from classpulse.pipeline import StageError, load

    with errors.status("landing the preheat topics from Kafka…"):
        try:
            landed = load(settings, only=tuple(PREHEAT_TOPICS))
        except StageError as exc:
            raise click.ClickException(str(exc)) from None
    if landed["rows"]:
        errors.print(
            f"produced {landed['produced']:,} messages, landed {landed['rows']:,} rows "
            f"({landed['rows_per_second']:,.0f} rows/s)"
        )
    return landed["rows"]


def progress_reporter(progress: Progress) -> Callable[[str, int, int], None]:
    tasks: dict[str, Any] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return on_progress


def new_progress() -> Progress:
    return Progress(
        TextColumn("[bold]preheat[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("batches"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )


@click.group("preheat")
def command() -> None:
    """Lesson preheat: live rooms, org trees and room membership per lesson, checked and
    published atomically (dim database; readers use the dim.*_current views)."""


@command.command("generate")
@topics_root_option()
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@scale_option("Courses multiplier: 1 is ~46 courses, ~53 lessons, ~12k enrollments.")
@click.option(
    "--start", callback=parse_day, metavar="YYYY-MM-DD", help="Lesson day (default: today)."
)
@click.option(
    "--max-lesson-students",
    type=click.IntRange(min=1),
    default=30_000,
    show_default=True,
    help="Cap on one lesson's size in the simulated day.",
)
@click.option(
    "--huge-lesson",
    "huge_lessons",
    type=click.IntRange(min=1),
    multiple=True,
    help="Add one lesson with this many students (repeatable), e.g. 30000 or 600000.",
)
@click.option("--no-day", is_flag=True, help="Write only the --huge-lesson lessons.")
@click.option(
    "--changes",
    type=click.IntRange(min=1, max=9999),
    default=None,
    help="Write a batch of this many intra-day change events instead of the day.",
)
@click.option(
    "--change-batch",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Which change batch to write (batches build on the earlier ones).",
)
@click.option("--clean", is_flag=True, help="Delete earlier preheat topic files under --out.")
def generate_command(
    out: Path | None,
    seed: int,
    scale: float,
    start: date | None,
    max_lesson_students: int,
    huge_lessons: tuple[int, ...],
    no_day: bool,
    changes: int | None,
    change_batch: int,
    clean: bool,
) -> None:
    """Write the preheat sources: policies, lessons, enrollments, tutor assignments.

    With --changes, write one batch of change events (student moves, tutor changes,
    rescheduled and reopened lessons) with the new source versions they announce.
    """
    settings = load_settings()
    root = out if out is not None else settings.topics_dir
    options = PreheatGeneratorOptions(
        day=start or business_today(settings),
        seed=seed,
        scale=scale,
        timezone=settings.timezone,
        max_lesson_students=max_lesson_students,
        huge_lessons=huge_lessons,
        include_day=not no_day,
    )
    console = Console()
    with clear_errors():
        if clean:
            errors.print(f"removed {clean_topics(root)} earlier preheat topic file(s)")
        if changes is not None:
            with errors.status(f"writing change batch {change_batch}…"):
                batch = generate_changes(options, root, change_batch, changes)
            table = Table(title=f"change batch {change_batch} → {root}")
            table.add_column("kind")
            table.add_column("events", justify="right")
            for kind, count in sorted(batch.kinds.items()):
                table.add_row(kind, f"{count:,}")
            console.print(table)
            console.print(f"touches {len(batch.touched_lessons)} lesson(s)")
            return
        with errors.status("writing the preheat sources…"):
            result = generate(options, root)
    table = Table(title=f"preheat sources for {options.day} → {root}")
    for header in ("lessons", "courses", "enrollments", "assignments", "files", "seconds"):
        table.add_column(header, justify="right")
    table.add_row(
        f"{result.lessons:,}",
        f"{result.courses:,}",
        f"{result.enrollments:,}",
        f"{result.assignments:,}",
        f"{result.files:,}",
        f"{result.seconds:.2f}",
    )
    console.print(table)


def load_option(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--load/--no-load",
        default=True,
        show_default=True,
        help="Land new files of the preheat topics first.",
    )(function)
    return click.option(
        "--topics",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Topics root to land from (default: CLASSPULSE_TOPICS_DIR).",
    )(function)


def batch_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--max-batch-students",
        type=click.IntRange(min=1),
        default=DEFAULT_MAX_BATCH_STUDENTS,
        show_default=True,
        help="Enrollments per batch (a larger lesson is a batch of its own).",
    )(function)


@command.command("run")
@click.option("--day", callback=parse_day, metavar="YYYY-MM-DD", help="Day (default: today).")
@click.option(
    "--lesson",
    "lessons",
    type=int,
    multiple=True,
    help="Preheat these lessons only (repeatable) instead of the whole day.",
)
@batch_option
@click.option("--no-check", is_flag=True, help="Skip the check (publishes unchecked).")
@click.option("--no-publish", is_flag=True, help="Build (and check) but do not publish.")
@click.option("--force", is_flag=True, help="Publish lessons with check errors too.")
@load_option
def run_command(
    day: date | None,
    lessons: tuple[int, ...],
    max_batch_students: int,
    no_check: bool,
    no_publish: bool,
    force: bool,
    load: bool,
    topics: Path | None,
) -> None:
    """Preheat a day (or given lessons): build, check, publish; print the run log."""
    settings = topics_settings(load_settings(), topics)
    day = day or business_today(settings)
    with clear_errors():
        if load:
            land_preheat_topics(settings)
        with new_progress() as progress:
            result = run_preheat(
                settings,
                day,
                lesson_ids=list(lessons) if lessons else None,
                kind="lessons" if lessons else "day",
                max_batch_students=max_batch_students,
                check=not no_check,
                publish=not no_publish,
                force=force,
                on_progress=progress_reporter(progress),
            )
    print_report(Console(), result)


@command.command("check")
@click.argument("run_id", type=int, required=False)
@click.option("--published", is_flag=True, help="Check what readers see now instead of one run.")
@click.option("--day", callback=parse_day, metavar="YYYY-MM-DD", help="With --published.")
def check_command(run_id: int | None, published: bool, day: date | None) -> None:
    """Check RUN_ID (or, with --published, the current views) against the source."""
    if (run_id is None) == (not published):
        raise click.UsageError("give a RUN_ID or --published (not both)")
    settings = load_settings()
    with clear_errors():
        if published:
            with errors.status("checking the published preheat against the source…"):
                result = check_current(settings, day=day)
        else:
            with new_progress() as progress:
                reporter = progress_reporter(progress)
                result = check_run(
                    settings,
                    int(run_id or 0),
                    on_batch=lambda done, total: reporter("check", done, total),
                )
    console = Console()
    print_findings(console, result.findings)
    console.print(
        f"checked {result.lessons:,} lesson(s) in {result.seconds:.2f} s: "
        f"{len(result.errors)} error finding(s) in {len(result.failed_lessons)} lesson(s), "
        f"{len(result.warnings)} warning(s)"
    )


@command.command("publish")
@click.argument("run_id", type=int)
@click.option("--force", is_flag=True, help="Publish unbuilt/unchecked/failing lessons too.")
def publish_command(run_id: int, force: bool) -> None:
    """Publish RUN_ID atomically (lessons with check errors are withheld)."""
    with clear_errors():
        publication = publish_run(load_settings(), run_id, force=force)
    verb = "was already published" if publication.already_published else "published"
    Console().print(
        f"run {run_id} {verb}: {publication.lessons:,} lesson(s), "
        f"{len(publication.withheld)} withheld {publication.withheld[:10]}"
    )


@command.command("diff")
@click.argument("run_a", type=int, required=False)
@click.argument("run_b", type=int, required=False)
@click.option(
    "--against-current-logic",
    is_flag=True,
    help="Preheat into a scratch run with today's SQL and policies, diff against the views.",
)
@click.option("--day", callback=parse_day, metavar="YYYY-MM-DD", help="Lessons shown on this day.")
@click.option("--lesson", "lessons", type=int, multiple=True, help="Limit to these lessons.")
@click.option("--keep-scratch", is_flag=True, help="Keep the scratch run for inspection.")
@click.option("--all", "show_all", is_flag=True, help="List lessons without differences too.")
@load_option
def diff_command(
    run_a: int | None,
    run_b: int | None,
    against_current_logic: bool,
    day: date | None,
    lessons: tuple[int, ...],
    keep_scratch: bool,
    show_all: bool,
    load: bool,
    topics: Path | None,
) -> None:
    """Per lesson, rooms/nodes/members added, removed, changed: RUN_A vs RUN_B, or the
    published preheat vs the current logic (--against-current-logic)."""
    settings = topics_settings(load_settings(), topics)
    with clear_errors():
        if against_current_logic:
            if run_a is not None or run_b is not None:
                raise click.UsageError("--against-current-logic takes no run ids")
            if load:
                land_preheat_topics(settings)
            with errors.status("preheating a scratch run with the current logic…"):
                result = diff_against_current_logic(
                    settings,
                    day=day or (None if lessons else business_today(settings)),
                    lessons=list(lessons) or None,
                    keep_scratch=keep_scratch,
                )
        else:
            if run_a is None or run_b is None:
                raise click.UsageError("give RUN_A and RUN_B, or --against-current-logic")
            result = diff_runs(settings, run_a, run_b, lessons)
    print_diff(Console(), result, show_all)


@command.command("apply-changes")
@batch_option
@load_option
def apply_changes_command(max_batch_students: int, load: bool, topics: Path | None) -> None:
    """Re-preheat exactly the lessons touched by change events since the last call."""
    settings = topics_settings(load_settings(), topics)
    with clear_errors():
        if load:
            land_preheat_topics(settings)
        with new_progress() as progress:
            result = apply_changes(
                settings,
                max_batch_students=max_batch_students,
                on_progress=progress_reporter(progress),
            )
    console = Console()
    if not result.events:
        console.print(f"no change events after {result.after}")
        return
    described = ", ".join(f"{kind} {count}" for kind, count in sorted(result.events.items()))
    console.print(f"change events {result.after + 1}..{result.up_to}: {described}")
    if result.unknown_kinds:
        console.print(f"[yellow]ignored unknown kinds: {result.unknown_kinds}[/yellow]")
    if result.run is None:
        console.print("no published lesson is touched; nothing to re-preheat")
        return
    print_report(console, result.run)


@command.command("status")
@click.argument("run_id", type=int, required=False)
@click.option("--limit", type=click.IntRange(1, 1000), default=15, show_default=True)
def status_command(run_id: int | None, limit: int) -> None:
    """The latest runs, or one run's log (RUN_ID)."""
    settings = load_settings()
    console = Console()
    with clear_errors():
        if run_id is not None:
            print_report(console, report(settings, run_id), per_lesson=True)
            return
        runs = list_runs(settings, limit=limit)
    table = Table(
        title="preheat runs (newest first)",
        header_style="bold cyan",
        box=box.SIMPLE,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("run", no_wrap=True)
    for header in ("kind", "day", "built", "members", "failing", "published"):
        table.add_column(header, no_wrap=True, justify="left" if header == "kind" else "right")
    for run in runs:
        published = f"{run.published_at:%d %H:%M}" if run.published_at else "-"
        if run.withheld:
            published += f" ({run.withheld} withheld)"
        table.add_row(
            str(run.run_id),
            run.kind,
            str(run.day),
            f"{run.built:,}/{run.planned:,}",
            f"{run.members:,}",
            f"{run.error_lessons:,}",
            published,
        )
    console.print(table)


# ---------------------------------------------------------------------------------------
# Printing


def print_report(console: Console, result: RunReport, per_lesson: bool = False) -> None:
    if per_lesson:
        table = Table(title=f"run {result.run_id} lessons", header_style="bold cyan")
        headers = ("lesson", "date", "status", "policy", "students", "tutors", "rooms")
        for header in (*headers, "nodes", "members", "seconds", "errors", "warnings"):
            table.add_column(header, justify="left" if header == "status" else "right")
        for lesson in result.lessons:
            table.add_row(
                str(lesson.lesson_id),
                str(lesson.lesson_date),
                lesson.build_status,
                str(lesson.policy_id),
                f"{lesson.students:,}",
                f"{lesson.tutors:,}",
                f"{lesson.rooms:,}",
                f"{lesson.nodes:,}",
                f"{lesson.members:,}",
                f"{lesson.build_seconds:.3f}",
                "-" if lesson.errors is None else str(lesson.errors),
                "-" if lesson.warnings is None else str(lesson.warnings),
            )
        console.print(table)
    summary = Table(
        title=f"preheat run {result.run_id} ({result.kind}, {result.day})",
        box=box.SIMPLE,
        show_header=False,
    )
    summary.add_column("what", style="bold")
    summary.add_column("value")
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(result.status_counts().items()))
    published = "no"
    if result.published_at:
        published = f"{result.published_at:%Y-%m-%d %H:%M:%S}, {len(result.withheld)} withheld"
    for what, value in (
        ("lessons", f"{result.built:,} of {result.planned:,} built ({statuses})"),
        ("students", f"{result.students:,}"),
        ("rooms / nodes", f"{result.rooms:,} / {result.nodes:,}"),
        ("members", f"{result.members:,}"),
        ("build", f"{result.build_seconds:.2f} s"),
        ("failing lessons", f"{len(result.error_lessons):,}"),
        ("published", published),
    ):
        summary.add_row(what, value)
    console.print(summary)
    print_findings(console, result.findings)


def print_findings(console: Console, findings: list) -> None:
    if not findings:
        return
    table = Table(title="check findings", header_style="bold cyan")
    for header in ("lesson", "kind", "severity", "count", "detail"):
        table.add_column(header, justify="right" if header in {"lesson", "count"} else "left")
    shown = [finding for finding in findings if finding.severity == "error"][:50]
    shown += [finding for finding in findings if finding.severity != "error"][: 60 - len(shown)]
    for finding in shown:
        style = "red" if finding.severity == "error" else "yellow"
        table.add_row(
            str(finding.lesson_id),
            finding.kind,
            f"[{style}]{finding.severity}[/{style}]",
            f"{finding.count:,}",
            finding.detail,
        )
    console.print(table)
    if len(shown) < len(findings):
        console.print(f"[dim]{len(findings) - len(shown)} more finding(s) not shown[/dim]")


def print_diff(console: Console, result: DiffResult, show_all: bool) -> None:
    side_a = "published" if result.run_a == 0 else f"run {result.run_a}"
    side_b = f"run {result.run_b}"
    table = Table(title=f"preheat diff: {side_a} → {side_b}", header_style="bold cyan")
    table.add_column("lesson", justify="right")
    for entity in ENTITIES[1:]:
        table.add_column(f"{entity}s +/-/~", justify="right")
    table.add_column("lesson build")
    lessons = result.lessons if show_all else result.differing
    for lesson in lessons:
        cells = [
            f"+{lesson.of(entity).added} -{lesson.of(entity).removed} ~{lesson.of(entity).changed}"
            for entity in ENTITIES[1:]
        ]
        build = f"{lesson.before} → {lesson.after}" if lesson.of("lesson").total else ""
        table.add_row(str(lesson.lesson_id), *cells, build)
    console.print(table)
    totals = result.totals()
    described = "; ".join(
        f"{entity}s +{change.added} -{change.removed} ~{change.changed}"
        for entity, change in totals.items()
        if entity != "lesson"
    )
    console.print(
        f"{len(result.differing)} of {len(result.lessons)} lesson(s) differ; {described}"
        + (f"; scratch run {result.run_b} kept" if result.scratch_kept else "")
    )
