"""A real-time benchmark run's options and its own stack: broker, warehouse, topics, tables."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from classpulse.bench.stack import own_broker, own_warehouse
from classpulse.config import Settings, load_settings, warehouse_environment

Result = TypeVar("Result")

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
    return replace(
        load_settings(),
        home=scratch / "home",
        **own_broker(scratch / "kafka"),
        kafka_heap="512m",
        kafka_partitions=options.partitions,
        **own_warehouse(scratch / "warehouse"),
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


def fresh_paced_run(settings: Settings) -> str:
    """Before a paced measurement: every topic of the pipeline and every landing table empty
    (only the paced messages count); returns the run's tag for its groups and ids."""
    from classpulse.flink import pipeline

    sources, middle, outputs = pipeline.pipeline_topics(settings)
    recreate_topics(settings, [*sources, *middle, *outputs])
    fresh_landing_tables(settings)
    return uuid.uuid4().hex[:8]


def start_paced_pipeline(
    settings: Settings,
    group: str,
    parallelism: int,
    checkpoint_interval: str,
    variables: Mapping[str, str],
    jobs: Sequence[str] = (),
) -> Any:
    """The continuous pipeline (``jobs``, default all), started fresh under consumer group
    ``group`` for a paced measurement; returns its status once RUNNING."""
    from classpulse.flink import pipeline

    return pipeline.start(
        settings,
        fresh=True,
        group=group,
        parallelism=parallelism,
        checkpoint_interval=checkpoint_interval,
        variables={**variables, "KAFKA_GROUP_ID": group},
        wait=900,  # a busy machine deploys a job of ~200 tasks slowly
        jobs=jobs,
    )


def again_after_planner_race(
    run: Callable[[str], Result], tag: str, restart: Callable[[], None], log: Callable[[str], None]
) -> tuple[Result, str]:
    """``run(tag)`` and the tag it ran under: once more as ``<tag>-again`` after ``restart()``
    when it failed so.

    Seen on a very busy machine: the Flink planner's thread-local metadata provider (Calcite)
    missing when py4j served a call on another Java thread. The round is run again from
    scratch (``restart`` recreates its topics; the new tag gives new groups and ids)."""
    try:
        return run(tag), tag
    except Exception as exc:
        if "metadataHandlerProvider" not in str(exc):
            raise
        log("the Flink planner failed (metadataHandlerProvider); again")
        restart()
        return run(f"{tag}-again"), f"{tag}-again"
