"""`classpulse run --topics DIR`: the whole pipeline over topic directories someone else wrote:
produced into Kafka, through the streaming pipeline (bounded), landed from Kafka, built."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from classpulse.commands.options import topic_files_option
from classpulse.config import load_settings


@click.command("run")
@topic_files_option(
    "Root holding one directory per source topic (JSON lines; hidden files are ignored).",
    required=True,
)
@click.option("--skip-quality", is_flag=True, help="Do not run the quality gate.")
def command(topics_dir: Path, skip_quality: bool) -> None:
    """Produce DIR into Kafka, run the pipeline bounded, land, dbt build and the quality gate.

    Every complete, non-hidden file of a topic directory is produced once (line order kept;
    a file already produced is not sent again), into the Kafka at
    CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS (the local broker is started if it is the configured
    one). The Flink pipeline then reads the topics up to their ends, the landing consumer
    lands its outputs into the configured warehouse (CLASSPULSE_CLICKHOUSE_*; the embedded
    server is started if it is the configured one) and dbt builds the marts.
    """
    from dataclasses import replace

    from classpulse import pipeline

    settings = replace(load_settings(), topics_dir=topics_dir.resolve())
    console = Console(stderr=True)
    stages = [
        ("warehouse", lambda: pipeline.ensure_warehouse(settings)),
        ("kafka", lambda: pipeline.ensure_kafka(settings)),
        ("produce", lambda: pipeline.produce(settings)),
        ("flink", lambda: pipeline.run_flink(settings)),
        ("load", lambda: pipeline.load(settings)),
        ("build", lambda: pipeline.build(settings)),
    ]
    if not skip_quality:
        stages.append(("quality", lambda: gate_fed_marts(settings, console)))
    for name, action in stages:
        with console.status(f"{name}…"):
            try:
                summary = action()
            except pipeline.StageError as exc:
                raise click.ClickException(str(exc)) from None
        console.print(f"[green]✓ {name}[/green] [dim]{summary}[/dim]")


def gate_fed_marts(settings, console: Console):
    """The quality gate over the suites the given topics feed (classpulse.feeds): a directory
    with only some topics leaves the other marts empty, and their suites are not judged."""
    from classpulse import pipeline
    from classpulse.feeds import fed_suites
    from classpulse.quality import SUITES_DIRECTORY, discover_suite_files, load_suite
    from classpulse.topics import list_complete_files

    root = settings.topics_dir
    present = [
        entry.name
        for entry in sorted(root.iterdir())
        if entry.is_dir() and list_complete_files(root, entry.name)
    ]
    suites = [
        load_suite(path).name for path in discover_suite_files(settings.root / SUITES_DIRECTORY)
    ]
    gated, skipped = fed_suites(settings, suites, present)
    if skipped:
        console.print(f"[dim]not fed by these topics, not gated: {', '.join(skipped)}[/dim]")
    return pipeline.quality(settings, names=tuple(gated))
