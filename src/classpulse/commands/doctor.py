"""`classpulse doctor`: versions, configuration, and what to fix."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from classpulse import doctor
from classpulse.config import load_settings


@click.command("doctor")
def command() -> None:
    """Show component versions, the effective configuration and anything missing."""
    console = Console()
    settings = load_settings()
    checks = doctor.component_checks() + [
        doctor.jvm_runtime_check(),
        doctor.warehouse_check(settings),
        doctor.kafka_check(settings),
    ]
    table = Table(title="Components", header_style="bold cyan")
    table.add_column("component")
    table.add_column("version / state")
    table.add_column("")
    for check in checks:
        table.add_row(
            check.name, check.value, "[green]ok[/green]" if check.ok else "[red]missing[/red]"
        )
    console.print(table)
    config = Table(title="Configuration (CLASSPULSE_* variables, .env)", header_style="bold cyan")
    config.add_column("variable")
    config.add_column("value")
    config.add_column("meaning", style="dim")
    for row in doctor.configuration(settings):
        config.add_row(*row)
    console.print(config)
    problems = [check for check in checks if not check.ok]
    if not settings.analyst_password:
        console.print(
            "[yellow]note[/yellow]: the analyst user is disabled until CLASSPULSE_ANALYST_PASSWORD is set."
        )
    for check in problems:
        console.print(f"[red]✗ {check.name}[/red]: {check.fix}")
    if not problems:
        console.print("[green]everything is in place[/green]")
