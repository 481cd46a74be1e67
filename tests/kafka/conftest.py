"""Kafka fixtures: one real local broker (KRaft, loopback, free ports) for the whole session.

Tests that stop, kill or restart a broker start one of their own with ``own_broker``.
Every broker started here is stopped at the end (no stray java processes).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from classpulse.config import Settings, load_settings
from classpulse.kafka import broker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def broker_settings(path: Path, partitions: int = 2) -> Settings:
    """Settings of a broker of the tests' own (never the user's var/kafka or port 9092)."""
    return replace(
        load_settings({}),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        kafka_path=path,
        kafka_heap="384m",
        kafka_partitions=partitions,
    )


def kafka_environment(settings: Settings) -> dict[str, str]:
    """The CLASSPULSE_KAFKA_* variables that make a subprocess (the CLI) use ``settings``."""
    return {
        "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "CLASSPULSE_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "CLASSPULSE_KAFKA_PATH": str(settings.kafka_path),
        "CLASSPULSE_KAFKA_HEAP": settings.kafka_heap,
        "CLASSPULSE_KAFKA_PARTITIONS": str(settings.kafka_partitions),
    }


def cli_environment(settings: Settings) -> dict[str, str]:
    return {**os.environ, **kafka_environment(settings)}


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
