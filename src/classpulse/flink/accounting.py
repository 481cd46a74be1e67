"""Check that nothing was lost: the accounting identities over a run's output topics.

For every source topic: messages read = accepted + rejected, where messages read is also checked
against the lines of the source files and rejected against the rows of ``rejected_messages``.
For every real-time mart: events counted + late = events in, with late checked against the rows of
``late_events`` and, for the windowed marts, counted against the sum of ``event_count``.

``topic_accounting`` and ``mart_accounting`` are upsert logs whose counters only grow: the row
with the greatest counter per key is the current one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WINDOWED_MARTS = {
    "classroom_performance_1min": "event_count",
    "av_quality_30s": "event_count",
    "room_user_labels_30s": "messages",
}


def iter_rows(directory: Path) -> Iterator[dict[str, Any]]:
    """Rows of every complete JSON-lines file in ``directory`` (hidden files skipped)."""
    if not directory.is_dir():
        return
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name.startswith((".", "_")):
            continue
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def count_lines(directory: Path) -> int:
    """Messages (lines) in the complete files of a topic directory: every file but hidden ones
    (a leading dot), as the contract reads a topic; ``_name`` files count too."""
    total = 0
    if not directory.is_dir():
        return 0
    for path in directory.iterdir():
        if path.is_file() and not path.name.startswith("."):
            with open(path, "rb") as handle:
                data = handle.read()
            total += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return total


@dataclass
class TopicCounts:
    topic: str
    messages_read: int = 0
    accepted: int = 0
    rejected: int = 0
    lines_in_files: int | None = None
    dead_letters: int = 0

    @property
    def holds(self) -> bool:
        ok = self.messages_read == self.accepted + self.rejected
        ok = ok and self.rejected == self.dead_letters
        return ok and (self.lines_in_files is None or self.lines_in_files == self.messages_read)


@dataclass
class MartCounts:
    mart: str
    events_in: int = 0
    events_counted: int = 0
    events_late: int = 0
    late_rows: int = 0
    mart_event_count: int | None = None

    @property
    def holds(self) -> bool:
        ok = self.events_in == self.events_counted + self.events_late
        ok = ok and self.events_late == self.late_rows
        return ok and (
            self.mart_event_count is None or self.mart_event_count == self.events_counted
        )


@dataclass
class Accounting:
    topics: list[TopicCounts] = field(default_factory=list)
    marts: list[MartCounts] = field(default_factory=list)
    rejected_by_reason: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return all(item.holds for item in self.topics) and all(item.holds for item in self.marts)


def latest_by_key(
    rows: Iterator[dict[str, Any]], key: tuple[str, ...], counter: str
) -> dict[tuple[Any, ...], dict[str, Any]]:
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        identity = tuple(row[name] for name in key)
        if identity not in latest or row[counter] >= latest[identity][counter]:
            latest[identity] = row
    return latest


def account(
    topics_dir: Path, source_dirs: dict[str, Path] | None = None, marts: tuple[str, ...] = ()
) -> Accounting:
    """Accounting of the outputs under ``topics_dir``.

    ``source_dirs`` maps a source topic to its directory, to count its lines; ``marts`` are the
    real-time marts whose identities are checked.
    """
    result = Accounting()
    per_topic: dict[str, TopicCounts] = {}
    for row in latest_by_key(
        iter_rows(topics_dir / "topic_accounting"), ("topic", "source_split"), "messages_read"
    ).values():
        item = per_topic.setdefault(row["topic"], TopicCounts(row["topic"]))
        item.messages_read += row["messages_read"]
        item.accepted += row["accepted"]
        item.rejected += row["rejected"]
    for row in iter_rows(topics_dir / "rejected_messages"):
        item = per_topic.setdefault(row["topic"], TopicCounts(row["topic"]))
        item.dead_letters += 1
        result.rejected_by_reason.setdefault(row["topic"], Counter())[row["reason"]] += 1
    for topic, directory in (source_dirs or {}).items():
        lines = count_lines(directory)
        if lines or topic in per_topic:  # a topic nobody wrote to has nothing to account for
            per_topic.setdefault(topic, TopicCounts(topic)).lines_in_files = lines
    result.topics = [per_topic[name] for name in sorted(per_topic)]

    per_mart: dict[str, MartCounts] = {name: MartCounts(name) for name in marts}
    for row in latest_by_key(
        iter_rows(topics_dir / "mart_accounting"), ("mart",), "events_in"
    ).values():
        item = per_mart.setdefault(row["mart"], MartCounts(row["mart"]))
        item.events_in = row["events_in"]
        item.events_counted = row["events_counted"]
        item.events_late = row["events_late"]
    for row in iter_rows(topics_dir / "late_events"):
        per_mart.setdefault(row["mart"], MartCounts(row["mart"])).late_rows += 1
    for mart, column in WINDOWED_MARTS.items():
        if mart in per_mart:
            per_mart[mart].mart_event_count = sum(
                row[column] for row in iter_rows(topics_dir / mart)
            )
    result.marts = [per_mart[name] for name in sorted(per_mart)]
    return result
