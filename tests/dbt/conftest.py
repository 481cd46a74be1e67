"""A warehouse server of this folder's own, whose landing tables the tests fill directly.

The dbt tests write rows into the landing tables themselves (what the Flink jobs would have
landed, including values cleaning must never let through) and run the real dbt build on them,
so they need a server no other test writes to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client
from warehouse_helpers import running_warehouse, warehouse_settings

from classpulse.config import Settings
from classpulse.loader import create_landing_tables, read_landing_tables


@pytest.fixture(scope="module")
def dbt_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    base = tmp_path_factory.mktemp("dbt-warehouse")
    settings = replace(warehouse_settings(base / "data"), home=base / "home")
    with running_warehouse(settings):
        yield settings


@pytest.fixture
def landing(dbt_warehouse: Settings) -> Iterator[Client]:
    """A client on empty landing tables (every test starts from nothing)."""
    client = clickhouse_connect.get_client(**dbt_warehouse.client_kwargs())
    tables = read_landing_tables(dbt_warehouse.root)
    create_landing_tables(client, tables)
    for table in tables:
        client.command(f"TRUNCATE TABLE {table.table}")
    try:
        yield client
    finally:
        client.close()
