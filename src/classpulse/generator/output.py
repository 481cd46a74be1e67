"""Output of the chunks: one file per topic per hour, or a paced replay."""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from classpulse.generator.arrange import Chunk
from classpulse.topics import (
    TOPICS,
    TopicSink,
)


def hour_file_name(hour: int) -> str:
    return datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y%m%dT%H0000Z") + ".jsonl"


def tick_file_name(emit_key: int, tick: int) -> str:
    moment = datetime.fromtimestamp(emit_key // 1000, UTC).strftime("%Y%m%dT%H%M%S")
    return f"{moment}{emit_key % 1000:03d}Z-{tick:08d}.jsonl"


@dataclass
class FileIndex:
    """Start offsets of the files of each topic, to name a message's file and line."""

    starts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    names: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def record(self, topic: str, start_offset: int, name: str) -> None:
        self.starts[topic].append(start_offset)
        self.names[topic].append(name)

    def locate(self, topic: str, offset: int) -> tuple[str | None, int | None]:
        starts = self.starts.get(topic)
        if not starts:
            return None, None
        position = bisect.bisect_right(starts, offset) - 1
        return self.names[topic][position], offset - starts[position] + 1


class BatchOutput:
    """One file (or Kafka batch) per topic per hour."""

    def __init__(self, sink: TopicSink, files: FileIndex) -> None:
        self.sink = sink
        self.files = files

    def write_hour(self, hour: int, chunks: dict[str, tuple[int, Chunk]]) -> None:
        name = hour_file_name(hour)
        for topic, (start_offset, chunk) in chunks.items():
            if chunk.lines:
                self.sink.write_chunk(topic, name, chunk.lines)
                self.files.record(topic, start_offset, name)

    def finish(self) -> None:
        return None


class ReplayOutput:
    """``--rate``: every second, the next ``rate`` messages (all topics, arrival order)."""

    def __init__(
        self,
        sink: TopicSink,
        files: FileIndex,
        rate: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink = sink
        self.files = files
        self.per_tick = max(1, int(rate))
        self.sleep = sleep
        self.clock = clock
        self.tick = 0
        self.started = clock()
        self.pending: list[tuple[int, int, int, str]] = []  # (emit key, topic, offset, line)

    def write_hour(self, hour: int, chunks: dict[str, tuple[int, Chunk]]) -> None:
        merged: list[tuple[int, int, int, str]] = []
        for topic_index, topic in enumerate(TOPICS):
            if topic in chunks:
                start_offset, chunk = chunks[topic]
                merged.extend(
                    (key, topic_index, start_offset + position, line)
                    for position, (key, line) in enumerate(
                        zip(chunk.emit_keys, chunk.lines, strict=True)
                    )
                )
        merged.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
        # A tick ends only between different emit keys: a late event and the rejected copies
        # share the emit key of the line they follow, so they stay in its file.
        for position, entry in enumerate(merged):
            self.pending.append(entry)
            following = merged[position + 1][0] if position + 1 < len(merged) else None
            if len(self.pending) >= self.per_tick and following != entry[0]:
                self.flush_tick()

    def flush_tick(self) -> None:
        if not self.pending:
            return
        by_topic: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for _, topic_index, offset, line in self.pending:
            by_topic[topic_index].append((offset, line))
        name = tick_file_name(self.pending[0][0], self.tick)
        for topic_index in sorted(by_topic):
            topic = TOPICS[topic_index]
            entries = by_topic[topic_index]
            self.sink.write_chunk(topic, name, [line for _, line in entries])
            self.files.record(topic, entries[0][0], name)
        self.pending = []
        self.tick += 1
        delay = self.started + self.tick - self.clock()
        if delay > 0:
            self.sleep(delay)

    def finish(self) -> None:
        self.flush_tick()


# ---------------------------------------------------------------------------------------
# The run
