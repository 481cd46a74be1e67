"""`classpulse demo`: bring up the warehouse and show it working."""

from __future__ import annotations

import click
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from classpulse.config import load_settings
from classpulse.warehouse import create_layer_databases, daemon, get_client


@click.command("demo")
def command() -> None:
    """Start the embedded warehouse (if needed), create the layer databases, run a query.

    Against a real ClickHouse (CLASSPULSE_CLICKHOUSE_HOST set) nothing is started; the
    same steps run there.
    """
    console = Console()
    settings = load_settings()
    with console.status("warehouse: checking") as spinner:
        if (
            not daemon.ping(settings.clickhouse_host, settings.clickhouse_port)
            and settings.is_embedded
        ):
            spinner.update("warehouse: starting the embedded server")
            try:
                daemon.start(settings)
            except daemon.WarehouseError as exc:
                raise click.ClickException(f"[stage: warehouse] {exc}") from None
        spinner.update("warehouse: creating layer databases")
        try:
            client = get_client(settings)
            databases = create_layer_databases(client)
            result = client.query(
                "SELECT name, engine FROM system.databases WHERE name IN {names:Array(String)} ORDER BY name",
                parameters={"names": databases},
            )
            version = client.server_version
        except Exception as exc:
            raise click.ClickException(
                f"[stage: warehouse] cannot use {settings.clickhouse_url}: {exc}\n"
                "Check `classpulse warehouse status` / `classpulse doctor`."
            ) from None
    table = Table(title=f"Layer databases on ClickHouse {version}", header_style="bold cyan")
    table.add_column("database")
    table.add_column("engine")
    for name, engine in result.result_rows:
        table.add_row(name, engine)
    console.print(table)
    url = settings.clickhouse_url
    console.print(
        Panel.fit(
            "\n".join(
                [
                    f"HTTP endpoint   {url}  (user {settings.clickhouse_user})",
                    f'curl            curl "{url}/?query=SELECT+version()"',
                    'CLI             classpulse sql "SELECT name FROM system.databases"',
                    f"Python          clickhouse_connect.get_client(host={settings.clickhouse_host!r}, port={settings.clickhouse_port})",
                    f"SQLAlchemy      {settings.sqlalchemy_url('ads')}",
                    f"JDBC (DBeaver)  jdbc:clickhouse:{url}/ads",
                    "Analysts        user "
                    + settings.analyst_user
                    + " (read-only; set CLASSPULSE_ANALYST_PASSWORD)",
                    "Server          classpulse warehouse status | logs | stop",
                ]
            ),
            title="How to connect",
        )
    )
