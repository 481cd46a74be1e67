"""A warehouse server of this folder's own, whose landing tables the tests fill directly.

The dbt tests write rows into the landing tables themselves (what the Flink jobs would have
landed, including values cleaning must never let through) and run the real dbt build on them,
so they need a server no other test writes to.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client

from classpulse.config import Settings
from classpulse.loader import create_landing_tables, read_landing_tables
from classpulse.warehouse import daemon


def load_root_conftest():
    """tests/conftest.py's helpers, by path (``import conftest`` names whichever conftest
    pytest loaded last)."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("classpulse_tests_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root = load_root_conftest()
warehouse_settings: Callable[..., Settings] = _root.warehouse_settings
settings_environment: Callable[[Settings], dict[str, str]] = _root.settings_environment


@pytest.fixture(scope="module")
def dbt_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    base = tmp_path_factory.mktemp("dbt-warehouse")
    settings = replace(warehouse_settings(base / "data"), home=base / "home")
    mp = pytest.MonkeyPatch()
    for name, value in settings_environment(settings).items():
        mp.setenv(name, value)
    daemon.start(settings)
    try:
        yield settings
    finally:
        daemon.stop(settings)
        mp.undo()


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
