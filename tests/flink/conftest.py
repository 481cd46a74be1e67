"""Flink test fixtures: one PyFlink session (one JVM, ~5 s to start) for the whole test run, with
the Kafka connector on its class path, and a broker of the Flink tests' own.

The broker's topics have one partition each. A bounded run reads every topic to its end as fast
as it can; with several partitions the watermark is the minimum over partitions whose reading
progress races, so which event is late would depend on scheduling. With one partition the order
of a topic is the order its messages were produced in, and the hand-computed late events of the
tests are exact (the streaming tests in tests/kafka run the pipeline on several partitions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flink_helpers import FlinkRun, RunOverTopics, run_all
from kafka_helpers import broker_settings

from classpulse.config import Settings
from classpulse.flink.pipeline import create_topics, kafka_jars
from classpulse.flink.session import FlinkSession, SessionOptions
from classpulse.kafka import broker


@pytest.fixture(scope="session")
def flink_session() -> Iterator[FlinkSession]:
    yield FlinkSession(SessionOptions(parallelism=2, jars=kafka_jars()))


@pytest.fixture(scope="session")
def flink_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A running broker with every pipeline topic created (one partition each)."""
    settings = broker_settings(tmp_path_factory.mktemp("flink-kafka") / "broker", partitions=1)
    broker.start(settings)
    try:
        create_topics(settings)
        yield settings
    finally:
        broker.stop(settings)


@pytest.fixture(scope="session")
def run_over_topics(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path_factory: pytest.TempPathFactory
) -> RunOverTopics:
    """``run(name, write, jobs=())``: in a fresh directory named for ``name``, ``write(topics)``
    writes the topic files, then ``jobs`` (default all) run bounded over them
    (:func:`flink_helpers.run_all`); returns the run and what ``write`` returned."""

    def run(
        name: str, write: Callable[[Path], Any], jobs: tuple[str, ...] = ()
    ) -> tuple[FlinkRun, Any]:
        base = tmp_path_factory.mktemp(name)
        written = write(base / "topics")
        return run_all(flink_session, flink_kafka, base / "home", base / "topics", jobs), written

    return run
