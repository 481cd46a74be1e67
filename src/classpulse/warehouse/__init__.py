"""The warehouse: the embedded ClickHouse-compatible server and the clients of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

    from classpulse.config import Settings

LAYER_DATABASES = ("ods", "dwd", "dws", "ads", "rt")


def get_client(settings: Settings | None = None, **overrides: object) -> Client:
    """A clickhouse-connect client for the configured ClickHouse (embedded or real)."""
    import clickhouse_connect

    from classpulse.config import load_settings

    settings = settings or load_settings()
    kwargs = settings.client_kwargs(**overrides)
    return clickhouse_connect.get_client(**kwargs)


def create_layer_databases(client: Client) -> list[str]:
    """Create the warehouse layer databases if missing; return their names."""
    for name in LAYER_DATABASES:
        client.command(f"CREATE DATABASE IF NOT EXISTS {name}")
    return list(LAYER_DATABASES)
