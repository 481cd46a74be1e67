"""Continuous mode: one Flink job watches the topic directories and commits on checkpoints."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from flink_helpers import read_topic, settings_for
from flink_scenario import MOVE, timeline, write_scenario

from classpulse.flink.runner import RunOptions, RunResult, run_jobs
from classpulse.flink.session import FlinkSession


def wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


@pytest.mark.slow
def test_a_file_renamed_into_place_is_picked_up(
    flink_session: FlinkSession, tmp_path: Path
) -> None:
    topics = tmp_path / "topics"
    write_scenario(topics)
    stop = threading.Event()
    results: list[RunResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            options = RunOptions(
                topics_dir=topics, bounded=False, monitor_interval="500 ms", rollover_interval="2 s"
            )
            results.append(
                run_jobs(options, settings_for(tmp_path / "home", topics), flink_session, stop=stop)
            )
        except BaseException as error:  # surfaced below
            errors.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:

        def events() -> int:
            return len(read_topic(topics, "timeline_analysis_student"))

        assert wait_for(lambda: events() == 16, 180), (events(), errors)
        # a writer's in-progress file stays invisible until it is renamed into place
        hidden = topics / "timeline_client_topic" / ".20261120T010000Z.jsonl.inprogress"
        hidden.write_text("\n".join(timeline(f"09:0{k}:00", 5, 300, target=MOVE) for k in range(5)))
        time.sleep(3)
        assert events() == 16
        hidden.rename(topics / "timeline_client_topic" / "20261120T010000Z.jsonl")
        assert wait_for(lambda: events() == 21, 120), events()
    finally:
        stop.set()
        worker.join(timeout=180)
    assert not errors, errors
    assert results and len(results[0].waves) == 1  # one Flink job for every job file
