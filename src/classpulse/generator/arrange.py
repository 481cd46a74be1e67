"""Per-topic chunk arrangement: arrival order, late events, rejected copies."""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from classpulse.generator.badinput import (
    corrupt_future,
    corrupt_malformed,
    corrupt_missing,
    corrupt_wrong_type,
    wrong_type_fields,
)
from classpulse.generator.contract import JITTER_BOUND_MS, REASONS, TIMELINE, Path_
from classpulse.generator.formats import CLASSROOM_PREFIX
from classpulse.generator.options import (
    BusinessClock,
    GeneratorError,
    GeneratorOptions,
    allot,
    derive_random,
    initial_carry,
)


@dataclass
class Chunk:
    """One topic's messages of one hour in write order; the lists are aligned."""

    lines: list[str]
    emit_keys: list[int]  # arrival order key; a late or rejected line shares its predecessor's
    records: list[Any]  # the generator's record, None for a rejected line
    late: set[int]  # positions of late events


@dataclass
class TopicStats:
    messages: int = 0
    valid: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    late_events: int = 0
    numeric_string_messages: int = 0
    files: int = 0

    def as_manifest(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "valid": self.valid,
            "rejected": dict(self.rejected),
            "rejected_total": sum(self.rejected.values()),
            "late_events": self.late_events,
            "numeric_string_messages": self.numeric_string_messages,
            "files": self.files,
        }


@dataclass
class LateEvent:
    topic: str
    offset: int
    columns: dict[str, Any]


@dataclass
class ExpectedMart:
    """A mart's expected rows as JSON lines, plus the totals the manifest reports."""

    lines: list[str]
    totals: dict[str, int]


# Every record (records.py) starts with its arrival time; timeline, agora and qos records
# (the late-capable ones) have their event time second. Read by position: this code serves
# all record types and runs once per message.
ARRIVAL = itemgetter(0)
EVENT_TIME_INDEX = 1


class BaseTopic:
    """Shared chunk logic: sort by arrival, place late events, format, add rejected copies."""

    topic = ""
    late_capable = False

    def __init__(self, options: GeneratorOptions, clock: BusinessClock) -> None:
        self.options = options
        self.clock = clock
        self.stats = TopicStats()
        self.rng = derive_random(options.seed, "arrange", self.topic)
        self.format_rng = derive_random(options.seed, "format", self.topic)
        self.reject_carry = {reason: initial_carry(options.share_of(reason)) for reason in REASONS}
        self.late_carry = initial_carry(options.late_share)
        self.late_min_ms = options.late_min_seconds * 1000
        self.future_injected = 0
        self.uncovered_wrong_type: list[Path_] = list(wrong_type_fields(self.topic))
        self.integer_ids = 0
        self.id_rng = derive_random(options.seed, "ids", self.topic)

    # per-topic hooks -------------------------------------------------------------------
    def feeding_positions(self, records: list[Any]) -> list[int]:
        return []

    def can_anchor(self, record: Any) -> bool:
        return True

    def make_late(self, record: Any, anchor: Any) -> Any:
        return record

    def format_all(self, records: list[Any]) -> list[str]:
        raise NotImplementedError

    def accept_chunk(self, chunk: Chunk, start_offset: int) -> None:
        raise NotImplementedError

    def reasons(self) -> tuple[str, ...]:
        applicable = ["malformed_json", "missing_field"]
        if wrong_type_fields(self.topic):
            applicable.append("wrong_type")
        if self.topic == TIMELINE:
            applicable.append("future_timestamp")
        return tuple(applicable)

    # chunk pipeline --------------------------------------------------------------------
    def arrange(self, records: list[Any]) -> Chunk:
        records.sort(key=ARRIVAL)
        ordered, keys, late = self.place_late(records)
        self.check_order(ordered, late)
        chunk = self.inject_rejected(Chunk(self.format_all(ordered), keys, ordered, late))
        self.stats.late_events += len(late)
        return chunk

    def place_late(self, records: list[Any]) -> tuple[list[Any], list[int], set[int]]:
        anchors = self.choose_late(records) if self.late_capable else {}
        if not anchors:
            return records, list(map(ARRIVAL, records)), set()
        moved = {index for group in anchors.values() for index in group}
        ordered: list[Any] = []
        late: set[int] = set()
        previous = 0
        for cut in sorted(moved | anchors.keys()):
            ordered.extend(records[previous:cut])
            previous = cut + 1
            if cut in moved:
                continue
            anchor = records[cut]
            ordered.append(anchor)
            for late_index in anchors[cut]:
                late.add(len(ordered))
                ordered.append(self.make_late(records[late_index], anchor))
        ordered.extend(records[previous:])
        keys = list(map(ARRIVAL, ordered))
        for position in sorted(late):
            keys[position] = keys[position - 1]  # written with (right after) its anchor
        return ordered, keys, late

    def choose_late(self, records: list[Any]) -> dict[int, list[int]]:
        """Late event position -> the event it is written after (>= late_min ahead)."""
        feeding = self.feeding_positions(records)
        wanted, self.late_carry = allot(self.late_carry, self.options.late_share, len(feeding))
        if not wanted:
            return {}
        arrivals = list(map(ARRIVAL, records))
        chosen: set[int] = set()
        anchors: dict[int, list[int]] = {}
        for index in self.rng.sample(feeding, min(len(feeding), wanted * 4 + 8)):
            if len(chosen) == wanted:
                break
            if index in anchors:
                continue
            delay = self.late_min_ms + self.rng.randint(10_000, 600_000)
            target = records[index][EVENT_TIME_INDEX] + delay + JITTER_BOUND_MS
            anchor = self.find_anchor(records, arrivals, index, target, chosen)
            if anchor is not None:
                chosen.add(index)
                anchors.setdefault(anchor, []).append(index)
        self.late_carry += wanted - len(chosen)
        return anchors

    def find_anchor(
        self, records: list[Any], arrivals: list[int], index: int, target: int, chosen: set[int]
    ) -> int | None:
        position = bisect.bisect_left(arrivals, target, lo=index + 1)
        for candidate in range(position, min(len(records), position + 400)):
            if candidate not in chosen and self.can_anchor(records[candidate]):
                return candidate
        return None

    def check_order(self, ordered: list[Any], late: set[int]) -> None:
        """Each late event is at least late_min behind the events written before it.

        The other events are in order up to the jitter by construction (arrival minus event
        time stays within a range narrower than 2 s); the tests re-check both from the files.
        """
        for position in late:
            anchor = position - 1
            while anchor in late:
                anchor -= 1
            behind = ordered[anchor][EVENT_TIME_INDEX] - ordered[position][EVENT_TIME_INDEX]
            if behind < self.late_min_ms:
                raise GeneratorError(f"{self.topic}: a late event is only {behind} ms behind")

    def inject_rejected(self, chunk: Chunk) -> Chunk:
        size = len(chunk.lines)
        self.stats.messages += size
        self.stats.valid += size
        if not size:
            return chunk
        extra: dict[int, list[str]] = defaultdict(list)
        for reason in self.reasons():
            count, carry = allot(self.reject_carry[reason], self.options.share_of(reason), size)
            self.reject_carry[reason] = carry
            if reason == "wrong_type" and self.options.wrong_type_share > 0:
                # every numeric and datetime field gets a wrong_type copy early on
                count = min(size, max(count, len(self.uncovered_wrong_type)))
            for position in sorted(self.rng.sample(range(size), count)):
                line = self.corrupt(reason, chunk.lines[position])
                if line is not None:
                    extra[position].append(line)
                    self.stats.rejected[reason] += 1
                    self.stats.messages += 1
        if not extra:
            return chunk
        merged = Chunk([], [], [], set())
        previous = 0
        for position in sorted(extra):
            shift = len(merged.lines) - previous
            merged.late.update(late + shift for late in chunk.late if previous <= late <= position)
            merged.lines.extend(chunk.lines[previous : position + 1])
            merged.emit_keys.extend(chunk.emit_keys[previous : position + 1])
            merged.records.extend(chunk.records[previous : position + 1])
            bad = extra[position]
            merged.lines.extend(bad)
            merged.emit_keys.extend([chunk.emit_keys[position]] * len(bad))
            merged.records.extend([None] * len(bad))
            previous = position + 1
        shift = len(merged.lines) - previous
        merged.late.update(late + shift for late in chunk.late if late >= previous)
        merged.lines.extend(chunk.lines[previous:])
        merged.emit_keys.extend(chunk.emit_keys[previous:])
        merged.records.extend(chunk.records[previous:])
        return merged

    def write_classroom_ids(self, lines: list[str]) -> list[str]:
        """About one message in ten carries its classroom_id as a JSON integer (the same id)."""
        rand, start = self.id_rng.random, len(CLASSROOM_PREFIX)
        for index, line in enumerate(lines):
            if rand() < 0.1 and line.startswith(CLASSROOM_PREFIX):
                end = line.index('"', start)
                value = line[start:end]
                if value.isdigit() and not value.startswith("0"):
                    lines[index] = '{"classroom_id":' + value + line[end + 1 :]
                    self.integer_ids += 1
        return lines

    def corrupt(self, reason: str, line: str) -> str | None:
        rng = self.rng
        if reason == "malformed_json":
            return corrupt_malformed(rng, line)
        document = json.loads(line)
        if reason == "missing_field":
            return corrupt_missing(rng, self.topic, document)
        if reason == "wrong_type":
            return corrupt_wrong_type(rng, self.topic, document, self.uncovered_wrong_type)
        self.future_injected += 1
        return corrupt_future(rng, document, self.future_injected == 1)
