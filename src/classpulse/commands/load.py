"""`classpulse load`: land topic files into ClickHouse exactly once."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from classpulse import loader
from classpulse.config import load_settings
from classpulse.loader import LoadError, load_topics, read_landing_tables


@click.command("load")
@click.option(
    "--topics",
    "topics_dir",
    type=click.Path(path_type=Path),
    help="Topics root (default CLASSPULSE_TOPICS_DIR).",
)
@click.option("--topic", "only", multiple=True, help="Load only this topic (repeatable).")
@click.option(
    "--kafka-ddl",
    is_flag=True,
    help="Print (or --apply) the Kafka-engine feed DDL instead of loading files.",
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
    help="Land from the Kafka topics (CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS) instead of files, "
    "until every partition is landed (--follow keeps going). The production path too.",
)
@click.option(
    "--follow", is_flag=True, help="With --from-kafka: keep landing until Ctrl-C or SIGTERM."
)
@click.option(
    "--heartbeat",
    type=click.Path(path_type=Path, dir_okay=False),
    help="With --from-kafka: touch this file on every poll (a container's health check).",
)
def command(
    topics_dir: Path | None,
    only: tuple[str, ...],
    kafka_ddl: bool,
    brokers: str,
    apply: bool,
    from_kafka: bool,
    follow: bool,
    heartbeat: Path | None,
) -> None:
    """Land every new complete topic file into its ClickHouse table (ods / rt).

    Each file is loaded once: a ledger (ods.load_ledger) remembers loaded files, and
    inserts carry deduplication tokens, so re-running after an interruption adds nothing
    twice. Landing tables are defined in clickhouse/landing/*.sql.

    With --from-kafka a consumer group lands the topics instead (read_committed), committing
    offsets only after the rows are in and deduplicating re-deliveries by (topic, partition,
    offset).
    """
    if from_kafka:
        _land_from_kafka(only, follow, heartbeat)
        return
    _run(topics_dir, only, kafka_ddl, brokers, apply)


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


def _run(
    topics_dir: Path | None, only: tuple[str, ...], kafka: bool, brokers: str, apply: bool
) -> None:
    settings = load_settings()
    console = Console(stderr=True)
    try:
        if kafka:
            _print_kafka_ddl(settings, only, brokers, apply, console)
            return
        with console.status("loading topics…") as spinner:
            report = load_topics(
                settings,
                topics_dir,
                only or None,
                on_file=lambda topic, path, rows: spinner.update(
                    f"loaded {topic}/{path.name}: {rows:,} rows"
                ),
            )
    except LoadError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # the server's words say what went wrong
        raise click.ClickException(
            f"load failed against {settings.clickhouse_url}: {exc}"
        ) from None
    table = Table(title="Landed", header_style="bold cyan")
    for column in ("topic", "table", "files (new/seen)", "rows", "rows/s"):
        table.add_column(column, justify="left" if column in ("topic", "table") else "right")
    for item in report.topics:
        rate = f"{item.rows / item.seconds:,.0f}" if item.seconds else "-"
        table.add_row(
            item.topic, item.table, f"{item.files_loaded}/{item.files_seen}", f"{item.rows:,}", rate
        )
    Console().print(table)
    console.print(
        f"{report.files_loaded} files, {report.rows:,} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s)"
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
