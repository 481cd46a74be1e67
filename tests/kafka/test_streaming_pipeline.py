"""The continuous Kafka pipeline (classpulse.flink.pipeline): crash and outage survive exactly.

A small generated day is split, per topic in arrival order, into three parts produced one after
the other. The same feed runs twice, each on a broker of its own (topic names are fixed):

* undisturbed: start, catch up after each part, stop with a savepoint;
* disturbed: stopped with a savepoint after the first part and started again (``classpulse
  flink stop`` + ``run --continuous``), killed with SIGKILL while it reads the second part and
  started again (it resumes from its last retained checkpoint with the same transactional ids),
  then the broker is restarted under the running job before the third part.

Both runs must end with exactly the same committed output: mart rows, rejected messages, late
events and accounting; and every produced message is accounted for (read = accepted + rejected).

What makes that hold (the marts' late rule is kept in state, see mart_classroom_performance_1min)
needs each source split in one partition of its clean topic, which the test checks. Idle-partition
detection is processing time by nature (contract A.2: "30 s of processing time"), so both runs
set it out of reach: the windows then fire on data alone.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from kafka_helpers import kafka_environment, read_records

from classpulse.config import Settings
from classpulse.flink import pipeline
from classpulse.generator import GeneratorOptions, generate
from classpulse.kafka import broker
from classpulse.kafka.produce import produce_directories

PARTS = 3
SETTLE_SECONDS = 6.0  # outputs unchanged this long (several checkpoints) after catching up
DEADLINE = 900.0

# idle partitions stop holding watermarks back after this much processing time: out of reach
IDLE_TIMEOUTS = ("CLASSPULSE_WATERMARK_IDLE_TIMEOUT", "CLASSPULSE_LABEL_WATERMARK_IDLE_TIMEOUT")
# the clean topics the late rule reads, with their split column
CLEAN_TOPICS = {
    "timeline_analysis_student": "sourceSplit",
    "agora_record_clean": "source_split",
    "qos_log_clean": "source_split",
}
# the generated day's topics and the five marts of DATA_CONTRACT.md (the live-classroom jobs have
# no input here: leaving them out saves planning a third of the operators on a loaded machine)
JOBS = (
    "clean_agora_record",
    "clean_channel_name_dictionary",
    "clean_data_pack_order_info",
    "clean_qos_log",
    "clean_timeline_client_topic",
    "clean_uc_account_student",
    "clean_uc_account_user",
    "mart_av_quality_30s",
    "mart_cc_daily_tracking",
    "mart_classroom_performance_1min",
    "mart_recorded_course_enter_time",
    "mart_registrations_hourly_by_level",
)

INSERT_ONLY = ("classroom_performance_1min", "av_quality_30s", "recorded_course_enter_time")


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The generated day's topic files split in PARTS directories, order kept per topic."""
    root = tmp_path_factory.mktemp("day")
    topics = root / "topics"
    generate(GeneratorOptions(start=date(2026, 11, 20), seed=11, scale=0.05), topics)
    directories = [root / f"part{number}" for number in range(PARTS)]
    for topic in sorted(path for path in topics.iterdir() if path.is_dir()):
        if topic.name.startswith("_"):
            continue
        lines = [
            line
            for path in sorted(topic.iterdir())
            if path.is_file() and not path.name.startswith((".", "_"))
            for line in path.read_bytes().splitlines()
        ]
        size = -(-len(lines) // PARTS)
        for number, directory in enumerate(directories):
            chunk = lines[number * size : (number + 1) * size]
            (directory / topic.name).mkdir(parents=True, exist_ok=True)
            (directory / topic.name / "part.jsonl").write_bytes(
                b"".join(line + b"\n" for line in chunk)
            )
    return directories


def produced(directories: list[Path]) -> Counter:
    counts: Counter = Counter()
    for directory in directories:
        for topic in directory.iterdir():
            counts[topic.name] += len((topic / "part.jsonl").read_bytes().splitlines())
    return counts


def rows(settings: Settings, topic: str) -> list[dict[str, Any]]:
    return [json.loads(record.value) for record in read_records(settings, topic)]


def without_time(row: dict[str, Any]) -> tuple:
    return tuple(sorted((k, json.dumps(v)) for k, v in row.items() if k != "processed_at"))


def latest(log: list[dict[str, Any]], key: tuple[str, ...], order: str) -> dict[tuple, tuple]:
    """The current row per key, a deleted key left out (how many updates led there, and whether
    a key came and went meanwhile, depends on how the inputs interleaved); an upsert log's
    version (a wall-clock number) is left out too."""
    current: dict[tuple, dict[str, Any]] = {}
    for row in log:
        identity = tuple(row[column] for column in key)
        if identity not in current or row[order] >= current[identity][order]:
            current[identity] = row
    return {
        identity: tuple(item for item in without_time(row) if item[0] != "version")
        for identity, row in current.items()
        if not row.get("is_deleted")
    }


def outputs(settings: Settings) -> dict[str, Any]:
    """What a read_committed reader sees, reduced to what must not depend on timing."""
    result: dict[str, Any] = {
        name: Counter(without_time(row) for row in rows(settings, name)) for name in INSERT_ONLY
    }
    result["rejected_messages"] = Counter(
        (row["topic"], row["source_split"], row["source_offset"], row["reason"])
        for row in rows(settings, "rejected_messages")
    )
    result["late_events"] = Counter(without_time(row) for row in rows(settings, "late_events"))
    result["registrations_hourly_by_level"] = latest(
        rows(settings, "registrations_hourly_by_level"), ("reg_hour", "level"), "version"
    )
    result["cc_daily_tracking"] = latest(
        rows(settings, "cc_daily_tracking"), ("cc_id", "type", "attribution_date"), "version"
    )
    result["topic_accounting"] = latest(
        rows(settings, "topic_accounting"),
        ("topic", "source_split", "first_offset"),
        "messages_read",
    )
    result["mart_accounting"] = mart_totals(rows(settings, "mart_accounting"))
    return result


def mart_totals(log: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Per mart, the counters of each run's newest row added up (a run's ``counting_since`` is a
    wall-clock time, so only the totals can be compared between runs)."""
    current: dict[tuple, dict[str, Any]] = {}
    for row in log:
        identity = (row["mart"], row["counting_since"])
        if identity not in current or row["events_in"] >= current[identity]["events_in"]:
            current[identity] = row
    totals: Counter = Counter()
    for row in current.values():
        for counter in ("events_in", "events_counted", "events_late"):
            totals[row["mart"], counter] += row[counter]
    return dict(totals)


def settled(settings: Settings) -> dict[str, Any]:
    """Wait until caught up and the committed outputs stop changing; return them."""
    pipeline.wait_caught_up(settings, timeout=DEADLINE)
    deadline = time.monotonic() + DEADLINE
    previous = outputs(settings)
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < SETTLE_SECONDS:
        assert time.monotonic() < deadline, "the pipeline's outputs never settled"
        time.sleep(1.0)
        current = outputs(settings)
        if current != previous:
            previous, stable_since = current, time.monotonic()
    return previous


def aim_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Name ``settings``' broker and pipeline home in the environment (the pipeline's processes
    and its stop read them)."""
    for key, value in kafka_environment(settings).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CLASSPULSE_HOME", str(settings.home))


@pytest.fixture
def streaming(
    own_broker: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], Settings]]:
    """A broker and a pipeline home of their own per name; the pipeline is stopped afterwards."""

    def stop(settings: Settings) -> None:
        aim_at(settings, monkeypatch)
        pipeline.stop(settings, timeout=60)

    with contextlib.ExitStack() as stops:

        def make(name: str) -> Settings:
            settings = own_broker(home=tmp_path / name / "home")
            aim_at(settings, monkeypatch)
            for variable in IDLE_TIMEOUTS:
                monkeypatch.setenv(variable, "1 h")
            broker.start(settings)
            stops.callback(stop, settings)
            pipeline.create_topics(settings)
            return settings

        yield make


def accounted(result: dict[str, Any], counts: Counter) -> None:
    """Every produced message read once: read = accepted + rejected, rejected = dead letters."""
    read: Counter = Counter()
    rejected: Counter = Counter()
    for row in result["topic_accounting"].values():
        values = {key: json.loads(value) for key, value in row}
        assert values["messages_read"] == values["accepted"] + values["rejected"], values
        read[values["topic"]] += values["messages_read"]
        rejected[values["topic"]] += values["rejected"]
    sources, _, _ = pipeline.pipeline_topics()
    assert {topic: read[topic] for topic in sources} == {topic: counts[topic] for topic in sources}
    letters = Counter(key[0] for key in result["rejected_messages"].elements())
    assert {t: letters[t] for t in sources} == {t: rejected[t] for t in sources}


def splits_in_one_partition(settings: Settings) -> None:
    """Each source split of a clean topic sits in one of its partitions (in order, then)."""
    for topic, column in CLEAN_TOPICS.items():
        partitions: dict[str, set[int]] = {}
        for record in read_records(settings, topic):
            split = json.loads(record.value)[column]
            partitions.setdefault(split, set()).add(record.partition)
        spread = {split: found for split, found in partitions.items() if len(found) > 1}
        assert partitions and not spread, f"{topic}: splits over several partitions: {spread}"


@pytest.mark.slow
@pytest.mark.timeout(2 * DEADLINE)  # four Flink start-ups: minutes each on a loaded machine
def test_a_killed_job_and_a_broker_restart_end_like_an_undisturbed_run(
    streaming: Callable[[str], Settings], parts: list[Path]
) -> None:
    counts = produced(parts)

    quiet = streaming("undisturbed")
    produce_directories(quiet, parts[0])
    pipeline.start(quiet, fresh=True, checkpoint_interval="1 s", jobs=JOBS, wait=DEADLINE)
    for part in parts[1:]:
        pipeline.wait_caught_up(quiet, timeout=DEADLINE)
        produce_directories(quiet, part)
    expected = settled(quiet)
    stopped = pipeline.stop(quiet)
    assert not stopped.running
    broker.stop(quiet)
    accounted(expected, counts)
    assert sum(expected["rejected_messages"].values()) > 0
    assert sum(expected["classroom_performance_1min"].values()) > 0

    noisy = streaming("disturbed")
    produce_directories(noisy, parts[0])
    first = pipeline.start(noisy, fresh=True, checkpoint_interval="1 s", jobs=JOBS, wait=DEADLINE)
    assert first.running and first.restored_from is None
    pipeline.wait_caught_up(noisy, timeout=DEADLINE)
    # classpulse flink stop (a savepoint) and run --continuous: resumes from the savepoint
    assert not pipeline.stop(noisy).running
    again = pipeline.start(noisy, checkpoint_interval="1 s", jobs=JOBS, wait=DEADLINE)
    assert again.running and again.restored_from and "savepoint" in again.restored_from
    assert again.run_id == first.run_id
    pipeline.wait_caught_up(noisy, timeout=DEADLINE)
    before = pipeline.lag(noisy)
    produce_directories(noisy, parts[1])
    # kill -9 once the job has checkpointed part of the second part (mid-stream)
    deadline = time.monotonic() + DEADLINE
    while True:
        now = pipeline.lag(noisy)
        moved = sum(t.committed for t in now.topics) > sum(t.committed for t in before.topics)
        if moved:
            break
        assert time.monotonic() < deadline, "the job never committed progress on the second part"
        time.sleep(0.2)
    killed = pipeline.kill(noisy)
    assert killed is not None and not pipeline.status(noisy).running
    resumed = pipeline.start(noisy, checkpoint_interval="1 s", jobs=JOBS, wait=DEADLINE)
    assert resumed.running and resumed.restored_from, "the restart did not resume a checkpoint"
    assert resumed.run_id == first.run_id, "a resumed job must keep its transactional ids"
    pipeline.wait_caught_up(noisy, timeout=DEADLINE)

    broker.stop(noisy)
    broker.start(noisy)
    produce_directories(noisy, parts[2])
    got = settled(noisy)
    assert pipeline.status(noisy).running, "the job did not survive the broker restart"

    splits_in_one_partition(noisy)
    differ = sorted(name for name in expected if got[name] != expected[name])
    assert not differ, f"differ after kill -9 and broker restart: {differ}"
