"""The generator's topic lines for a day too large for memory (``classpulse bench rooms``).

:func:`classpulse.rooms.generator.generate_rooms_day` holds every record, line and expected
row of the day: about 20 GB for the seed's 60k-user room. :func:`stream_rooms_lines` yields
the same lines in the same order with memory bounded by ``chunk_records``: the users are
simulated once, in generation order, and their records are spilled to disk in sorted runs of
at most ``chunk_records`` (an external sort); each topic's runs are then merged in arrival
order and turned into lines as they stream past. Sort keys end with the generation index, so
the merge breaks ties exactly as the one-shot path's stable sorts do, and the line randomness
is drawn in the same order.
"""

from __future__ import annotations

import heapq
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from classpulse.rooms.generator import (
    BEHAVIOURS,
    HEARTBEAT_TOPIC,
    PUSH_ACK_TOPIC,
    REASONS,
    RoomsOptions,
    ack_document,
    ack_order,
    heartbeat_document,
    late_indices,
    placed_records,
    plan_rooms,
    simulate_users,
    topic_lines,
)

CHUNK_RECORDS = 200_000  # records per sorted run: ~60 MB of Python objects at most


class SortedRuns:
    """Records of one topic spilled to ``folder`` in sorted runs of at most ``limit``."""

    def __init__(self, folder: Path, name: str, key: Callable[[Any], tuple[Any, ...]], limit: int):
        self.folder = folder
        self.name = name
        self.key = key
        self.limit = limit
        self.count = 0  # records added so far: the next one's generation index
        self.pending: list[tuple[tuple[Any, ...], Any]] = []
        self.runs: list[Path] = []

    def add(self, record: Any) -> None:
        self.pending.append(((*self.key(record), self.count), record))
        self.count += 1
        if len(self.pending) >= self.limit:
            self.spill()

    def spill(self) -> None:
        if not self.pending:
            return
        self.pending.sort(key=lambda item: item[0])
        path = self.folder / f"{self.name}-{len(self.runs):05d}.pickle"
        with path.open("wb") as run:
            for item in self.pending:
                pickle.dump(item, run, pickle.HIGHEST_PROTOCOL)
        self.runs.append(path)
        self.pending = []

    def merged(self) -> Iterator[tuple[int, Any]]:
        """(generation index, record) of every record, in key order (ties: generation)."""
        self.spill()
        files = [path.open("rb") for path in self.runs]
        try:
            for key, record in heapq.merge(*map(read_run, files), key=lambda item: item[0]):
                yield key[-1], record
        finally:
            for file in files:
                file.close()


def read_run(file: BinaryIO) -> Iterator[tuple[tuple[Any, ...], Any]]:
    while True:
        try:
            yield pickle.load(file)
        except EOFError:
            return


def stream_rooms_lines(
    options: RoomsOptions, scratch: Path, chunk_records: int = CHUNK_RECORDS
) -> Iterator[tuple[str, str]]:
    """(topic, line) of the generated day, topic by topic in arrival order: exactly
    ``generate_rooms_day(options).lines`` flattened, with runs spilled under ``scratch``."""
    beats = SortedRuns(scratch, HEARTBEAT_TOPIC, lambda beat: (beat.server_time,), chunk_records)
    acks = SortedRuns(scratch, PUSH_ACK_TOPIC, ack_order, chunk_records)
    for user_beats, user_acks in simulate_users(
        options, plan_rooms(options), dict.fromkeys(BEHAVIOURS, 0)
    ):
        for beat in user_beats:
            beats.add(beat)
        for ack in user_acks:
            acks.add(ack)
    late_ms = options.late_min_seconds * 1000
    late = late_indices(options, beats.count)
    for topic, runs, to_document, late_ones in (
        (HEARTBEAT_TOPIC, beats, heartbeat_document, late),
        (PUSH_ACK_TOPIC, acks, ack_document, set()),
    ):
        placed = placed_records(runs.merged(), late_ones, late_ms)
        for _, line in topic_lines(options, topic, placed, to_document, dict.fromkeys(REASONS, 0)):
            yield topic, line
