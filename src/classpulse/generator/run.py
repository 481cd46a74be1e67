"""The run: simulate hour by hour, write every topic, then the manifest and expected marts."""

from __future__ import annotations

import gc
import json
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from classpulse.generator.accounts import SnapshotBuilder, build_snapshots
from classpulse.generator.arrange import Chunk
from classpulse.generator.contract import (
    AGORA,
    CHANNEL,
    EXPECTED_DIR,
    HOUR_MS,
    MANIFEST_NAME,
    ORDER,
    QOS,
    STUDENT,
    TIMELINE,
    USER,
)
from classpulse.generator.expected import (
    build_manifest,
    compute_expected,
    compute_recorded_rows,
    write_expected,
)
from classpulse.generator.handlers import AgoraTopic, QosTopic, SnapshotTopic, TimelineTopic
from classpulse.generator.options import (
    BusinessClock,
    GeneratorError,
    GeneratorOptions,
    derive_random,
)
from classpulse.generator.output import BatchOutput, FileIndex, ReplayOutput
from classpulse.generator.records import QosRecord
from classpulse.generator.world import (
    Lesson,
    QosBuilder,
    World,
    build_qos_records,
    build_world,
    simulate_lesson_agora,
    simulate_lesson_timeline,
)
from classpulse.topics import (
    TOPICS,
    TopicDirectoryWriter,
    TopicSink,
    list_complete_files,
    write_file_atomically,
)


@dataclass
class GenerationResult:
    manifest: dict[str, Any]
    messages: int
    seconds: float

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


ProgressCallback = Callable[[int, int, int], None]


def prepare_output(out: Path, clean: bool, writes_topics: bool) -> None:
    """Refuse to mix runs: earlier generator output is removed only with ``clean``."""
    leftovers = [topic for topic in TOPICS if list_complete_files(out, topic)]
    if leftovers and writes_topics and not clean:
        raise GeneratorError(
            f"{out} already holds topic files ({', '.join(leftovers)}); use --clean to replace them"
        )
    if clean:
        for topic in TOPICS:
            shutil.rmtree(out / topic, ignore_errors=True)
        shutil.rmtree(out / EXPECTED_DIR, ignore_errors=True)
        (out / MANIFEST_NAME).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def generate(
    options: GeneratorOptions,
    out: Path,
    *,
    sink: TopicSink | None = None,
    rate: float | None = None,
    clean: bool = False,
    on_progress: ProgressCallback | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> GenerationResult:
    """Simulate the day, write the topics to ``sink`` (default: files under ``out``) and the
    manifest and expected marts under ``out``."""
    options.validate()
    began = time.perf_counter()
    out = Path(out)
    prepare_output(out, clean, writes_topics=sink is None)
    target: TopicSink = sink if sink is not None else TopicDirectoryWriter(out)
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived tuples: the cyclic collector only costs time here
    try:
        handlers, files, messages = write_topics(options, target, rate, on_progress, sleep)
    finally:
        target.close()
        if collecting:
            gc.enable()
    to_files = isinstance(target, TopicDirectoryWriter)
    if not to_files:
        files = FileIndex()  # Kafka: offsets only, no files or lines
    for topic, starts in files.starts.items():
        handlers[topic].stats.files = len(starts)
    expected = compute_expected(handlers)
    manifest = build_manifest(options, handlers, expected, rate)
    manifest["sink"] = "files" if to_files else "kafka"
    write_expected(out, handlers, expected, files)
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    write_file_atomically(out, MANIFEST_NAME, text.encode("utf-8"))
    return GenerationResult(manifest, messages, time.perf_counter() - began)


def write_topics(
    options: GeneratorOptions,
    target: TopicSink,
    rate: float | None,
    on_progress: ProgressCallback | None,
    sleep: Callable[[float], None],
) -> tuple[dict[str, Any], FileIndex, int]:
    """Simulate hour by hour (lessons stream in as their hour comes) and write each chunk."""
    clock = BusinessClock(options.start, options.timezone)
    world = build_world(options, clock)
    snapshots = build_snapshots(options, clock, world)
    qos = build_qos_records(options, clock, world)
    rows = compute_recorded_rows(qos.records, options.lookback_seconds * 1000)
    handlers = build_handlers(options, clock, rows)
    handlers[QOS].repeat_sessions = qos.repeat_sessions
    buckets = bucket_static_records(snapshots, qos)
    hours = sorted(
        {hour for per_topic in buckets.values() for hour in per_topic} | lesson_hours(world)
    )
    files = FileIndex()
    output: BatchOutput | ReplayOutput = (
        ReplayOutput(target, files, rate, sleep=sleep) if rate else BatchOutput(target, files)
    )
    offsets = dict.fromkeys(TOPICS, 0)
    lessons = iter(world.lessons)
    next_lesson = next(lessons, None)
    for done, hour in enumerate(hours, start=1):
        while next_lesson is not None and next_lesson.start_ms < (hour + 1) * HOUR_MS:
            simulate_lesson(options, next_lesson, buckets)
            next_lesson = next(lessons, None)
        chunks: dict[str, tuple[int, Chunk]] = {}
        for topic in TOPICS:
            chunk = handlers[topic].arrange(buckets[topic].pop(hour, []))
            handlers[topic].accept_chunk(chunk, offsets[topic])
            chunks[topic] = (offsets[topic], chunk)
            offsets[topic] += len(chunk.lines)
        output.write_hour(hour, chunks)
        if on_progress is not None:
            on_progress(done, len(hours), sum(offsets.values()))
    output.finish()
    return handlers, files, sum(offsets.values())


def build_handlers(
    options: GeneratorOptions, clock: BusinessClock, rows: dict[int, tuple[QosRecord, QosRecord]]
) -> dict[str, Any]:
    return {
        TIMELINE: TimelineTopic(options, clock),
        AGORA: AgoraTopic(options, clock),
        QOS: QosTopic(options, clock, rows),
        STUDENT: SnapshotTopic(options, clock, STUDENT),
        USER: SnapshotTopic(options, clock, USER),
        CHANNEL: SnapshotTopic(options, clock, CHANNEL),
        ORDER: SnapshotTopic(options, clock, ORDER),
    }


def bucket_static_records(
    snapshots: SnapshotBuilder, qos: QosBuilder
) -> dict[str, dict[int, list[Any]]]:
    buckets: dict[str, dict[int, list[Any]]] = {topic: defaultdict(list) for topic in TOPICS}
    for record in qos.records:
        buckets[QOS][record.event_ms // HOUR_MS].append(record)
    for topic, records in snapshots.records.items():
        for snapshot in records:
            buckets[topic][snapshot.arrival_ms // HOUR_MS].append(snapshot)
    return buckets


def lesson_hours(world: World) -> set[int]:
    hours: set[int] = set()
    for lesson in world.lessons:
        hours.update(range(lesson.start_ms // HOUR_MS, (lesson.end_ms + 2_000) // HOUR_MS + 1))
    return hours


def simulate_lesson(
    options: GeneratorOptions, lesson: Lesson, buckets: dict[str, dict[int, list[Any]]]
) -> None:
    timeline = buckets[TIMELINE]
    rng = derive_random(options.seed, "timeline", lesson.number)
    for record in simulate_lesson_timeline(lesson, rng):
        timeline[record.create_ms // HOUR_MS].append(record)
    agora = buckets[AGORA]
    rng = derive_random(options.seed, "agora", lesson.number)
    for agora_record in simulate_lesson_agora(lesson, rng):
        agora[agora_record.arrival_ms // HOUR_MS].append(agora_record)


# ---------------------------------------------------------------------------------------
# Manifest and expected marts
def default_start(timezone: str) -> date:
    """Today in the business time zone."""
    return datetime.now(ZoneInfo(timezone)).date()
