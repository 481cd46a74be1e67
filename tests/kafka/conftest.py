"""Kafka test fixtures (the shared broker, ``kafka_broker`` and ``own_broker``, are in
tests/conftest.py for every package's tests)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def own_warehouse(tmp_path: Path):
    """A warehouse of the test's own: it lands into the real ods tables."""

    from warehouse_helpers import warehouse_settings

    from classpulse.warehouse import daemon

    settings = warehouse_settings(tmp_path / "warehouse")
    daemon.start(settings)
    try:
        yield settings
    finally:
        daemon.stop(settings)
