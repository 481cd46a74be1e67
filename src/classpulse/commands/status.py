"""``classpulse status``: broker, warehouse, pipeline, and the accounting by offsets.

The figures and the identities live in :mod:`classpulse.kafka.accounting`; this module prints
them. Exit code 0 when the identities hold (or the stack is still catching up), 1 when they do
not hold at rest, 2 when the broker or the warehouse does not answer.
"""

from __future__ import annotations

import importlib
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from classpulse.config import Settings, load_settings

EXIT_BROKEN = 1
EXIT_UNREACHABLE = 2


def pipeline_job(settings: Settings) -> str:
    """The streaming pipeline's job, as ``classpulse flink status`` sees it.

    Asks ``classpulse.flink.pipeline.status(settings)`` (the streaming pipeline's entry points)
    when that module exists; anything it returns is shown as text.
    """
    try:
        module = importlib.import_module("classpulse.flink.pipeline")
    except ImportError:
        return "unknown (no classpulse.flink.pipeline module on this branch)"
    status = getattr(module, "status", None)
    if status is None:
        return "unknown (classpulse.flink.pipeline has no status())"
    try:
        state = status(settings)
    except Exception as exc:  # a status call that fails is itself the answer
        return f"unknown ({type(exc).__name__}: {exc})"
    if not hasattr(state, "running"):
        return str(state)
    details = [
        f"{name.replace('_', ' ')} {getattr(state, name)}"
        for name in ("mode", "job_id", "state", "last_checkpoint", "restored_from")
        if getattr(state, name, None)
    ]
    running = "[green]running[/green]" if state.running else "[yellow]not running[/yellow]"
    return running + (f" ({', '.join(details)})" if details else "")


def _yes_no(value: bool, pending: bool) -> str:
    if value:
        return "[green]yes[/green]"
    return "[yellow]not yet[/yellow]" if pending else "[red]NO[/red]"


def _number(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def topic_table(accounting: Any) -> Table:
    pending = not accounting.caught_up
    table = Table(title="Source topics: messages read = accepted + rejected")
    for name in ("topic", "partitions", "held", "read", "lag", "accepted", "rejected"):
        table.add_column(name, justify="left" if name == "topic" else "right")
    table.add_column("landed (clean / dead letters)", justify="right")
    table.add_column("holds")
    for item in accounting.topics:
        landed = f"{_number(item.clean_rows)} / {item.dead_letters:,}"
        table.add_row(
            item.topic,
            str(item.partitions),
            f"{item.held:,}",
            f"{item.read:,}",
            f"{item.lag:,}",
            _number(item.accepted),
            _number(item.rejected),
            landed,
            _yes_no(item.holds, pending) + ("" if item.holds else f" {'; '.join(item.problems)}"),
        )
    return table


def mart_table(accounting: Any) -> Table:
    pending = not accounting.caught_up
    table = Table(title="Real-time marts: counted + late = accepted")
    for name in ("mart", "input topic", "accepted", "events in", "counted", "late", "late rows"):
        table.add_column(name, justify="left" if name in ("mart", "input topic") else "right")
    table.add_column("holds")
    for item in accounting.marts:
        table.add_row(
            item.mart,
            item.input_topic,
            _number(item.accepted),
            _number(item.events_in),
            _number(item.counted),
            _number(item.late),
            f"{item.late_rows:,}",
            _yes_no(item.holds, pending) + ("" if item.holds else f" {'; '.join(item.problems)}"),
        )
    return table


@click.command("status")
@click.option("--record", is_flag=True, help="Also keep the figures in ods.offset_accounting.")
def command(record: bool) -> None:
    """Broker, warehouse, pipeline job, and accounting by offsets per topic and mart.

    Read = the pipeline group's committed offsets; accepted, rejected, counted and late = the
    jobs' counters landed in the warehouse, checked against the rows landed with their
    (topic, partition, offset). Exits 1 when an identity does not hold with everything caught
    up, 2 when the broker or the warehouse does not answer.
    """
    from classpulse.kafka import accounting, broker
    from classpulse.warehouse import daemon, get_client

    settings = load_settings()
    console = Console()
    kafka = broker.status(settings)
    warehouse = daemon.status(settings)
    overview = Table(title="ClassPulse", show_header=False)
    overview.add_column("what")
    overview.add_column("state")
    overview.add_row(
        "broker",
        f"{'[green]up[/green]' if kafka.answering else '[red]down[/red]'} "
        f"{kafka.bootstrap}" + (f" ({kafka.topics} topics)" if kafka.answering else ""),
    )
    overview.add_row(
        "warehouse",
        f"{'[green]up[/green]' if warehouse.answering else '[red]down[/red]'} {warehouse.url}"
        + (f" (ClickHouse {warehouse.version})" if warehouse.version else ""),
    )
    overview.add_row("pipeline job", pipeline_job(settings))
    if not (kafka.answering and warehouse.answering):
        console.print(overview)
        raise SystemExit(EXIT_UNREACHABLE)
    client = get_client(settings)
    result = accounting.account(settings, client)
    overview.add_row(
        "pipeline group",
        f"{result.pipeline_group}: "
        + (f"lag {result.pipeline_lag:,}" if result.pipeline_committed else "nothing committed"),
    )
    overview.add_row("landing group", f"{result.landing_group}: lag {result.landing_lag:,}")
    overview.add_row(
        "identities",
        ("[green]hold[/green]" if result.holds else "[red]do not hold[/red]")
        + ("" if result.caught_up else " (catching up: exact only at rest)"),
    )
    console.print(overview)
    console.print(topic_table(result))
    console.print(mart_table(result))
    if record:
        accounting.record_accounting(client, result)
    if result.caught_up and not result.holds:
        raise SystemExit(EXIT_BROKEN)
