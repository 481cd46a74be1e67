"""Room presence and message loss in ``classpulse bench realtime`` (issue 12, "Done when").

Three figures, taken in the same run as the rest of the real-time benchmark, on its broker,
warehouse and Flink session, over the four room jobs (``ROOM_JOBS``: both cleanings, presence +
concurrency, message loss) and a synthetic room of our own (:class:`SyntheticRoom`: every user
on one terminal enters within the first heartbeat interval H = 10 s, beats every H and reports
its pushes every 2 s, never leaving, so every user is online from its enter on):

- ``throughput``: one room of ``users`` (60k, the seed's largest course) over ``seconds`` of
  event time (≈36k msg/s in real time: 6k beats/s plus 30k reports/s) is produced once; each
  round runs the room jobs bounded, exactly once, and counts source messages per second of the
  jobs' own running time (engine start and planning excluded, cleaning and marts summed, as the
  ``flink`` figure). Goal: above 36k msg/s, i.e. the 60k room in real time with room to spare.
- ``minute freshness``: the continuous pipeline of the room jobs only, and the landing following
  it, under a paced room of ``paced_users`` whose event time is the send time. Minute m of
  ``room_concurrency_1min`` is final once the presence job's watermark reaches m + 60 s; that
  watermark is the greatest heartbeat time read minus the watermark delay D, so the earliest
  wall time it *could* pass is the moment the first heartbeat with server_time >= m + 60 s + D
  was sent (``closable``). The figure is first queryable in ``rt.room_concurrency_1min_log``
  minus closable, per minute; goal <= 10 s. Only minutes closable at least the idle timeout
  (``WATERMARK_IDLE_TIMEOUT``, 30 s) after the paced room's start count: the room's messages go
  to one partition, and until the others have been silent that long Flink cannot tell them
  from slow ones, so no watermark passes before. Where each minute's time went (the watermark,
  the row's Kafka write, the checkpoint that committed it, the landing, the watcher) is kept
  per minute (:mod:`classpulse.bench.room_trace`).
- ``state per online user``: during the paced run, the full checkpointed state size of the room
  job (Flink's checkpoint statistics from the mini-cluster's REST API) divided by the users
  online at that checkpoint. Only checkpoints triggered after the first minute row is
  queryable count: by then every paced user has entered (the first minute closes >= 60 s + D
  after the start, all enters come within H = 10 s) and none leaves or falls silent, so the
  users online are exactly ``paced_users``. The per-operator split of the newest such
  checkpoint says where the bytes are. The goal, <= 100 bytes per user (the seed keeps about
  40), is on the presence state (contract B.4): the vertices writing the presence marts. The
  loss job's daily aggregate, in the same Flink job, is shown apart in the whole job's figure.

Only ratios within one run on a quiet machine mean anything; nothing here asserts a duration.
"""

from __future__ import annotations

import bisect
import json
import math
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from classpulse.bench.landing_watch import landing_watch
from classpulse.bench.room_trace import (
    MinuteTrace,
    landed_rows,
    minute_traces,
    probing,
    record_timestamps,
    rest_get,
)
from classpulse.config import Settings

ROOM_SOURCES = ("room_heartbeat", "room_push_ack")
CLEANING = ("clean_room_heartbeat", "clean_room_push_ack")
MARTS = ("mart_room_presence_sessions", "mart_room_message_loss_daily")
ROOM_JOBS = (*CLEANING, *MARTS)
MINUTES_TABLE = "rt.room_concurrency_1min_log"
MINUTES_TOPIC = "room_concurrency_1min"  # the presence job's sink topic, landed into the table
# the presence job's sinks: the vertices writing them hold the presence state (contract B.4)
PRESENCE_SINKS = ("room_presence_sessions", MINUTES_TOPIC)
HEARTBEAT_INTERVAL_MS = 10_000  # H (contract section 0)
REPORT_INTERVAL_MS = 2_000  # push reports "定时2s上报" (seed 002)
GOAL_MESSAGES_PER_SECOND = 36_000.0  # one 60k-user room in real time
GOAL_MINUTE_SECONDS = 10.0
GOAL_STATE_BYTES_PER_USER = 100.0
SEED_STATE_BYTES_PER_USER = 40.0
# the room jobs' watermark delay (WATERMARK_DELAY_SECONDS, contract section 0: 10 s)
PRESENCE_WATERMARK_DELAY_SECONDS = 10
# the room jobs' idle timeout (WATERMARK_IDLE_TIMEOUT): minutes closable sooner after the start
# are not counted (the module doc)
PRESENCE_IDLE_TIMEOUT_SECONDS = 30
TAIL_TIMEOUT_S = 420.0  # pacing goes on this long at most for the last closable minute's row


@dataclass(frozen=True)
class RoomBenchLoad:
    users: int = 60_000  # throughput: the seed's 60k online in one course
    seconds: int = 30  # throughput: event time of the bounded room (60k users: ~1.1M messages)
    paced_users: int = 2_000  # freshness and state (~1.2k msg/s, paced from Python)
    pace_seconds: float = 180.0  # minutes whose close falls in it are measured
    checkpoint_interval: str = "1 s"
    bid: int = 1
    room_id: str = "990001"

    @classmethod
    def quick(cls) -> RoomBenchLoad:
        """A smoke run: a small room, one minute counted under the paced load (90 s: one
        closes between 30 s and 90 s after the start, whatever second the start falls on)."""
        return cls(users=600, seconds=30, paced_users=200, pace_seconds=90.0)


class SyntheticRoom:
    """One room's heartbeats and push reports in time order, from ``start_ms`` on.

    User u (uid 1..users) enters at start + u·H/users, then beats every H; its reports come
    every 2 s at start + u·2 s/users on, ``max_msgid`` = the pushes so far (one a second), and
    every tenth report lists the newest push as missing (a gap the next report fills)."""

    def __init__(self, users: int, start_ms: int, bid: int, room_id: str) -> None:
        self.users = users
        self.start_ms = start_ms
        self.bid = bid
        self.room_id = room_id
        self.beat_phase = [u * HEARTBEAT_INTERVAL_MS // users for u in range(users)]
        self.report_phase = [u * REPORT_INTERVAL_MS // users for u in range(users)]

    def _due(
        self, phases: list[int], interval: int, begin: int, end: int
    ) -> Iterator[tuple[int, int, int]]:
        """(time, user index, round) of every event in [begin, end), in time order."""
        first_round = max(0, (begin - self.start_ms - interval) // interval)
        round_number = first_round
        while self.start_ms + round_number * interval < end:
            base = self.start_ms + round_number * interval
            low = bisect.bisect_left(phases, begin - base)
            high = bisect.bisect_left(phases, end - base)
            for index in range(low, high):
                yield base + phases[index], index, round_number
            round_number += 1

    def messages(self, begin: int, end: int) -> list[tuple[int, str, bytes]]:
        """(server_time, topic, JSON value) of every message in [begin, end), by time."""
        found: list[tuple[int, str, bytes]] = []
        for at, index, round_number in self._due(
            self.beat_phase, HEARTBEAT_INTERVAL_MS, begin, end
        ):
            document = {
                "bid": self.bid,
                "room_id": self.room_id,
                "uid": index + 1,
                "terminal": "app",
                "kind": "enter" if round_number == 0 else "beat",
                "server_time": at,
            }
            found.append((at, ROOM_SOURCES[0], _dump(document)))
        for at, index, round_number in self._due(self.report_phase, REPORT_INTERVAL_MS, begin, end):
            pushes = (at - self.start_ms) // 1000
            missing = [pushes] if pushes > 1 and round_number % 10 == 9 else []
            document = {
                "bid": self.bid,
                "room_id": self.room_id,
                "uid": index + 1,
                "terminal": "app",
                "server_time": at,
                "max_msgid": pushes + (1 if missing else 0),
                "missing_msgids": missing,
            }
            found.append((at, ROOM_SOURCES[1], _dump(document)))
        found.sort(key=lambda item: item[0])
        return found


def _dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


@dataclass
class RoomFigures:
    load: RoomBenchLoad
    messages: int = 0  # throughput: the bounded room's source messages
    seconds: list[float] = field(default_factory=list)  # per round
    jobs_seconds: list[list[float]] = field(default_factory=list)  # per round: cleaning, marts
    paced_messages: int = 0
    minutes: dict[int, float] = field(default_factory=dict)  # minute ms -> queryable - closable
    traces: list[MinuteTrace] = field(default_factory=list)  # where each minute's time went
    pipeline_start_seconds: float = 0.0
    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # counted checkpoints
    operators: list[dict[str, Any]] = field(default_factory=list)  # newest counted, per vertex

    @property
    def messages_per_second(self) -> float | None:
        return self.messages / statistics.median(self.seconds) if self.seconds else None

    @property
    def state_bytes(self) -> int | None:
        return self.checkpoints[-1]["state_size"] if self.checkpoints else None

    @property
    def state_bytes_per_user(self) -> float | None:
        return self._per_user(self.state_bytes)

    @property
    def presence_state_bytes(self) -> int | None:
        """Contract B.4's goal is on the presence state: the vertices writing the presence marts
        (the presence function, the minute aggregate), not the loss job's daily aggregate that
        runs in the same Flink job (``state_bytes`` counts every vertex)."""
        if not self.operators:
            return None
        return sum(
            row["state_size"]
            for row in self.operators
            if any(f"{sink}[" in row["vertex"] for sink in PRESENCE_SINKS)
        )

    @property
    def presence_state_bytes_per_user(self) -> float | None:
        return self._per_user(self.presence_state_bytes)

    def _per_user(self, size: int | None) -> float | None:
        if size is None or not self.load.paced_users:
            return None
        return size / self.load.paced_users

    def minute_seconds(self, share: float) -> float | None:
        values = sorted(self.minutes.values())
        if not values:
            return None
        return values[min(len(values) - 1, round(share * (len(values) - 1)))]

    def as_dict(self) -> dict[str, Any]:
        return {
            "load": asdict(self.load),
            "jobs": list(ROOM_JOBS),
            "throughput": {
                "messages": self.messages,
                "seconds": self.seconds,
                "jobs_seconds": self.jobs_seconds,
                "median_seconds": statistics.median(self.seconds) if self.seconds else None,
                "per_second": self.messages_per_second,
                "goal_per_second": GOAL_MESSAGES_PER_SECOND,
            },
            "minute_freshness": {
                "table": MINUTES_TABLE,
                "watermark_delay_seconds": PRESENCE_WATERMARK_DELAY_SECONDS,
                "closable": "send time of the first heartbeat with server_time >= minute end + "
                "watermark delay",
                "counted_from_seconds": PRESENCE_IDLE_TIMEOUT_SECONDS,  # after the start
                "paced_messages": self.paced_messages,
                "pipeline_start_seconds": self.pipeline_start_seconds,
                "minutes": len(self.minutes),
                "seconds_after_closable": {
                    str(minute): seconds for minute, seconds in sorted(self.minutes.items())
                },
                "p50_seconds": self.minute_seconds(0.5),
                "max_seconds": self.minute_seconds(1.0),
                "goal_seconds": GOAL_MINUTE_SECONDS,
                "trace": [trace.as_dict() for trace in self.traces],
            },
            "state": {
                "online_users": self.load.paced_users,
                "checkpoints": self.checkpoints,
                "state_bytes": self.state_bytes,
                "bytes_per_online_user": self.state_bytes_per_user,
                "presence_state_bytes": self.presence_state_bytes,
                "presence_bytes_per_online_user": self.presence_state_bytes_per_user,
                "goal_bytes_per_user": GOAL_STATE_BYTES_PER_USER,
                "seed_bytes_per_user": SEED_STATE_BYTES_PER_USER,
                "operators": self.operators,
            },
        }


# -- Flink's checkpoint statistics -----------------------------------------------------------


def operator_state(rest: str, job_id: str, checkpoint_id: int) -> list[dict[str, Any]]:
    """State size per job vertex (its operator chain) in one checkpoint, largest first."""
    names = {
        vertex["id"]: vertex["name"]
        for vertex in rest_get(rest, f"/jobs/{job_id}").get("vertices", [])
    }
    details = rest_get(rest, f"/jobs/{job_id}/checkpoints/details/{checkpoint_id}")
    rows = [
        {
            "vertex": names.get(vertex_id, vertex_id)[:160],
            "state_size": int(task.get("state_size") or task.get("checkpointed_size") or 0),
        }
        for vertex_id, task in (details.get("tasks") or {}).items()
    ]
    return sorted(rows, key=lambda row: -row["state_size"])


# -- throughput ------------------------------------------------------------------------------


def run_room_jobs(
    settings: Settings, session: Any, tag: str, parallelism: int, variables: dict[str, str]
) -> tuple[float, list[float], Any]:
    """The room jobs, bounded at the topics' ends, exactly once: (seconds of the Flink jobs'
    own running time, seconds per job, the runner's result)."""
    from classpulse.flink import pipeline

    result = pipeline.run_bounded(
        settings,
        jobs=ROOM_JOBS,
        group=f"bench-rooms-{tag}",
        variables={**variables, "KAFKA_TRANSACTIONAL_ID_PREFIX": f"bench-rooms-{tag}"},
        parallelism=parallelism,
        session=session,
    )
    parts = [float(stage.seconds) for stage in result.waves]
    return sum(parts), parts, result


def produce_room(settings: Settings, room: SyntheticRoom, begin: int, end: int) -> int:
    """The room's messages in [begin, end) into its source topics (keyed by room); how many."""
    from classpulse.kafka.produce import TopicProducer

    producer = TopicProducer(settings)
    key = room.room_id.encode()
    count = 0
    step = 5_000  # ms of event time generated at once
    for window in range(begin, end, step):
        for _, topic, value in room.messages(window, min(end, window + step)):
            producer.send(topic, value, key)
            count += 1
    producer.flush()
    return count


def measure_room_throughput(
    settings: Settings,
    session: Any,
    load: RoomBenchLoad,
    figures: RoomFigures,
    repeats: int,
    parallelism: int,
    variables: dict[str, str],
    log: Callable[[str], None],
) -> None:
    from classpulse.bench.realtime import recreate_topics
    from classpulse.bench.realtime_setup import again_after_planner_race
    from classpulse.flink import pipeline

    _, middle, outputs = pipeline.pipeline_topics(settings)
    recreate_topics(settings, [*ROOM_SOURCES, *middle, *outputs])
    start = 1_764_554_400_000  # 2025-12-01 10:00 Asia/Shanghai: a fixed, replayable day
    room = SyntheticRoom(load.users, start, load.bid, load.room_id)
    log(f"rooms: producing one {load.users:,}-user room, {load.seconds} s of event time")
    figures.messages = produce_room(settings, room, start, start + load.seconds * 1000)
    for round_number in range(1, repeats + 1):
        tag = f"{round_number}-{uuid.uuid4().hex[:6]}"
        recreate_topics(settings, [*middle, *outputs])
        (seconds, parts, _), tag = again_after_planner_race(
            lambda tag: run_room_jobs(settings, session, tag, parallelism, variables),
            tag,
            lambda: recreate_topics(settings, [*middle, *outputs]),
            lambda line, where=round_number: log(f"rooms round {where}: {line}"),
        )
        figures.seconds.append(seconds)
        figures.jobs_seconds.append(parts)
        log(
            f"rooms round {round_number}/{repeats}: {figures.messages / seconds:,.0f} msg/s "
            f"({figures.messages:,} messages, {seconds:.2f} s)"
        )


# -- minute freshness and state per online user under a paced room --------------------------


def measure_room_paced(
    settings: Settings,
    load: RoomBenchLoad,
    figures: RoomFigures,
    parallelism: int,
    variables: dict[str, str],
    log: Callable[[str], None],
) -> None:
    from classpulse.bench.realtime_setup import fresh_paced_run, start_paced_pipeline
    from classpulse.flink import pipeline
    from classpulse.kafka.produce import TopicProducer
    from classpulse.warehouse import get_client

    tag = fresh_paced_run(settings)
    delay_ms = PRESENCE_WATERMARK_DELAY_SECONDS * 1000
    log(f"rooms: starting the continuous room jobs ({', '.join(ROOM_JOBS)})")
    started = time.perf_counter()
    try:
        start_paced_pipeline(
            settings,
            f"bench-rooms-stream-{tag}",
            parallelism,
            load.checkpoint_interval,
            {
                **variables,
                "WATERMARK_DELAY_SECONDS": str(PRESENCE_WATERMARK_DELAY_SECONDS),
                "WATERMARK_IDLE_TIMEOUT": f"{PRESENCE_IDLE_TIMEOUT_SECONDS} s",
            },
            ROOM_JOBS,
        )
        figures.pipeline_start_seconds = time.perf_counter() - started
        state = json.loads(pipeline.files_for(settings).state_file.read_text())
        rest, job_id = f"http://127.0.0.1:{state['rest_port']}", state["job_id"]
        closable: dict[int, float] = {}  # minute -> wall ms its closing heartbeat was sent
        with (
            probing(rest, job_id, MINUTES_TOPIC) as probe,
            landing_watch(
                settings,
                f"bench-rooms-follow-{tag}",
                f"SELECT DISTINCT start_time_ms FROM {MINUTES_TABLE} "
                "WHERE bid = {bid:Int64} AND room_id = {room:String}",
                {"bid": load.bid, "room": load.room_id},
                key=int,  # minute (epoch ms) -> first wall time queryable (ms)
            ) as watch,
        ):
            seen, errors = watch.seen, watch.errors
            producer = TopicProducer(settings, extra={"linger.ms": 5})
            begun = int(time.time() * 1000)
            room = SyntheticRoom(load.paced_users, begun, load.bid, load.room_id)
            key = load.room_id.encode()
            cursor = begun
            pace_end = begun + load.pace_seconds * 1000
            log(f"rooms: paced room of {load.paced_users:,} users for {load.pace_seconds:g} s")
            next_log = time.monotonic() + 15
            next_check = 0
            while not errors:
                now = int(time.time() * 1000)
                if now <= cursor:
                    time.sleep((cursor - now + 20) / 1000)
                    continue
                for at, topic, value in room.messages(cursor, now):
                    producer.send(topic, value, key)
                    figures.paced_messages += 1
                    if topic == ROOM_SOURCES[0]:
                        minute = (at - delay_ms) // 60_000 * 60_000 - 60_000
                        if minute >= begun // 60_000 * 60_000:
                            closable.setdefault(minute, time.time() * 1000)
                cursor = now
                targets = {minute for minute, sent in closable.items() if sent <= pace_end}
                if now > pace_end + TAIL_TIMEOUT_S * 1000:
                    break
                if now >= pace_end and targets <= seen.keys() and now >= next_check:
                    # and one checkpoint triggered after the first row has completed
                    next_check = now + 1000
                    if probe.completed_since(min(seen.values())):
                        break
                if time.monotonic() > next_log:
                    next_log = time.monotonic() + 15
                    log(f"rooms: {figures.paced_messages:,} sent, {len(seen)} minutes queryable")
            producer.flush()
            if seen:
                figures.checkpoints = probe.completed_since(min(seen.values()))
                if figures.checkpoints:
                    figures.operators = operator_state(rest, job_id, figures.checkpoints[-1]["id"])
        first_counted = begun + PRESENCE_IDLE_TIMEOUT_SECONDS * 1000
        for minute, sent in closable.items():
            if first_counted <= sent <= pace_end and minute in seen:
                figures.minutes[minute] = (seen[minute] - sent) / 1000
        measured = {minute: closable[minute] for minute in figures.minutes}
        landed = landed_rows(get_client(settings), MINUTES_TABLE, load.bid, load.room_id)
        positions = [(row["partition"], row["offset"]) for row in landed.values()]
        written = record_timestamps(settings, MINUTES_TOPIC, positions)
        figures.traces = minute_traces(measured, seen, landed, written, probe)
        for trace in figures.traces:
            log(f"rooms: {trace.line()}")
    finally:
        pipeline.stop(settings, savepoint=False)


def measure_rooms(
    settings: Settings,
    session: Any,
    load: RoomBenchLoad | None,
    repeats: int,
    parallelism: int,
    variables: dict[str, str],
    log: Callable[[str], None],
) -> RoomFigures:
    """Every room figure (see the module doc) on the benchmark's broker, warehouse, session
    (``load`` None: the full-size one)."""
    load = load or RoomBenchLoad()
    figures = RoomFigures(load)
    measure_room_throughput(settings, session, load, figures, repeats, parallelism, variables, log)
    measure_room_paced(settings, load, figures, parallelism, variables, log)
    return figures


# -- output ----------------------------------------------------------------------------------


def _shown(value: float | None, pattern: str) -> str:
    return "–" if value is None or math.isnan(value) else pattern.format(value)


def print_rooms(figures: RoomFigures | None, console: Any) -> None:
    from rich.table import Table

    if figures is None:
        return
    load = figures.load
    table = Table(
        title=(
            f"Rooms: presence + loss jobs ({load.users:,}-user room for throughput, "
            f"{load.paced_users:,}-user paced room for freshness and state; watermark delay "
            f"{PRESENCE_WATERMARK_DELAY_SECONDS} s)"
        ),
        header_style="bold cyan",
    )
    for column in ("measurement", "figure", "goal"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    table.add_row(
        f"room jobs, messages/s ({figures.messages:,} messages, median of {len(figures.seconds)})",
        _shown(figures.messages_per_second, "{:,.0f} msg/s"),
        f"≥ {GOAL_MESSAGES_PER_SECOND:,.0f} msg/s",
    )
    table.add_row(
        f"minute closable → queryable in {MINUTES_TABLE}, p50 / max "
        f"({len(figures.minutes)} minutes)",
        f"{_shown(figures.minute_seconds(0.5), '{:.1f} s')} / "
        f"{_shown(figures.minute_seconds(1.0), '{:.1f} s')}",
        f"≤ {GOAL_MINUTE_SECONDS:g} s",
    )
    table.add_row(
        f"presence state per online user: the presence function and minute aggregate "
        f"({_shown(figures.presence_state_bytes, '{:,.0f}')} bytes / {load.paced_users:,} users)",
        _shown(figures.presence_state_bytes_per_user, "{:,.0f} bytes"),
        f"≤ {GOAL_STATE_BYTES_PER_USER:g} bytes (seed ≈ {SEED_STATE_BYTES_PER_USER:g})",
    )
    table.add_row(
        f"the room job's whole state per online user, the loss job's daily aggregate too "
        f"({_shown(figures.state_bytes, '{:,.0f}')} bytes)",
        _shown(figures.state_bytes_per_user, "{:,.0f} bytes"),
        "",
    )
    console.print(table)
    if figures.operators:
        top = ", ".join(
            f"{row['vertex'][:60]}: {row['state_size'] / max(1, load.paced_users):,.0f} B/user"
            for row in figures.operators[:3]
        )
        console.print(f"room job state, largest operators: {top}")


def plot_rooms(figures: RoomFigures | None, axis: Any) -> None:
    """The three room figures as ratios of their goals (1 = the goal; throughput above 1 is
    better, the other two below)."""
    if figures is None:
        axis.set_visible(False)
        return
    names, ratios = [], []
    if figures.messages_per_second is not None:
        names.append("msg/s ÷ 36k")
        ratios.append(figures.messages_per_second / GOAL_MESSAGES_PER_SECOND)
    if figures.minute_seconds(1.0) is not None:
        names.append("minute max s ÷ 10")
        ratios.append(figures.minute_seconds(1.0) / GOAL_MINUTE_SECONDS)  # type: ignore[operator]
    if figures.presence_state_bytes_per_user is not None:
        names.append("presence bytes/user ÷ 100")
        ratios.append(figures.presence_state_bytes_per_user / GOAL_STATE_BYTES_PER_USER)
    axis.bar(names, ratios, color=["#4c72b0", "#55a868", "#c44e52"][: len(names)])
    axis.axhline(1.0, color="red", ls="dashed")
    axis.set_title("Rooms: figure ÷ goal (red = goal)")
