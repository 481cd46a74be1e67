"""Kafka test fixtures (the shared broker, ``kafka_broker`` and ``own_broker``, are in
tests/conftest.py for every package's tests)."""

from __future__ import annotations

from pathlib import Path

import pytest


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
