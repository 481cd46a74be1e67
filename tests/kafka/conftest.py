"""Kafka fixtures: one real local broker (KRaft, loopback, free ports) for the whole session.

Tests that stop, kill or restart a broker start one of their own with ``own_broker``.
Every broker started here is stopped at the end (no stray java processes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from kafka_helpers import broker_settings

from classpulse.config import Settings
from classpulse.kafka import broker


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A running local broker shared by the session's Kafka tests."""
    settings = broker_settings(tmp_path_factory.mktemp("kafka") / "broker")
    broker.start(settings)
    try:
        yield settings
    finally:
        broker.stop(settings)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Callable[..., Settings]]:
    """Settings for a broker of the test's own; whatever it started is stopped afterwards."""
    made: list[Settings] = []

    def make(**overrides: object) -> Settings:
        settings = replace(broker_settings(tmp_path / f"broker{len(made)}"), **overrides)
        made.append(settings)
        return settings

    try:
        yield make
    finally:
        for settings in made:
            broker.stop(settings)


@pytest.fixture
def own_warehouse(tmp_path: Path):
    """A warehouse of the test's own: it lands into the real ods tables."""
    from dataclasses import replace

    from kafka_helpers import free_port

    from classpulse.config import load_settings
    from classpulse.warehouse import daemon

    settings = replace(
        load_settings({}),
        warehouse_path=tmp_path / "warehouse",
        warehouse_bind="127.0.0.1",
        clickhouse_host="127.0.0.1",
        clickhouse_port=free_port(),
        clickhouse_user="default",
        clickhouse_password="",
        clickhouse_secure=False,
    )
    daemon.start(settings)
    try:
        yield settings
    finally:
        daemon.stop(settings)
