"""The settings of a benchmark's own stack: a warehouse server and a Kafka broker of its own,
on free loopback ports, so a benchmark never touches the developer's ``var/`` data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from classpulse.processes import free_port


def own_warehouse(path: Path) -> dict[str, Any]:
    """Settings changes: an embedded warehouse at ``path``, default user without a password."""
    return {
        "warehouse_path": path,
        "warehouse_bind": "127.0.0.1",
        "clickhouse_host": "127.0.0.1",
        "clickhouse_port": free_port(),
        "clickhouse_user": "default",
        "clickhouse_password": "",
        "clickhouse_secure": False,
    }


def own_broker(path: Path) -> dict[str, Any]:
    """Settings changes: a local Kafka broker with its data in ``path``."""
    return {
        "kafka_bootstrap_servers": f"127.0.0.1:{free_port()}",
        "kafka_controller_port": free_port(),
        "kafka_path": path,
    }
