"""``classpulse generate``: write a simulated day of classes to the seven source topics.

The simulation, the injected bad input and the expected marts live in
:mod:`classpulse.generator`; this module parses options, shows progress on stderr and
prints a summary table when done.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from classpulse import business_rules
from classpulse.commands.options import parse_day, scale_option, topics_root_option
from classpulse.config import load_settings
from classpulse.generator import (
    MANIFEST_NAME,
    MARTS,
    GenerationResult,
    GeneratorError,
    GeneratorOptions,
    default_start,
    generate,
)
from classpulse.topics import TOPICS, TopicSink, TopicSinkError, open_kafka_sink


def share_option(name: str, default: float, what: str) -> Any:
    return click.option(
        name,
        type=click.FloatRange(0, 0.2),
        default=default,
        show_default=True,
        help=f"Share of {what}.",
    )


@click.command("generate")
@topics_root_option()
@scale_option("Volume multiplier: 1 is a small school (~130k messages), 100 a busy one.")
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Random seed; the same seed and options give byte-identical files.",
)
@click.option(
    "--start",
    callback=parse_day,
    metavar="YYYY-MM-DD",
    help="Business day to simulate (default: today in the business time zone).",
)
@share_option("--malformed-share", 0.001, "valid messages followed by a malformed JSON line")
@share_option(
    "--missing-share", 0.001, "valid messages followed by a copy missing a required field"
)
@share_option(
    "--wrong-type-share", 0.001, "valid messages followed by a copy with a non-numeric number"
)
@share_option("--future-share", 0.001, "courseware messages followed by a future-timestamp copy")
@share_option("--late-share", 0.002, "mart-feeding events written late")
@click.option(
    "--late-min-seconds",
    type=click.IntRange(30, 3000),
    default=300,
    show_default=True,
    help="How far behind the events before it a late event is written.",
)
@click.option(
    "--lookback-seconds",
    type=click.IntRange(60, 86_400),
    default=business_rules.recorded_course_lookback_ms() // 1000,
    show_default=True,
    help="Look-back of recorded_course_enter_time (default: dbt var enter_time_lookback_ms).",
)
@click.option(
    "--kafka",
    is_flag=True,
    help="Produce to Kafka (CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS) instead of files; "
    "the manifest and expected marts still go to --out.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=1),
    default=None,
    help="Paced replay: about this many messages per second, one small file per topic per second.",
)
@click.option(
    "--live-classroom-lessons",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also write this many one-to-one lessons to the five live-classroom topics "
    "(labels and help triage, LIVE_CLASSROOM_CONTRACT.md A); files only.",
)
@click.option(
    "--clean",
    is_flag=True,
    help="Delete earlier topic files, manifest and expected marts under --out first.",
)
def command(
    out: Path | None,
    scale: float,
    seed: int,
    start: date | None,
    malformed_share: float,
    missing_share: float,
    wrong_type_share: float,
    future_share: float,
    late_share: float,
    late_min_seconds: int,
    lookback_seconds: int,
    kafka: bool,
    rate: float | None,
    live_classroom_lessons: int,
    clean: bool,
) -> None:
    """Write a simulated day of online classes to the seven source topics.

    Lessons with courseware actions (timeline_client_topic) and audio/video quality
    (agora_record), recorded-course sessions (qos_log), registrations and account
    versions (uc_account-user, uc_account-student), the channel dictionary and order
    follow-ups (data_pack_order_info), with every kind of bad input of the data contract.
    Writes <out>/_manifest.json and the expected marts under <out>/_expected/.
    """
    settings = load_settings()
    root = out if out is not None else settings.topics_dir
    options = GeneratorOptions(
        start=start or default_start(settings.timezone),
        seed=seed,
        scale=scale,
        timezone=settings.timezone,
        malformed_share=malformed_share,
        missing_share=missing_share,
        wrong_type_share=wrong_type_share,
        future_share=future_share,
        late_share=late_share,
        late_min_seconds=late_min_seconds,
        lookback_seconds=lookback_seconds,
    )
    errors = Console(stderr=True)
    try:
        sink: TopicSink | None = open_kafka_sink() if kafka else None
        result = run_with_progress(errors, options, root, sink, rate, clean)
    except (GeneratorError, TopicSinkError) as error:
        raise click.ClickException(str(error)) from error
    print_summary(Console(), result, root, kafka)
    if live_classroom_lessons:
        if kafka:
            raise click.ClickException("--live-classroom-lessons writes files only (no --kafka)")
        generate_live_classroom(options, root, live_classroom_lessons)


def generate_live_classroom(options: GeneratorOptions, root: Path, lessons: int) -> None:
    """The live-classroom topics of the same day (classpulse.classroom_help.generator)."""
    from classpulse.classroom_help.generator import LabelsOptions, generate_labels_day

    day = generate_labels_day(
        LabelsOptions(
            day=options.start, seed=options.seed, lessons=lessons, timezone=options.timezone
        ),
        root,
    )
    accepted = sum(len(items) for items in day.accepted.values())
    daily = [json.loads(line) for line in (root / "_expected" / "help_triage_daily.jsonl").open()]
    asked = sum(row["requests"] - row["merged"] for row in daily)
    resolved = sum(row["resolved"] for row in daily)
    Console().print(
        f"live classroom: {lessons} lessons, {accepted:,} valid messages, "
        f"{sum(day.rejected.values()):,} bad, {len(day.late):,} late; resolved_share "
        f"{resolved / asked if asked else 0:.2f} (seed: ~0.6)"
    )


def run_with_progress(
    console: Console,
    options: GeneratorOptions,
    root: Path,
    sink: TopicSink | None,
    rate: float | None,
    clean: bool,
) -> GenerationResult:
    columns = (
        TextColumn("[bold]generate[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("hours · {task.fields[messages]:,} messages"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(
            f"seed {options.seed} scale {options.scale:g}", total=None, messages=0
        )

        def report(done: int, total: int, messages: int) -> None:
            progress.update(task, completed=done, total=total, messages=messages)

        return generate(options, root, sink=sink, rate=rate, clean=clean, on_progress=report)


def print_summary(console: Console, result: GenerationResult, root: Path, kafka: bool) -> None:
    manifest = result.manifest
    topics = Table(title=f"classpulse generate → {'Kafka' if kafka else root}")
    for header in ("topic", "messages", "valid", "rejected", "late", "files"):
        topics.add_column(header, justify="left" if header == "topic" else "right")
    for topic in TOPICS:
        stats = manifest["topics"][topic]
        topics.add_row(
            topic,
            f"{stats['messages']:,}",
            f"{stats['valid']:,}",
            f"{stats['rejected_total']:,}",
            f"{stats['late_events']:,}",
            f"{stats['files']:,}",
        )
    totals = manifest["totals"]
    topics.add_row(
        "total",
        f"{totals['messages']:,}",
        f"{totals['valid']:,}",
        f"{totals['rejected']:,}",
        f"{manifest['anomalies']['late_events']:,}",
        "",
        style="bold",
    )
    console.print(topics)
    anomalies = Table(title="anomalies")
    anomalies.add_column("kind")
    anomalies.add_column("count", justify="right")
    for kind, count in manifest["anomalies"].items():
        anomalies.add_row(kind, f"{count:,}")
    console.print(anomalies)
    marts = Table(title="expected marts (offline, late events included)")
    for header in ("mart", "rows", "late events"):
        marts.add_column(header, justify="left" if header == "mart" else "right")
    for mart in MARTS:
        marts.add_row(
            mart,
            f"{manifest['marts'][mart]['rows']:,}",
            f"{manifest['marts'][mart]['late_events']:,}",
        )
    console.print(marts)
    console.print(
        f"{result.messages:,} messages in {result.seconds:.2f} s "
        f"({result.messages_per_second:,.0f} msgs/s); manifest: {root / MANIFEST_NAME}"
    )
