"""Room presence and message loss on the real-time path (issue 12), side by side in one run.

On a broker of the benchmark's own (stopped at the end), one generated day with one large room
(``60000 * scale`` users, the seed's 60k online in one course) is produced once; each round then
runs the room jobs bounded (cleaning, then presence + concurrency and loss, exactly once) and
measures:

- ``throughput``: source messages (heartbeats and push reports) per second of the jobs' own
  running time (engine start excluded), cleaning and marts waves summed; the goal is the rate of
  the 60k room in real time, ≈36k msg/s (6k beats/s at H = 10 s plus acks every 2 s), measured
  on a smaller room (the rate, not the day's volume, is the goal);

The jobs' run (``run_room_jobs``) is :mod:`classpulse.bench.realtime_rooms`'s, the home of
the room figures ``classpulse bench realtime`` reports side by side: messages/s on a synthetic
60k-user room, minute rows queryable after the closing watermark and the state per online user
(from checkpoints under a paced load, where the users online are known); this command only
measures the rate on the generated day's mix (several terminals, leaves, time-outs, gaps). Medians of ``repeats`` rounds.
"""

from __future__ import annotations

import statistics
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from classpulse.bench.realtime_rooms import run_room_jobs
from classpulse.bench.stack import own_broker
from classpulse.config import Settings, load_settings

if TYPE_CHECKING:
    from classpulse.rooms.generator import RoomsOptions


@dataclass(frozen=True)
class RoomsBenchOptions:
    # 0.05 = one 3k-user room (~1.6M messages): the goal is a rate; the day is generated and
    # produced in bounded chunks (classpulse.rooms.streamed), so a larger scale costs time and
    # scratch disk, not memory
    scale: float = 0.05
    repeats: int = 3
    parallelism: int = 2
    partitions: int = 2
    ack_interval_ms: int = 10_000


@dataclass
class RoomsBenchReport:
    options: RoomsBenchOptions
    messages: int
    seconds: list[float] = field(default_factory=list)

    @property
    def messages_per_second(self) -> float:
        return self.messages / statistics.median(self.seconds) if self.seconds else 0.0


def produce_day(settings: Settings, day: RoomsOptions, scratch: Path) -> int:
    """The generated day's lines into their topics, streamed (memory stays flat whatever the
    scale; the records wait on disk under ``scratch``); how many messages."""
    from classpulse.kafka.produce import TopicProducer, message_key
    from classpulse.rooms.streamed import stream_rooms_lines

    scratch.mkdir(parents=True, exist_ok=True)
    producer = TopicProducer(settings)
    count = 0
    for topic, line in stream_rooms_lines(day, scratch):
        value = line.encode()
        producer.send(topic, value, message_key(topic, value))
        count += 1
    producer.flush()
    return count


def run_rooms_benchmark(
    options: RoomsBenchOptions, log: Callable[[str], None] = lambda _: None
) -> RoomsBenchReport:
    from classpulse.flink import pipeline
    from classpulse.flink.session import FlinkSession, SessionOptions
    from classpulse.kafka import broker
    from classpulse.kafka.admin import create_topics
    from classpulse.rooms.generator import ROOM_TOPICS, RoomsOptions

    with tempfile.TemporaryDirectory(prefix="classpulse-bench-rooms-") as scratch:
        settings: Settings = replace(
            load_settings(),
            home=Path(scratch) / "home",
            **own_broker(Path(scratch) / "kafka"),
            kafka_heap="512m",
            kafka_partitions=options.partitions,
        )
        day_options = RoomsOptions(
            start=date(2026, 12, 1),
            scale=options.scale,
            rooms=0,
            ack_interval_ms=options.ack_interval_ms,
            late_share=0.0,
        )
        report = RoomsBenchReport(options, messages=0)
        broker.start(settings)
        try:
            log("generating and producing the day, chunk by chunk")
            pipeline.create_topics(settings)
            create_topics(settings, list(ROOM_TOPICS))
            report.messages = produce_day(settings, day_options, Path(scratch) / "runs")
            log(f"produced {report.messages} messages")
            session = FlinkSession(
                SessionOptions(parallelism=options.parallelism, jars=pipeline.kafka_jars())
            )
            for round_number in range(options.repeats):
                log(f"round {round_number + 1}/{options.repeats}")
                seconds, _, _ = run_room_jobs(
                    settings,
                    session,
                    f"{round_number}-{uuid.uuid4().hex[:6]}",
                    options.parallelism,
                    {},
                )
                report.seconds.append(seconds)
        finally:
            broker.stop(settings)
    return report


def print_rooms_benchmark(report: RoomsBenchReport, console: object) -> None:
    from rich.table import Table

    table = Table(title=f"rooms, scale {report.options.scale} ({report.messages} messages)")
    for column in ("measure", "median", "goal"):
        table.add_column(column)
    table.add_row(
        "presence + loss jobs, messages/s",
        f"{report.messages_per_second:,.0f}",
        "≥ 36,000 (one 60k-user room in real time)",
    )
    for figure, goal in (
        ("presence state per online user", "≤ 100 bytes (seed ≈ 40)"),
        ("minute rows queryable after the watermark", "≤ 10 s"),
    ):
        table.add_row(figure, "see classpulse bench realtime", goal)
    console.print(table)  # type: ignore[attr-defined]
