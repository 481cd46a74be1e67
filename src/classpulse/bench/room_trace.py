"""Where each paced room minute's time goes, closable → queryable (issue 12).

A minute row of ``room_concurrency_1min`` passes, in order: the presence job's watermark
reaching the minute's end (the window fires), the Flink Kafka sink writing the row inside a
transaction (the record's timestamp: the producer's create time, Flink sets none), the next
completed checkpoint (its completion commits the transaction: ``read_committed`` readers see
the row from then on), the landing consumer's insert (the row's ``landed_at``, the warehouse's
clock) and the watcher's poll. :class:`JobProbe` samples the running job's REST API once a
second for the checkpoints (Flink keeps only its newest ten) and the watermark of the vertices
that write the minute rows; :func:`minute_traces` joins them per minute, so a slow minute says
where its seconds went. All times are wall epoch ms of this machine's one clock.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from classpulse.config import Settings

PROBE_SECONDS = 1.0
# Flink's REST API serves checkpoint statistics from a cache kept this long
# (rest.cache.checkpoint-statistics.timeout, by default web.refresh-interval: 3 s)
STATS_CACHE_SECONDS = 3.0
MINUTE_MS = 60_000


@dataclass
class JobProbe:
    """The running job's checkpoints (by id, completed and failed) and the watermark of the
    vertices whose name holds ``vertex_text`` (the minimum over their subtasks), sampled."""

    rest: str
    job_id: str
    vertex_text: str
    checkpoints: dict[int, dict[str, Any]] = field(default_factory=dict)
    watermarks: list[tuple[float, int]] = field(default_factory=list)  # (wall ms, watermark)
    errors: int = 0  # samples that failed (the job's REST API busy or gone)
    vertex_ids: list[str] | None = None  # found on the first sample

    def sample(self, now_ms: float) -> None:
        job = f"/jobs/{self.job_id}"
        for item in rest_get(self.rest, f"{job}/checkpoints").get("history") or []:
            if item.get("status") in ("COMPLETED", "FAILED"):
                self.checkpoints.setdefault(int(item["id"]), checkpoint_summary(item))
        if self.vertex_ids is None:
            vertices = rest_get(self.rest, job).get("vertices", [])
            self.vertex_ids = [item["id"] for item in vertices if self.vertex_text in item["name"]]
        marks = [
            subtask_watermark(item)
            for vertex_id in self.vertex_ids
            for item in rest_get(self.rest, f"{job}/vertices/{vertex_id}/watermarks")
        ]
        if marks:
            self.watermarks.append((now_ms, min(marks)))

    def completed_since(self, after_ms: float) -> list[dict[str, Any]]:
        """The completed checkpoints sampled so far that were triggered at or after ``after_ms``
        (wall, epoch ms), by id."""
        return [
            item
            for _, item in sorted(self.checkpoints.items())
            if item["status"] == "COMPLETED" and item["trigger_timestamp"] >= after_ms
        ]


def rest_get(rest: str, path: str) -> Any:
    """One GET of the job's REST API (``rest``: its base URL), its JSON."""
    with urllib.request.urlopen(f"{rest}{path}", timeout=5) as response:
        return json.load(response)


def checkpoint_summary(item: dict[str, Any]) -> dict[str, Any]:
    """One checkpoint of ``/jobs/<id>/checkpoints``' history, the fields that time a commit
    (``persisted_data`` > 0 means in-flight buffers were stored, i.e. it went unaligned) and its
    full state size."""
    return {
        "id": int(item["id"]),
        "status": item["status"],
        "type": item.get("checkpoint_type"),
        "trigger_timestamp": int(item["trigger_timestamp"]),
        "latest_ack_timestamp": int(item.get("latest_ack_timestamp") or 0),
        "end_to_end_duration": int(item.get("end_to_end_duration") or 0),
        "persisted_data": int(item.get("persisted_data") or 0),
        "failure_message": item.get("failure_message"),
        "state_size": int(item.get("state_size") or item.get("checkpointed_size") or 0),
    }


def subtask_watermark(item: dict[str, Any]) -> int:
    """A ``/vertices/<id>/watermarks`` entry's value (ms; Long.MIN_VALUE before the first)."""
    return int(item["value"])


@contextlib.contextmanager
def probing(rest: str, job_id: str, vertex_text: str) -> Iterator[JobProbe]:
    """A :class:`JobProbe` sampling in a thread until the block ends, and on until Flink's
    statistics cache has expired once after it: the checkpoint that committed the last row may
    have completed since the last sample, and a sample right after the block can be served the
    statistics of up to 3 s before (a traced minute was once left without its checkpoint)."""
    probe = JobProbe(rest, job_id, vertex_text)
    stop = threading.Event()

    def sample() -> None:
        try:
            probe.sample(time.time() * 1000)
        except (OSError, ValueError, KeyError):
            probe.errors += 1

    def run() -> None:
        while not stop.wait(PROBE_SECONDS):
            sample()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield probe
    finally:
        stop.set()
        thread.join(30)
        until = time.monotonic() + STATS_CACHE_SECONDS + PROBE_SECONDS
        sample()
        while time.monotonic() < until:
            time.sleep(PROBE_SECONDS)
            sample()


@dataclass
class MinuteTrace:
    minute: int  # epoch ms of the minute's start
    closable: float  # wall ms the heartbeat that lets the watermark pass the minute was sent
    watermark: float | None = None  # first probe with the vertices' watermark >= minute end
    written: float | None = None  # the mart record's Kafka timestamp (Flink's producer)
    checkpoint: dict[str, Any] | None = None  # the first completed one acknowledged after written
    failed_checkpoints: int = 0  # failed between written and that one's completion
    landed: float | None = None  # the row's landed_at (insert into the warehouse)
    seen: float | None = None  # the watcher's first poll that returned it

    def stages(self) -> dict[str, float | None]:
        """Seconds of each step after the one before, from closable on (None where a time is
        missing: the next step then spans it); ``watermark`` apart, from closable (sampled, so
        an upper bound: a write may come before the sample that shows its watermark)."""
        committed = None if self.checkpoint is None else self.checkpoint["latest_ack_timestamp"]
        points = {
            "written": self.written,
            "committed": committed,
            "landed": self.landed,
            "seen": self.seen,
        }
        steps: dict[str, float | None] = {}
        before = self.closable
        for name, at in points.items():
            steps[name] = None if at is None else (at - before) / 1000
            before = before if at is None else at
        steps["watermark"] = (
            None if self.watermark is None else (self.watermark - self.closable) / 1000
        )
        return steps

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": self.stages()}

    def line(self) -> str:
        """One printed line: each step's seconds after the one before."""
        steps = self.stages()
        watermark = steps.pop("watermark")
        parts = ", ".join(
            f"{name} +{value:.1f} s" if value is not None else f"{name} –"
            for name, value in steps.items()
        )
        parts += (
            f"; watermark past the minute by +{watermark:.1f} s"
            if watermark is not None
            else "; watermark –"
        )
        checkpoint = self.checkpoint or {}
        detail = (
            f" (checkpoint {checkpoint['id']} {checkpoint['type']}, "
            f"{checkpoint['end_to_end_duration'] / 1000:.1f} s, "
            f"{checkpoint['persisted_data']:,} B in flight; {self.failed_checkpoints} failed)"
            if checkpoint
            else ""
        )
        return f"minute {self.minute}: closable, {parts}{detail}"


def landed_rows(client: Any, table: str, bid: int, room_id: str) -> dict[int, dict[str, int]]:
    """Per minute of the room: its first row's landed_at (ms) and Kafka position."""
    rows = client.query(
        "SELECT start_time_ms, toUnixTimestamp64Milli(min(landed_at)), "
        "argMin(kafka_partition, landed_at), argMin(kafka_offset, landed_at) "
        f"FROM {table} WHERE bid = {{bid:Int64}} AND room_id = {{room:String}} "
        "GROUP BY start_time_ms",
        parameters={"bid": bid, "room": room_id},
    ).result_rows
    return {
        int(minute): {"landed": int(landed), "partition": int(partition), "offset": int(offset)}
        for minute, landed, partition, offset in rows
    }


def record_timestamps(
    settings: Settings, topic: str, positions: Iterable[tuple[int, int]], timeout_s: float = 10.0
) -> dict[tuple[int, int], int]:
    """The Kafka timestamp (ms) of the record at each (partition, offset) of ``topic``."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.client import client_config

    wanted = set(positions)
    found: dict[tuple[int, int], int] = {}
    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{"group.id": "classpulse-room-trace", "enable.auto.commit": False},
        )
    )
    try:
        for partition, offset in sorted(wanted):
            consumer.assign([TopicPartition(topic, partition, offset)])
            deadline = time.monotonic() + timeout_s
            while (partition, offset) not in found and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is not None and not message.error():
                    found[(message.partition(), message.offset())] = message.timestamp()[1]
    finally:
        consumer.close()
    return {position: found[position] for position in wanted if position in found}


def committing_checkpoint(
    checkpoints: dict[int, dict[str, Any]], written: float
) -> tuple[dict[str, Any] | None, int]:
    """The first completed checkpoint acknowledged after ``written`` (the earliest whose
    completion can have committed the transaction holding the record: its barrier passed the
    sink after the write) and how many failed since the last one completed before the write."""
    completed = sorted(
        (item for item in checkpoints.values() if item["status"] == "COMPLETED"),
        key=lambda item: item["id"],
    )
    before = [item["id"] for item in completed if item["latest_ack_timestamp"] < written]
    after = [item for item in completed if item["latest_ack_timestamp"] >= written]
    if not after:
        return None, 0
    low, high = max(before, default=-1), after[0]["id"]
    failed = sum(
        1 for item in checkpoints.values() if item["status"] == "FAILED" and low < item["id"] < high
    )
    return after[0], failed


def watermark_passed(watermarks: list[tuple[float, int]], instant: int) -> float | None:
    """The first sample (wall ms) whose watermark is at or after ``instant``."""
    times = [at for at, mark in watermarks if mark >= instant]
    return min(times) if times else None


def minute_traces(
    closable: dict[int, float],
    seen: dict[int, float],
    landed: dict[int, dict[str, int]],
    written: dict[tuple[int, int], int],
    probe: JobProbe,
) -> list[MinuteTrace]:
    """Every measured minute's trace (``closable``'s minutes), by minute."""
    traces = []
    for minute in sorted(closable):
        row = landed.get(minute)
        trace = MinuteTrace(minute, closable[minute], seen=seen.get(minute))
        trace.watermark = watermark_passed(probe.watermarks, minute + MINUTE_MS)
        if row is not None:
            trace.landed = row["landed"]
            trace.written = written.get((row["partition"], row["offset"]))
        if trace.written is not None:
            trace.checkpoint, trace.failed_checkpoints = committing_checkpoint(
                probe.checkpoints, trace.written
            )
        traces.append(trace)
    return traces
