"""A real-time benchmark run's options and its own stack: broker, warehouse, topics, tables."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from classpulse.config import Settings, load_settings, warehouse_environment

# the generator's volume per unit of scale (scale 8 gives ~1.1M messages)
MESSAGES_PER_SCALE = 137_500


@dataclass(frozen=True)
class RealtimeOptions:
    messages: int = 1_100_000
    repeats: int = 3
    parallelism: int = 2
    partitions: int = 2
    rate: float = 2000.0  # paced messages per second (freshness)
    pace_seconds: float = 120.0  # ~3 windows closed and measured
    # Freshness only: the paced events carry their send time, so they arrive in order and a
    # short watermark delay loses none; the throughput rounds keep the jobs' own defaults.
    watermark_delay_seconds: int = 2
    checkpoint_interval: str = "1 s"  # freshness: how often the transactions commit
    topics_dir: Path | None = None
    output: Path | None = None  # the JSON result (default: <home>/bench/realtime-<time>.json)
    quick: bool = False
    rooms: bool = True  # the room jobs' figures (classpulse.bench.realtime_rooms)
    # knobs to compare (part of the result file): ${VAR}s of the SQL files (e.g.
    # KAFKA_PRODUCER_LINGER_MS) and Flink options ("key: value" lines, CLASSPULSE_FLINK_PROPERTIES)
    variables: tuple[tuple[str, str], ...] = ()
    flink_properties: tuple[tuple[str, str], ...] = ()

    @property
    def scale(self) -> float:
        return max(0.01, round(self.messages / MESSAGES_PER_SCALE, 2))

    @classmethod
    def quick_options(cls, **changes: Any) -> RealtimeOptions:
        """A smoke run: a tiny day, one round, a short paced load (40 s: one window closes)."""
        return replace(
            cls(messages=4000, repeats=1, rate=100.0, pace_seconds=40.0, quick=True), **changes
        )


def bench_settings(scratch: Path, options: RealtimeOptions) -> Settings:
    from classpulse.flink.session import free_port

    return replace(
        load_settings(),
        home=scratch / "home",
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        kafka_path=scratch / "kafka",
        kafka_heap="512m",
        kafka_partitions=options.partitions,
        warehouse_path=scratch / "warehouse",
        warehouse_bind="127.0.0.1",
        clickhouse_host="127.0.0.1",
        clickhouse_port=free_port(),
        clickhouse_user="default",
        clickhouse_password="",
        clickhouse_secure=False,
    )


def environment_of(settings: Settings) -> dict[str, str]:
    """The CLASSPULSE_* variables that make a child process (the pipeline's) use ``settings``."""
    return {
        "CLASSPULSE_HOME": str(settings.home),
        "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "CLASSPULSE_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "CLASSPULSE_KAFKA_PATH": str(settings.kafka_path),
        "CLASSPULSE_KAFKA_HEAP": settings.kafka_heap,
        "CLASSPULSE_KAFKA_PARTITIONS": str(settings.kafka_partitions),
        **warehouse_environment(settings),
    }


@contextlib.contextmanager
def bench_environment(settings: Settings, options: RealtimeOptions) -> Iterator[None]:
    """This process's environment points at the benchmark's stack while it runs (the
    continuous pipeline is a child process reading its settings from there); restored after."""
    from classpulse.flink.pipeline import JOBMANAGER_VARIABLE
    from classpulse.flink.runner import PROPERTIES_VARIABLE

    changes: dict[str, str | None] = {**environment_of(settings), JOBMANAGER_VARIABLE: None}
    if options.flink_properties:
        changes[PROPERTIES_VARIABLE] = "\n".join(
            f"{key}: {value}" for key, value in options.flink_properties
        )
    saved = {name: os.environ.get(name) for name in changes}
    try:
        _set_environment(changes)
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: dict[str, str | None]) -> None:
    """Set each variable to its value; a None value unsets it."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def recreate_topics(settings: Settings, names: list[str]) -> None:
    """Delete ``names`` and create them again, empty (retried while a deletion completes)."""
    from classpulse.kafka.admin import admin_client, create_topics, topic_names

    existing = set(topic_names(settings))
    doomed = [name for name in names if name in existing]
    if doomed:
        admin = admin_client(settings)  # held until the futures resolve
        for future in admin.delete_topics(doomed).values():
            future.result(60)
    deadline = time.monotonic() + 60
    while True:
        try:
            create_topics(settings, names)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def fresh_landing_tables(settings: Settings) -> None:
    """Drop every landing table: the next landing creates them empty."""
    from classpulse.loader import read_landing_tables
    from classpulse.warehouse import get_client

    client = get_client(settings)
    for table in read_landing_tables(settings.root):
        client.command(f"DROP TABLE IF EXISTS {table.table} SYNC")
