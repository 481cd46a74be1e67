"""Flink test fixtures: one PyFlink session (one JVM, ~5 s to start) for the whole test run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from classpulse.flink.session import FlinkSession, SessionOptions


@pytest.fixture(scope="session")
def flink_session() -> Iterator[FlinkSession]:
    yield FlinkSession(SessionOptions(parallelism=2))
