"""`classpulse build`: dbt, layer by layer, with per-node progress."""

from __future__ import annotations

import click
from rich.console import Console

from classpulse.config import load_settings
from classpulse.dbt import LAYERS, DbtError, build_layers, run_dbt


@click.command("build")
@click.option("--run-date", help="Business day YYYY-MM-DD: replace only that day's partitions.")
@click.option(
    "--layer",
    "layers",
    multiple=True,
    type=click.Choice(LAYERS),
    help="Build only these layers (repeatable).",
)
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.option("--docs", is_flag=True, help="Also generate dbt docs (var/dbt/target/index.html).")
def command(run_date: str | None, layers: tuple[str, ...], full_refresh: bool, docs: bool) -> None:
    """Build the warehouse with dbt: ods → dwd → dws → ads, then the metric roll-up.

    Runs `dbt build` (models and their tests) per layer against the configured ClickHouse.
    Without --run-date everything is rebuilt; with it, daily models replace that day only,
    so re-running a day gives identical marts.
    """
    settings = load_settings()
    console = Console(stderr=True)
    counts = {"model": 0, "test": 0}

    def show(node) -> None:
        counts[node.resource_type] = counts.get(node.resource_type, 0) + 1
        colour = "green" if node.status in ("success", "pass") else "red"
        console.print(
            f"  [{colour}]{node.status:7}[/{colour}] {node.resource_type:5} {node.name} [dim]{node.seconds:.2f}s[/dim]"
        )

    try:
        runs = build_layers(settings, layers or LAYERS, run_date, full_refresh, on_node=show)
        if docs:
            run_dbt(settings, ["docs", "generate"])
    except DbtError as exc:
        raise click.ClickException(str(exc)) from None
    seconds = sum(run.seconds for run in runs)
    console.print(
        f"[green]built[/green] {counts.get('model', 0)} models, {counts.get('test', 0)} tests passed in {seconds:.1f} s"
    )
    if docs:
        console.print(
            f"dbt docs: {settings.home / 'dbt' / 'target' / 'index.html'} (serve: dbt docs serve)"
        )
