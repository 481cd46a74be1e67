"""`classpulse produce --topics DIR`: publish topic directories into the Kafka topics."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from classpulse.commands.options import topic_files_option
from classpulse.config import load_settings
from classpulse.kafka.client import KafkaUnavailable
from classpulse.kafka.produce import (
    ProduceError,
    directory_bytes,
    produce_directories,
    topic_directories,
)

console = Console(stderr=True)


@click.command("produce")
@topic_files_option("Root of the topic directories (default CLASSPULSE_TOPICS_DIR).")
@click.option(
    "--only", multiple=True, metavar="TOPIC", help="Publish only this topic (repeatable)."
)
def command(topics_dir: Path | None, only: tuple[str, ...]) -> None:
    """Publish topic directories of JSON-lines files into Kafka, one message per line.

    Each contract topic's directory under DIR is sent file by file (file-name order, hidden
    and in-progress files skipped), lines in file order, keyed by room or id so what must stay
    ordered shares a partition; acks=all with an idempotent producer. Missing topics are created
    with CLASSPULSE_KAFKA_PARTITIONS partitions. The brokers are
    CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS (the local one: `classpulse kafka start`).
    """
    settings = load_settings()
    root = topics_dir or settings.topics_dir
    try:
        names = topic_directories(root, only)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if not names:
        raise click.ClickException(f"{root} has no contract topic directory")
    total = directory_bytes(root, names)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task(f"producing {len(names)} topics", total=total)

        def advance(topic: str, size: int) -> None:
            progress.update(task, advance=size, description=f"producing {topic}")

        try:
            counts = produce_directories(settings, root, names, on_progress=advance)
        except (KafkaUnavailable, ProduceError) as exc:
            raise click.ClickException(str(exc)) from None
        progress.update(task, completed=total, description="delivered")
    table = Table(title=f"produced into {settings.kafka_bootstrap_servers}")
    table.add_column("topic")
    table.add_column("messages", justify="right")
    for topic, count in counts.items():
        table.add_row(topic, f"{count:,}")
    table.add_row("total", f"{sum(counts.values()):,}", style="bold")
    Console().print(table)
