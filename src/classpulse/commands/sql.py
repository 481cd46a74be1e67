"""`classpulse sql`: run one query against the configured warehouse."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from classpulse.config import load_settings
from classpulse.warehouse import get_client
from classpulse.warehouse.sqltext import format_clause


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--param")
        params[name] = value
    return params


@click.command("sql")
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    help="A ClickHouse output format (JSONEachRow, CSV, Parquet…); bytes go to stdout as the server sends them.",
)
@click.option("--database", "-d", help="Default database for the query.")
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    help="Query parameter NAME=VALUE for {NAME:Type} placeholders.",
)
@click.option("--analyst", is_flag=True, help="Connect as the read-only analyst user.")
def command(
    query: str, fmt: str | None, database: str | None, params: tuple[str, ...], analyst: bool
) -> None:
    """Run QUERY ('-' reads it from stdin) and print a readable table.

    Values are bound as server-side parameters, never pasted into the SQL:

        classpulse sql "SELECT * FROM ads.av_quality_30s WHERE classroom_id = {room:String} LIMIT 5" -p room=r1
    """
    if query == "-":
        query = sys.stdin.read()
    settings = load_settings()
    overrides: dict[str, object] = {}
    if analyst:
        overrides = {"username": settings.analyst_user, "password": settings.analyst_password}
    if database:
        overrides["database"] = database
    bound = _parse_params(params)
    try:
        client = get_client(settings, **overrides)
        own = query_format(client, query)
        if own is not None and fmt and own.lower() != fmt.lower():
            raise click.UsageError(f"the query has its own FORMAT {own}; drop --format {fmt}")
        if own is not None:  # the server formats the result as the query says
            data = client.raw_query(query, parameters=bound or None)
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        if fmt:
            data = client.raw_query(query, parameters=bound or None, fmt=fmt)
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        result = client.query(query, parameters=bound or None)
    except click.UsageError:
        raise
    except Exception as exc:  # the server's message says what went wrong
        raise click.ClickException(_first_lines(str(exc))) from None
    table = Table(show_lines=False, header_style="bold cyan")
    for name in result.column_names:
        table.add_column(name)
    for row in result.result_rows:
        table.add_row(*("NULL" if value is None else str(value) for value in row))
    console = Console()
    console.print(table)
    console.print(f"[dim]{len(result.result_rows)} rows[/dim]", highlight=False)


def query_format(client, query: str) -> str | None:
    """The query's own top-level ``FORMAT <name>`` clause, if any.

    The clause is found by the statement scanner the warehouse server routes requests with
    (string literals, comments and parentheses skipped), among the output formats the engine
    itself knows (``system.formats``): ``SELECT format FROM t`` or ``'FORMAT CSV'`` are not
    clauses.
    """
    # One row whatever the engine knows, so an analyst's max_result_rows never trips on it.
    (names,) = client.query("SELECT groupArray(name) FROM system.formats WHERE is_output").first_row
    known = frozenset(str(name).lower() for name in names)
    return format_clause(query, known)


def _first_lines(text: str, count: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[:count])
