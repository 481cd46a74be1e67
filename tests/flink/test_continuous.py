"""Continuous mode: one Flink job reads the Kafka topics as they grow and commits its outputs on
every checkpoint (exactly once: the outputs are read read_committed)."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from flink_helpers import produce_topics, read_outputs
from flink_scenario import MOVE, timeline, write_scenario
from kafka_helpers import truncate_topics

from classpulse.config import Settings
from classpulse.flink.pipeline import pipeline_topics
from classpulse.flink.runner import RunOptions, RunResult, run_jobs
from classpulse.flink.session import FlinkSession


def wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1.0)
    return False


@pytest.mark.slow
def test_messages_produced_while_the_job_runs_are_picked_up(
    flink_session: FlinkSession, flink_kafka: Settings, tmp_path: Path
) -> None:
    settings = replace(flink_kafka, home=tmp_path / "home")
    sources, middle, outputs = pipeline_topics(settings)
    truncate_topics(settings, [*sources, *middle, *outputs])
    topics = tmp_path / "topics"
    write_scenario(topics)
    produce_topics(settings, topics, sources)
    run_id = uuid.uuid4().hex[:8]
    stop = threading.Event()
    results: list[RunResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            options = RunOptions(
                bounded=False,
                checkpoint_interval="2 s",
                variables={
                    "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
                    "KAFKA_GROUP_ID": f"tests-continuous-{run_id}",
                    "KAFKA_TRANSACTIONAL_ID_PREFIX": f"tests-continuous-{run_id}",
                },
            )
            results.append(run_jobs(options, settings, flink_session, stop=stop))
        except BaseException as error:  # surfaced below
            errors.append(error)

    def events() -> int:
        return len(
            read_outputs(settings, ["timeline_analysis_student"])["timeline_analysis_student"]
        )

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        assert wait_for(lambda: events() == 16 or bool(errors), 300), (events(), errors)
        later = tmp_path / "later"
        (later / "timeline_client_topic").mkdir(parents=True)
        (later / "timeline_client_topic" / "20261120T010000Z.jsonl").write_text(
            "\n".join(timeline(f"09:0{k}:00", 5, 300, target=MOVE) for k in range(5)) + "\n"
        )
        assert produce_topics(settings, later, sources) == {"timeline_client_topic": 5}
        assert wait_for(lambda: events() == 21 or bool(errors), 300), (events(), errors)
    finally:
        stop.set()
        worker.join(timeout=300)
    assert not errors, errors
    assert results and len(results[0].stages) == 1  # one Flink job for every job file
    assert events() == 21  # stopped with a savepoint: nothing written twice
