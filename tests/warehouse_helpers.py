"""Warehouse servers of the tests' own: their settings, the environment that aims subprocesses at
them, and starting one for a while (imported by name: ``from warehouse_helpers import ...``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from kafka_helpers import free_port

from classpulse.config import Settings, load_settings, warehouse_environment
from classpulse.warehouse import daemon

ANALYST_PASSWORD = "analyst-test-password"


def warehouse_settings(path: Path, port: int | None = None) -> Settings:
    """Settings for a server of the tests' own (never the user's var/warehouse)."""
    return replace(
        load_settings({}),
        warehouse_path=path,
        warehouse_bind="127.0.0.1",
        clickhouse_host="127.0.0.1",
        clickhouse_port=port or free_port(),
        clickhouse_user="default",
        clickhouse_password="",
        clickhouse_secure=False,
        analyst_password=ANALYST_PASSWORD,
    )


@contextmanager
def running_warehouse(
    settings: Settings, environment: dict[str, str] | None = None
) -> Iterator[int]:
    """A server for ``settings`` (its pid), with its variables and ``environment`` set while it
    runs (the server process and the CLIs read them); stopped and the variables put back after."""
    patch = pytest.MonkeyPatch()
    try:
        for name, value in {**warehouse_environment(settings), **(environment or {})}.items():
            patch.setenv(name, value)
        yield daemon.start(settings)
    finally:
        daemon.stop(settings)
        patch.undo()


def query_rows(settings: Settings, sql: str, **parameters: object) -> list[tuple]:
    """The rows of one query, its values bound as server-side parameters, on a client of its
    own."""
    import clickhouse_connect

    with clickhouse_connect.get_client(**settings.client_kwargs()) as client:
        return [tuple(row) for row in client.query(sql, parameters=parameters).result_rows]
