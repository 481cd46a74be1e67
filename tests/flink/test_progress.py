"""A run's progress, read from the mini-cluster's REST metrics only while something needs it: a
shown run's display moves while its job runs and its stage reports every message read; a silent
run reads the count once, at the end (by then the per-job mini-cluster has usually gone: its
stage reports no count); the end-of-input rule triggers once the count stands still.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flink_helpers import produce_topics
from kafka_helpers import truncate_topics
from qos_lines import MINUTE, TEN, qos
from rich.console import Console

from classpulse.config import Settings
from classpulse.flink import progress, runner
from classpulse.flink.pipeline import pipeline_topics, run_bounded
from classpulse.flink.progress import RunDisplay, SourceRecords
from classpulse.flink.session import FlinkSession

JOBS = ("clean_qos_log",)


class RecordingDisplay(RunDisplay):
    """The real display, remembering the counts the runner showed while a job ran."""

    made: list[RecordingDisplay] = []

    def __init__(self, console: Console | None) -> None:
        super().__init__(console)
        self.shown_while_running: list[int] = []
        self.finished: list[int] = []
        RecordingDisplay.made.append(self)

    def update(self, completed: int, seconds: float) -> None:
        if len(self.finished) == 0:
            self.shown_while_running.append(completed)
        super().update(completed, seconds)

    def finish_wave(self, completed: int, seconds: float) -> None:
        self.finished.append(completed)  # before its own call of update: not "while running"
        super().finish_wave(completed, seconds)


class CountingSources(SourceRecords):
    """The real REST reader, counting its reads."""

    made: list[CountingSources] = []

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.reads = 0
        CountingSources.made.append(self)

    def read(self) -> dict[str, int] | None:
        self.reads += 1
        return super().read()


@pytest.fixture
def qos_produced(flink_kafka: Settings, tmp_path: Path) -> tuple[Settings, int]:
    """Valid and malformed qos_log lines in emptied topics: the settings of a run of the test's
    own, and the messages Kafka acknowledged."""
    settings = replace(flink_kafka, home=tmp_path / "home")
    directory = tmp_path / "topics"
    sources, middle, outputs = pipeline_topics(settings)
    truncate_topics(settings, [*sources, *middle, *outputs])
    lines = [qos(user, "PPT_START", TEN + user * MINUTE) for user in range(1, 41)]
    lines += ['{"user_type": "student", "sub_event": ', json.dumps([1, 2])]
    (directory / "qos_log").mkdir(parents=True)
    (directory / "qos_log" / "20261120T020000Z.jsonl").write_text(
        "".join(line + "\n" for line in lines), encoding="utf-8"
    )
    return settings, produce_topics(settings, directory, ["qos_log"])["qos_log"]


@pytest.mark.slow
def test_a_shown_run_moves_its_display_to_every_message_read(
    flink_session: FlinkSession, qos_produced: tuple[Settings, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a continuous job: it runs until stopped, so the display is seen reaching the whole input
    settings, produced = qos_produced
    monkeypatch.setattr(runner, "RunDisplay", RecordingDisplay)
    name = f"tests-progress-{uuid.uuid4().hex[:8]}"
    options = runner.RunOptions(
        bounded=False,
        jobs=JOBS,
        checkpoint_interval="2 s",
        variables={
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "KAFKA_GROUP_ID": name,
            "KAFKA_TRANSACTIONAL_ID_PREFIX": name,
        },
    )
    stop = threading.Event()
    results: list[runner.RunResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            console = Console(file=io.StringIO(), width=120)
            results.append(runner.run_jobs(options, settings, flink_session, console, stop=stop))
        except BaseException as error:  # surfaced below
            errors.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not errors:
            shown = [d.shown_while_running for d in RecordingDisplay.made[-1:]]
            if shown and shown[0] and shown[0][-1] >= produced:
                break
            time.sleep(1.0)
    finally:
        stop.set()
        worker.join(timeout=300)
    assert not errors, errors
    display = RecordingDisplay.made[-1]
    assert display.shown_while_running, "the display never moved while the job ran"
    assert display.shown_while_running == sorted(display.shown_while_running)
    assert display.shown_while_running[-1] == produced
    assert [stage.messages_in for stage in results[0].stages] == [produced] == display.finished


@pytest.mark.slow
def test_a_silent_run_reads_its_count_once_at_the_end(
    flink_session: FlinkSession, qos_produced: tuple[Settings, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "SourceRecords", CountingSources)  # JobMetrics reads with it
    result = run_bounded(qos_produced[0], jobs=JOBS, session=flink_session)

    assert len(result.stages) == 1
    assert [sources.reads for sources in CountingSources.made] == [1]


class RecordedTriggers(runner.EndOfInput):
    """The end-of-input rule, its checkpoint requests recorded instead of sent."""

    def _trigger_checkpoint(self) -> None:
        self.triggered += 1


def test_end_of_input_triggers_once_the_count_stands_still_and_again_while_it_does() -> None:
    rule = RecordedTriggers("127.0.0.1", 1, "job", quiet=0.2)
    rule.observe(0)
    time.sleep(0.25)
    rule.observe(0)  # nothing read yet: no end of input
    rule.observe(5)
    rule.observe(9)
    assert rule.triggered == 0
    time.sleep(0.25)
    rule.observe(9)
    assert rule.triggered == 1
    rule.observe(9)  # within ``quiet`` of the last trigger
    assert rule.triggered == 1
    time.sleep(0.25)
    rule.observe(9)
    assert rule.triggered == 2
