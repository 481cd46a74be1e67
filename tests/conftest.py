"""Shared fixtures: a real embedded warehouse server and a real local Kafka broker (KRaft,
loopback, free ports), each started once for the whole test session when first asked for.

Tests that stop, kill or restart a broker start one of their own with ``own_broker``. Every
broker started here is stopped at the end (no stray java processes). Helpers for brokers and
topics live in ``kafka_helpers`` (imported by name: ``from kafka_helpers import ...``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from kafka_helpers import broker_settings, kafka_environment, truncate_topics

from classpulse.config import Settings, load_settings
from classpulse.kafka import broker
from classpulse.warehouse import daemon

ANALYST_PASSWORD = "analyst-test-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def settings_environment(settings: Settings) -> dict[str, str]:
    """The CLASSPULSE_* variables that make subprocesses (server, dbt, CLI) use ``settings``."""
    return {
        "CLASSPULSE_WAREHOUSE_PATH": str(settings.warehouse_path),
        "CLASSPULSE_WAREHOUSE_BIND": settings.warehouse_bind,
        "CLASSPULSE_CLICKHOUSE_HOST": settings.clickhouse_host,
        "CLASSPULSE_CLICKHOUSE_PORT": str(settings.clickhouse_port),
        "CLASSPULSE_CLICKHOUSE_USER": settings.clickhouse_user,
        "CLASSPULSE_CLICKHOUSE_PASSWORD": settings.clickhouse_password,
        "CLASSPULSE_CLICKHOUSE_SECURE": "false",
        "CLASSPULSE_ANALYST_PASSWORD": settings.analyst_password,
    }


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A running embedded warehouse server, shared by the session's tests."""
    settings = warehouse_settings(tmp_path_factory.mktemp("warehouse") / "data")
    mp = pytest.MonkeyPatch()
    for name, value in settings_environment(settings).items():
        mp.setenv(name, value)
    daemon.start(settings)
    try:
        yield settings
    finally:
        daemon.stop(settings)
        mp.undo()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A running local broker shared by the session's Kafka tests."""
    settings = broker_settings(tmp_path_factory.mktemp("kafka") / "broker")
    mp = pytest.MonkeyPatch()
    for name, value in kafka_environment(settings).items():
        mp.setenv(name, value)  # CLIs, dbt and DAG tasks run by tests reach this broker
    broker.start(settings)
    try:
        yield settings
    finally:
        broker.stop(settings)
        mp.undo()


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
def empty_kafka(kafka_broker: Settings) -> Settings:
    """The session's broker with every topic emptied (records deleted up to their end), so a
    test that runs the pipeline sees only what it produces itself."""
    truncate_topics(kafka_broker)
    return kafka_broker
