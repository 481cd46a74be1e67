"""`classpulse kafka start|stop|status|topics|logs`: the local Kafka broker."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from classpulse.commands.background import (
    refuse_if_external,
    report_stopped,
    start_under_spinner,
)
from classpulse.config import load_settings
from classpulse.kafka import admin, broker
from classpulse.kafka.client import KafkaUnavailable
from classpulse.topics import TOPICS

console = Console(stderr=True)


def _refuse_if_external(settings) -> None:
    refuse_if_external(
        settings.kafka_is_local,
        f"CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS={settings.kafka_bootstrap_servers}",
        "a Kafka cluster",
        "local broker",
        "Unset it (default 127.0.0.1:9092) to use the local broker.",
    )


@click.group("kafka")
def command() -> None:
    """Manage the local Kafka broker (Apache Kafka 4, one KRaft node on loopback).

    It listens on CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092) with its
    controller on CLASSPULSE_KAFKA_CONTROLLER_PORT, and keeps its data in CLASSPULSE_KAFKA_PATH
    (default var/kafka). The jars come from `make jvm-runtime` (jvm/runtime/pom.xml).
    """


@command.command()
@click.option(
    "--wait", "wait_s", default=90.0, show_default=True, help="Seconds to wait for the broker."
)
def start(wait_s: float) -> None:
    """Start the broker in the background (formats its storage on the first start)."""
    settings = load_settings()
    _refuse_if_external(settings)
    pid = start_under_spinner("Kafka broker", broker.start, settings, wait_s, broker.BrokerError)
    console.print(
        f"[green]kafka running[/green] pid {pid} at {settings.kafka_bootstrap_servers} "
        f"(data: {settings.kafka_path})"
    )


@command.command()
def stop() -> None:
    """Stop the broker (a controlled shutdown; acknowledged messages are on disk)."""
    settings = load_settings()
    _refuse_if_external(settings)
    report_stopped("Kafka broker", broker.stop(settings), settings.kafka_path)


@command.command()
def status() -> None:
    """Show whether the broker runs and answers; exits 1 if it does not answer."""
    settings = load_settings()
    state = broker.status(settings)
    if state.answering:
        if state.pid:
            owner = f"pid {state.pid}, up {state.uptime_s or 0:.0f}s; data {settings.kafka_path}"
        elif settings.kafka_is_local:
            owner = "not started from this path"
        else:
            owner = "external cluster"
        console.print(
            f"[green]answering[/green] {state.bootstrap} — cluster {state.cluster_id}, "
            f"{state.topics} topics ({owner})"
        )
    elif state.running:
        console.print(
            f"[yellow]running but not answering[/yellow] pid {state.pid}; "
            "see `classpulse kafka logs`"
        )
        raise SystemExit(1)
    else:
        hint = (
            "start it with `classpulse kafka start`"
            if settings.kafka_is_local
            else "check CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS"
        )
        console.print(f"[red]not answering[/red] {state.bootstrap}; {hint}")
        raise SystemExit(1)


@command.command()
@click.option(
    "--create",
    is_flag=True,
    help="Create the contract's source topics that are missing "
    "(CLASSPULSE_KAFKA_PARTITIONS partitions each).",
)
@click.option(
    "--partitions", type=int, default=None, help="With --create: override the partition count."
)
def topics(create: bool, partitions: int | None) -> None:
    """List topics with their partitions and end offsets."""
    settings = load_settings()
    try:
        if create:
            created = admin.create_topics(settings, TOPICS, partitions)
            console.print(
                f"created {len(created)} topics: {', '.join(created)}"
                if created
                else "every contract topic exists already"
            )
        infos = admin.describe_topics(settings)
    except (KafkaUnavailable, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    table = Table(title=f"Kafka topics at {settings.kafka_bootstrap_servers}")
    table.add_column("topic", no_wrap=True)
    table.add_column("partitions", justify="right")
    table.add_column("end offsets (partition:offset)", overflow="fold")
    table.add_column("messages held", justify="right")
    for info in infos:
        ends = " ".join(f"{p.partition}:{p.end}" for p in info.partitions)
        table.add_row(info.name, str(len(info.partitions)), ends, f"{info.messages:,}")
    Console().print(table)


@command.command()
@click.option("-n", "--lines", default=40, show_default=True, help="How many lines to show.")
def logs(lines: int) -> None:
    """Print the broker's log."""
    click.echo(broker.tail(broker.files_for(load_settings()), lines))
