"""Fixtures for the quality gate's tests: the session's warehouse, GX writing to a temp home."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client

from classpulse.config import Settings


@pytest.fixture(scope="module")
def gate_client(warehouse: Settings) -> Iterator[Client]:
    """A clickhouse-connect client of the writer user."""
    with clickhouse_connect.get_client(**warehouse.client_kwargs()) as connection:
        yield connection


@pytest.fixture(scope="module")
def quality_settings(warehouse: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The session's warehouse with CLASSPULSE_HOME in a temp directory (GX writes there)."""
    return replace(warehouse, home=tmp_path_factory.mktemp("quality-home"))
