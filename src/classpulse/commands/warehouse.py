"""`classpulse warehouse start|stop|status|logs`: the embedded ClickHouse server."""

from __future__ import annotations

import click
from rich.console import Console

from classpulse.commands.background import (
    refuse_if_external,
    report_stopped,
    start_under_spinner,
)
from classpulse.config import load_settings
from classpulse.warehouse import daemon

console = Console(stderr=True)


def _refuse_if_external(settings) -> None:
    refuse_if_external(
        settings.is_embedded,
        f"CLASSPULSE_CLICKHOUSE_HOST={settings.clickhouse_host}",
        "an external ClickHouse server",
        "embedded server",
        "Unset it to use the embedded warehouse.",
    )


@click.group("warehouse")
def command() -> None:
    """Manage the embedded warehouse server (ClickHouse's HTTP interface over chDB).

    Its data lives in CLASSPULSE_WAREHOUSE_PATH (default var/warehouse) and it listens on
    CLASSPULSE_WAREHOUSE_BIND:CLASSPULSE_CLICKHOUSE_PORT (default 127.0.0.1:8123).
    """


@command.command()
@click.option("--foreground", is_flag=True, help="Run in this terminal instead of the background.")
@click.option(
    "--wait", "wait_s", default=60.0, show_default=True, help="Seconds to wait for /ping."
)
def start(foreground: bool, wait_s: float) -> None:
    """Start the server (refuses if one already owns the data path)."""
    settings = load_settings()
    _refuse_if_external(settings)
    if foreground:
        from classpulse.warehouse import server

        server.main(
            [
                "--path",
                str(settings.warehouse_path),
                "--host",
                settings.warehouse_bind,
                "--port",
                str(settings.clickhouse_port),
            ]
        )
        return
    pid = start_under_spinner(
        "warehouse server", daemon.start, settings, wait_s, daemon.WarehouseError
    )
    console.print(
        f"[green]warehouse running[/green] pid {pid} at "
        f"http://{settings.warehouse_bind}:{settings.clickhouse_port} "
        f"(data: {settings.warehouse_path})"
    )


@command.command()
def stop() -> None:
    """Stop the server (SIGTERM; acknowledged inserts are on disk)."""
    settings = load_settings()
    report_stopped("warehouse server", daemon.stop(settings), settings.warehouse_path)


@command.command()
def status() -> None:
    """Show whether the server runs and answers; exits 1 if it does not answer."""
    settings = load_settings()
    state = daemon.status(settings)
    if state.answering:
        uptime = f", up {state.uptime_s:.0f}s" if state.uptime_s is not None else ""
        owner = f"pid {state.pid}" if state.pid else "not started by this path"
        console.print(
            f"[green]answering[/green] {state.url} — ClickHouse {state.version or '?'} "
            f"({owner}{uptime}); data {settings.warehouse_path}"
        )
    elif state.running:
        console.print(
            f"[yellow]running but not answering[/yellow] pid {state.pid}; see `classpulse warehouse logs`"
        )
        raise SystemExit(1)
    else:
        console.print(
            f"[red]not running[/red]; start it with `classpulse warehouse start` ({state.url})"
        )
        raise SystemExit(1)


@command.command()
@click.option("-n", "--lines", default=40, show_default=True, help="How many lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
def logs(lines: int, follow: bool) -> None:
    """Print the server's log."""
    files = daemon.ServerFiles(load_settings().warehouse_path)
    click.echo(daemon.tail(files, lines))
    if follow:
        daemon.follow(files)
