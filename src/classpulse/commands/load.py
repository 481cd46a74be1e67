"""`classpulse load`: land the Kafka topics into ClickHouse, exactly once in effect."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from classpulse import loader
from classpulse.config import load_settings
from classpulse.loader import LoadError, read_landing_tables


@click.command("load")
@click.option("--topic", "only", multiple=True, help="Land only this topic (repeatable).")
@click.option(
    "--kafka-ddl",
    is_flag=True,
    help="Print (or --apply) the ClickHouse Kafka-engine feed DDL instead of landing.",
)
@click.option(
    "--brokers", default="kafka:9092", show_default=True, help="Kafka broker list for --kafka-ddl."
)
@click.option(
    "--apply", is_flag=True, help="With --kafka-ddl: run the DDL on the configured ClickHouse."
)
@click.option(
    "--from-kafka",
    is_flag=True,
    hidden=True,
    help="Accepted for compatibility: landing from Kafka is the only mode.",
)
@click.option("--follow", is_flag=True, help="Keep landing until Ctrl-C or SIGTERM.")
@click.option(
    "--heartbeat",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Touch this file on every poll (a container's health check).",
)
def command(
    only: tuple[str, ...],
    kafka_ddl: bool,
    brokers: str,
    apply: bool,
    from_kafka: bool,
    follow: bool,
    heartbeat: Path | None,
) -> None:
    """Land the landing topics (clickhouse/landing/*.sql) from Kafka into ClickHouse.

    A consumer group (read_committed) lands every topic up to the end of each partition
    (--follow keeps going), committing offsets only after the rows are in and deduplicating
    re-deliveries by (topic, partition, offset); it creates the databases, landing tables and
    missing topics first. The brokers are CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS (the local one:
    `classpulse kafka start`); topic files get into Kafka with `classpulse produce`.
    """
    if kafka_ddl:
        settings = load_settings()
        try:
            _print_kafka_ddl(settings, only, brokers, apply, Console(stderr=True))
        except LoadError as exc:
            raise click.ClickException(str(exc)) from None
        return
    _land_from_kafka(only, follow, heartbeat)


def _land_from_kafka(only: tuple[str, ...], follow: bool, heartbeat: Path | None) -> None:
    import signal
    import threading

    from classpulse.kafka.client import KafkaUnavailable
    from classpulse.kafka.landing import LandingError, land_from_kafka

    settings = load_settings()
    console = Console(stderr=True)
    stopping = threading.Event()
    # a container is stopped with SIGTERM: finish the batch in flight, then leave the group
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    def should_stop() -> bool:
        if heartbeat is not None:
            heartbeat.touch()
        return stopping.is_set()

    try:
        with console.status(f"landing from Kafka at {settings.kafka_bootstrap_servers}…"):
            report = land_from_kafka(settings, only, follow=follow, should_stop=should_stop)
    except KeyboardInterrupt:
        console.print("[yellow]stopped[/yellow]")
        return
    except (LoadError, LandingError, KafkaUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    table = Table(title="Landed from Kafka", header_style="bold cyan")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(report.rows.items()):
        table.add_row(name, f"{rows:,}")
    Console().print(table)
    console.print(
        f"{sum(report.rows.values()):,} rows in {report.batches} batches "
        f"({report.redone} re-landed after an interruption) in {report.seconds:.1f} s"
    )


def _print_kafka_ddl(settings, only, brokers: str, apply: bool, console: Console) -> None:
    from classpulse.loader import create_landing_tables
    from classpulse.warehouse import get_client

    client = get_client(settings)
    tables = [t for t in read_landing_tables(settings.root) if not only or t.topic in only]
    create_landing_tables(client, tables)
    for table in tables:
        for statement in loader.kafka_ddl(client, table, brokers):
            if apply:
                client.command(statement)
            click.echo(statement + ";\n")
    if apply:
        console.print(f"[green]applied[/green] Kafka feeds for {len(tables)} topics ({brokers})")
