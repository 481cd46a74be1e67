"""Start and stop reporting shared by the daemon command groups (a helper module, not a
command group): ``classpulse kafka`` and ``classpulse warehouse``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console

from classpulse.config import Settings

console = Console(stderr=True)


def start_under_spinner(
    what: str,
    start: Callable[..., int],
    settings: Settings,
    wait_s: float,
    error: type[Exception],
) -> int:
    """Run a daemon's ``start`` with a spinner counting the wait; its ``error`` becomes a
    click error. Returns the daemon's pid."""
    with console.status(f"starting the {what}…") as spinner:
        try:
            return start(
                settings,
                wait_s=wait_s,
                on_wait=lambda s: spinner.update(f"starting the {what}… {s:.0f}s"),
            )
        except error as exc:
            raise click.ClickException(str(exc)) from None


def report_stopped(what: str, pid: int | None, path: Path) -> None:
    if pid is None:
        console.print(f"no {what} is running for {path}")
    else:
        console.print(f"[green]stopped[/green] {what} pid {pid}")


def refuse_if_external(
    local: bool, setting: str, target: str, managed: str, unset_advice: str
) -> None:
    """Stop a start or stop command when ``setting`` points the tools at a server someone else
    runs (``target``): there is no ``managed`` daemon here; say how to use the local one."""
    if not local:
        raise click.ClickException(
            f"{setting} points at {target}; there is no {managed} to manage. {unset_advice}"
        )
