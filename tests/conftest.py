"""Shared fixtures: a real embedded warehouse server and a real local Kafka broker (KRaft,
loopback, free ports), each started once for the whole test session when first asked for.

Tests that stop, kill or restart a broker start one of their own with ``own_broker``. Every
broker started here is stopped at the end (no stray java processes). Helpers for brokers and
topics live in ``kafka_helpers``, for warehouse servers in ``warehouse_helpers`` (imported by
name: ``from kafka_helpers import ...``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from kafka_helpers import broker_settings, kafka_environment, truncate_topics
from warehouse_helpers import running_warehouse, warehouse_settings

from classpulse.config import Settings
from classpulse.kafka import broker


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A running embedded warehouse server, shared by the session's tests."""
    settings = warehouse_settings(tmp_path_factory.mktemp("warehouse") / "data")
    with running_warehouse(settings):
        yield settings


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
