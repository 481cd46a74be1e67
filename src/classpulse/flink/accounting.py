"""Check that nothing was lost: the accounting identities over a run's output topics.

For every source topic: messages read = accepted + rejected, where messages read is also checked
against the messages the source topic holds (its offsets: end minus start) and rejected against
the rows of ``rejected_messages``. For every real-time mart: events counted + late = events in,
with late checked against the rows of ``late_events`` and, for the windowed marts, counted
against the sum of ``event_count``.

``topic_accounting`` and ``mart_accounting`` are upsert logs whose counters only grow within one
run of a job: the row with the greatest counter per key is the current one, where the key names
the run too (``first_offset`` of a split, ``counting_since`` of a mart: both kept in the job's
state, so a restore continues a run and a new run starts a new key), and runs add up. The rows come from whoever read the output
topics (a read_committed Kafka consumer); :mod:`classpulse.kafka.accounting` does the same from
what the warehouse landed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

WINDOWED_MARTS = {
    "classroom_performance_1min": "event_count",
    "av_quality_30s": "event_count",
    "room_user_labels_30s": "messages",
}


@dataclass
class TopicCounts:
    topic: str
    messages_read: int = 0
    accepted: int = 0
    rejected: int = 0
    messages_held: int | None = None  # what the source topic holds, by its offsets
    dead_letters: int = 0

    @property
    def lines_in_files(self) -> int | None:  # its former name (topic files)
        return self.messages_held

    @property
    def holds(self) -> bool:
        ok = self.messages_read == self.accepted + self.rejected
        ok = ok and self.rejected == self.dead_letters
        return ok and (self.messages_held is None or self.messages_held == self.messages_read)


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
    rows: Iterable[dict[str, Any]], key: tuple[str, ...], counter: str
) -> dict[tuple[Any, ...], dict[str, Any]]:
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        identity = tuple(row[name] for name in key)
        if identity not in latest or row[counter] >= latest[identity][counter]:
            latest[identity] = row
    return latest


def _add_up(
    totals: dict[str, Any],
    rows: Iterable[dict[str, Any]],
    group: str,
    make: Callable[[str], Any],
    counters: tuple[str, ...],
) -> None:
    """Add each row's ``counters`` to the totals of its ``group`` value (created by ``make``);
    a total's attributes are named as the row's columns."""
    for row in rows:
        item = totals.setdefault(row[group], make(row[group]))
        for name in counters:
            setattr(item, name, getattr(item, name) + row[name])


def _rows(outputs: Mapping[str, Iterable[dict[str, Any]]], topic: str) -> Iterator[dict[str, Any]]:
    yield from outputs.get(topic, ())


def account(
    outputs: Mapping[str, Iterable[dict[str, Any]]],
    held: Mapping[str, int] | None = None,
    marts: Iterable[str] = (),
) -> Accounting:
    """Accounting of a run's output rows (``outputs``: topic -> decoded rows).

    ``held`` maps a source topic to the messages it holds (offsets), checked against what the
    cleaning read; ``marts`` are real-time marts whose identities are checked even when they
    wrote no accounting row (every mart that wrote one is checked anyway).
    """
    result = Accounting()
    per_topic: dict[str, TopicCounts] = {}
    _add_up(
        per_topic,
        latest_by_key(
            _rows(outputs, "topic_accounting"),
            ("topic", "source_split", "first_offset"),
            "messages_read",
        ).values(),
        "topic",
        TopicCounts,
        ("messages_read", "accepted", "rejected"),
    )
    for row in _rows(outputs, "rejected_messages"):
        item = per_topic.setdefault(row["topic"], TopicCounts(row["topic"]))
        item.dead_letters += 1
        result.rejected_by_reason.setdefault(row["topic"], Counter())[row["reason"]] += 1
    for topic, messages in (held or {}).items():
        if messages or topic in per_topic:  # a topic nobody wrote to has nothing to account for
            per_topic.setdefault(topic, TopicCounts(topic)).messages_held = messages
    result.topics = [per_topic[name] for name in sorted(per_topic)]

    per_mart: dict[str, MartCounts] = {name: MartCounts(name) for name in marts}
    _add_up(
        per_mart,
        latest_by_key(
            _rows(outputs, "mart_accounting"), ("mart", "counting_since"), "events_in"
        ).values(),
        "mart",
        MartCounts,
        ("events_in", "events_counted", "events_late"),
    )
    for row in _rows(outputs, "late_events"):
        per_mart.setdefault(row["mart"], MartCounts(row["mart"])).late_rows += 1
    for mart, column in WINDOWED_MARTS.items():
        if mart in per_mart:
            per_mart[mart].mart_event_count = sum(row[column] for row in _rows(outputs, mart))
    result.marts = [per_mart[name] for name in sorted(per_mart)]
    return result
