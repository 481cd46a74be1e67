"""The real-time path's throughput and freshness, side by side in one run (issue 10).

On one generated day (``messages``, at least 1M by default), produced once into a broker of the
benchmark's own beside a warehouse of its own (both stopped at the end, nothing of the user's
touched), each round measures in turn:

- ``flink``: every job of ``flink_sql/jobs`` over the ``kafka`` connector set, bounded at the
  topics' ends, exactly once (checkpoints, Kafka transactions, read_committed readers), through
  the pipeline's own entry point :func:`classpulse.flink.pipeline.run_bounded`: source messages
  per second from the first job's submission to the last sink's commit. The engine's start (the
  JVM, the planner) is paid once per process and reported apart.
- ``landing``: every landing topic into fresh ClickHouse tables with a fresh consumer group,
  through :func:`classpulse.kafka.landing.land_from_kafka`: rows per second.
- ``chdb``: the ClickHouse engine parsing the same raw JSON lines (``JSONEachRow`` into the
  columns it infers, malformed lines skipped): the ceiling this machine sets for the parse.

The bounded figure includes what each run pays again: planning each stage's statement set,
a mini-cluster and the tasks' deployment per stage, the final checkpoint, and the marts waiting
for the cleaning's commit. After the rounds, ``flink_sustained`` (:mod:`classpulse.bench.sustained`)
runs every job as the continuous pipeline on the day still in Kafka and reports the rate between
10 % and 90 % of the backlog: what a running pipeline sustains. Both figures are reported.

Rounds alternate the three so machine noise hits them alike; the figures are medians of
``repeats``. Before each round the output topics are deleted and created again, so every round
works on the same day.

Then ``freshness``: the continuous pipeline (:func:`classpulse.flink.pipeline.start`, every job,
in its own process) and the landing (``land_from_kafka(follow=True)``) run on emptied topics,
and ``agora_record`` messages (valid student records of the generated day) are produced at a
fixed rate with their event time set to the moment they are sent; a warm-up at the same rate
lasts until a first window is queryable (the job's tasks are deployed and running), and only
the messages sent after it are measured. For each message: the time
from its produce to the first moment its 30 s window is queryable in ``rt.av_quality_30s_log``,
p50 and p95 (only windows the watermark has closed count); and the part of it after the window
could close (window end + watermark delay), which is the pipeline's own latency.

The figures are only comparable within one run on one quiet machine: nothing here asserts a
duration (tests check the structure and the accounting).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from classpulse.config import Settings, load_settings

FRESHNESS_TOPIC = "agora_record"
FRESHNESS_TABLE = "rt.av_quality_30s_log"
FRESHNESS_WINDOW_MS = 30_000
WARM_UP_TIMEOUT_S = 900.0
# the generator's volume per unit of scale (scale 8 gives ~1.1M messages)
MESSAGES_PER_SCALE = 137_500
MEASUREMENTS = ("flink", "landing", "chdb")
LABELS = {
    "flink": ("Kafka → all cleaning + marts → Kafka, exactly once", "messages"),
    "landing": ("Kafka → ClickHouse landing", "rows"),
    "chdb": ("chDB parsing the same raw JSON (ceiling)", "messages"),
}
GOALS = {"flink": 150_000.0, "landing": 300_000.0}  # per second, on 2 cores (issue 10)


@dataclass(frozen=True)
class RealtimeOptions:
    messages: int = 1_100_000
    repeats: int = 3
    parallelism: int = 2
    partitions: int = 2
    rate: float = 2000.0  # paced messages per second (freshness)
    pace_seconds: float = 120.0  # ~3 windows closed and measured
    # Freshness only: the paced events carry their send time, so they arrive in order and a
    # short watermark delay loses none; the throughput rounds keep the jobs' own defaults.
    watermark_delay_seconds: int = 2
    checkpoint_interval: str = "1 s"  # freshness: how often the transactions commit
    topics_dir: Path | None = None
    output: Path | None = None  # the JSON result (default: <home>/bench/realtime-<time>.json)
    quick: bool = False
    rooms: bool = True  # the room jobs' figures (classpulse.bench.realtime_rooms)
    # knobs to compare (part of the result file): ${VAR}s of the SQL files (e.g.
    # KAFKA_PRODUCER_LINGER_MS) and Flink options ("key: value" lines, CLASSPULSE_FLINK_PROPERTIES)
    variables: tuple[tuple[str, str], ...] = ()
    flink_properties: tuple[tuple[str, str], ...] = ()

    @property
    def scale(self) -> float:
        return max(0.01, round(self.messages / MESSAGES_PER_SCALE, 2))

    @classmethod
    def quick_options(cls, **changes: Any) -> RealtimeOptions:
        """A smoke run: a tiny day, one round, a short paced load (40 s: one window closes)."""
        return replace(
            cls(messages=4000, repeats=1, rate=100.0, pace_seconds=40.0, quick=True), **changes
        )


@dataclass
class RealtimeReport:
    options: RealtimeOptions
    messages: int = 0
    produced: dict[str, int] = field(default_factory=dict)  # source topic -> messages
    produced_seconds: float = 0.0
    engine_start_seconds: float = 0.0
    pipeline_start_seconds: float = 0.0  # freshness: the continuous pipeline's start
    seconds: dict[str, list[float]] = field(default_factory=dict)
    flink_jobs_seconds: list[list[float]] = field(default_factory=list)  # per round, per job
    units: dict[str, int] = field(default_factory=dict)  # messages or rows per measurement
    landed: dict[str, int] = field(default_factory=dict)  # landing table -> rows (last round)
    freshness_ms: list[float] = field(default_factory=list)
    after_close_ms: list[float] = field(default_factory=list)
    paced_messages: int = 0
    warm_up_messages: int = 0
    windows_seen: int = 0
    identities: str = ""
    identities_hold: bool = False
    labels: Any = None  # live classroom (realtime_labels.LabelsFigures)
    sustained: Any = None  # classpulse.bench.sustained.SustainedResult: the running job's rate
    result_file: Path | None = None
    plot_file: Path | None = None
    rooms: Any = None  # realtime_rooms.RoomFigures

    def rate(self, name: str) -> float:
        values = self.seconds.get(name) or []
        if not values or not self.units.get(name):
            return float("nan")
        return self.units[name] / statistics.median(values)

    def as_dict(self) -> dict[str, Any]:
        options = {
            key: str(value) if isinstance(value, Path) else value
            for key, value in asdict(self.options).items()
        }
        measurements = {}
        for name in MEASUREMENTS:
            values = self.seconds.get(name) or []
            rate = self.rate(name)
            measurements[name] = {
                "label": LABELS[name][0],
                "unit": LABELS[name][1],
                "units": self.units.get(name, 0),
                "seconds": values,
                "median_seconds": statistics.median(values) if values else None,
                "per_second": None if math.isnan(rate) else rate,
                "goal_per_second": GOALS.get(name),
            }
        return {
            "benchmark": "realtime",
            "valid_figures": "only on a quiet machine; compare within one run",
            "options": options,
            "messages": self.messages,
            "produced": self.produced,
            "produce_per_second": self.messages / self.produced_seconds
            if self.produced_seconds
            else None,
            "engine_start_seconds": self.engine_start_seconds,
            "pipeline_start_seconds": self.pipeline_start_seconds,
            "measurements": measurements,
            "flink_jobs_seconds": self.flink_jobs_seconds,
            "landed_rows": self.landed,
            "freshness": {
                "table": FRESHNESS_TABLE,
                "window_seconds": FRESHNESS_WINDOW_MS / 1000,
                "watermark_delay_seconds": self.options.watermark_delay_seconds,
                "goal_p95_seconds": FRESHNESS_WINDOW_MS / 1000 + 5,
                "paced_messages": self.paced_messages,
                "warm_up_messages": self.warm_up_messages,
                "measured_messages": len(self.freshness_ms),
                "windows": self.windows_seen,
                "p50_seconds": _seconds(percentile(self.freshness_ms, 0.5)),
                "p95_seconds": _seconds(percentile(self.freshness_ms, 0.95)),
                "after_close_p50_seconds": _seconds(percentile(self.after_close_ms, 0.5)),
                "after_close_p95_seconds": _seconds(percentile(self.after_close_ms, 0.95)),
                "freshness_ms": self.freshness_ms,
            },
            "identities": self.identities,
            "identities_hold": self.identities_hold,
            "rooms": self.rooms.as_dict() if self.rooms is not None else None,
            "labels": self.labels.as_dict() if self.labels is not None else None,
            "flink_sustained": _sustained_dict(self.sustained),
        }


def _sustained_dict(result: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "label": "continuous job on the produced backlog: source messages/s between 10% and 90%",
        "backlog": result.backlog,
        "cleaning_per_second": result.first_stage_per_second,
        "marts_per_second": result.later_stage_per_second,
        "mart_source_rows": result.later_rows,
        "submitted_to_first_record_seconds": result.submitted_to_first_record_seconds,
        "caught_up_seconds": result.caught_up_seconds,
        "samples": result.samples,
    }


def _seconds(milliseconds: float) -> float | None:
    return None if math.isnan(milliseconds) else milliseconds / 1000


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1); NaN when there is no value."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


# -- the stack of the benchmark's own --------------------------------------------------------


def bench_settings(scratch: Path, options: RealtimeOptions) -> Settings:
    from classpulse.flink.session import free_port

    return replace(
        load_settings(),
        home=scratch / "home",
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
        kafka_path=scratch / "kafka",
        kafka_heap="512m",
        kafka_partitions=options.partitions,
        warehouse_path=scratch / "warehouse",
        warehouse_bind="127.0.0.1",
        clickhouse_host="127.0.0.1",
        clickhouse_port=free_port(),
        clickhouse_user="default",
        clickhouse_password="",
        clickhouse_secure=False,
    )


def environment_of(settings: Settings) -> dict[str, str]:
    """The CLASSPULSE_* variables that make a child process (the pipeline's) use ``settings``."""
    return {
        "CLASSPULSE_HOME": str(settings.home),
        "CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "CLASSPULSE_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "CLASSPULSE_KAFKA_PATH": str(settings.kafka_path),
        "CLASSPULSE_KAFKA_HEAP": settings.kafka_heap,
        "CLASSPULSE_KAFKA_PARTITIONS": str(settings.kafka_partitions),
        "CLASSPULSE_WAREHOUSE_PATH": str(settings.warehouse_path),
        "CLASSPULSE_WAREHOUSE_BIND": settings.warehouse_bind,
        "CLASSPULSE_CLICKHOUSE_HOST": settings.clickhouse_host,
        "CLASSPULSE_CLICKHOUSE_PORT": str(settings.clickhouse_port),
        "CLASSPULSE_CLICKHOUSE_USER": settings.clickhouse_user,
        "CLASSPULSE_CLICKHOUSE_PASSWORD": settings.clickhouse_password,
        "CLASSPULSE_CLICKHOUSE_SECURE": "1" if settings.clickhouse_secure else "0",
    }


@contextlib.contextmanager
def bench_environment(settings: Settings, options: RealtimeOptions) -> Iterator[None]:
    """This process's environment points at the benchmark's stack while it runs (the
    continuous pipeline is a child process reading its settings from there); restored after."""
    from classpulse.flink.pipeline import JOBMANAGER_VARIABLE
    from classpulse.flink.runner import PROPERTIES_VARIABLE

    changes: dict[str, str | None] = {**environment_of(settings), JOBMANAGER_VARIABLE: None}
    if options.flink_properties:
        changes[PROPERTIES_VARIABLE] = "\n".join(
            f"{key}: {value}" for key, value in options.flink_properties
        )
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def recreate_topics(settings: Settings, names: list[str]) -> None:
    """Delete ``names`` and create them again, empty (retried while a deletion completes)."""
    from classpulse.kafka.admin import admin_client, create_topics, topic_names

    existing = set(topic_names(settings))
    doomed = [name for name in names if name in existing]
    if doomed:
        admin = admin_client(settings)  # held until the futures resolve
        for future in admin.delete_topics(doomed).values():
            future.result(60)
    deadline = time.monotonic() + 60
    while True:
        try:
            create_topics(settings, names)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def fresh_landing_tables(settings: Settings) -> None:
    """Drop every landing table: the next landing creates them empty."""
    from classpulse.loader import read_landing_tables
    from classpulse.warehouse import get_client

    client = get_client(settings)
    for table in read_landing_tables(settings.root):
        client.command(f"DROP TABLE IF EXISTS {table.table} SYNC")


# -- one run of each measurement -------------------------------------------------------------


def run_flink(
    settings: Settings, session: Any, tag: str, options: RealtimeOptions, console: Any = None
) -> tuple[float, list[float]]:
    """Every job, bounded at the topics' current ends, exactly once; (seconds from the first
    submission to the last commit, table registration excluded; seconds of each Flink job the
    runner submitted, when it says: bounded, the cleaning and the marts are two)."""
    from classpulse.flink import pipeline

    started = time.perf_counter()
    result = pipeline.run_bounded(
        settings,
        group=f"bench-flink-{tag}",
        variables={**dict(options.variables), "KAFKA_TRANSACTIONAL_ID_PREFIX": f"bench-{tag}"},
        parallelism=options.parallelism,
        session=session,
        console=console,
    )
    wall = time.perf_counter() - started
    waves = getattr(result, "waves", None) or []
    parts = [float(getattr(wave, "seconds", 0.0) or 0.0) for wave in waves]
    if sum(parts) > 0:
        return sum(parts), parts
    return wall - float(getattr(result, "startup_seconds", 0.0)), []


def run_flink_sustained(
    settings: Settings, session: Any, options: RealtimeOptions, report: Any, log: Callable
) -> Any:
    """The continuous job on the day already in Kafka (see classpulse.bench.sustained)."""
    from classpulse.bench.sustained import measure_sustained
    from classpulse.flink import pipeline

    _, middle, outputs = pipeline.pipeline_topics(settings)
    recreate_topics(settings, [*middle, *outputs])
    log("sustained: the continuous job on the produced backlog…")
    result = measure_sustained(
        settings,
        session,
        uuid.uuid4().hex[:6],
        report.messages,
        options.parallelism,
        dict(options.variables),
        log,
    )
    shown = [
        f"{name} {value:,.0f} msg/s" if value else f"{name} –"
        for name, value in (
            ("cleaning", result.first_stage_per_second),
            ("marts", result.later_stage_per_second),
        )
    ]
    log(f"sustained (10%..90% of the backlog): {', '.join(shown)}")
    return result


def run_landing(
    settings: Settings, tag: str, on_batch: Callable[[Any], None] | None = None
) -> tuple[float, dict[str, int]]:
    """Every landing topic into fresh tables with a fresh group; (seconds, rows per table)."""
    from classpulse.kafka.landing import land_from_kafka

    fresh_landing_tables(settings)
    report = land_from_kafka(
        settings, group=f"bench-landing-{tag}", timeout_s=3600, on_batch=on_batch
    )
    return report.seconds, dict(report.rows)


def chdb_structure(topics_dir: Path, topic: str, sample: int = 2000) -> str:
    """The columns ClickHouse infers from the topic's first valid lines (inference over the
    files themselves stops at the first malformed line)."""
    import chdb

    lines: list[str] = []
    for path in sorted((topics_dir / topic).glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    if isinstance(json.loads(line), dict):
                        lines.append(line.strip())
                except ValueError:
                    continue
                if len(lines) >= sample:
                    break
        if len(lines) >= sample:
            break
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as sample_file:
        sample_file.write("\n".join(lines))
        sample_file.flush()
        described = chdb.query(
            f"DESCRIBE file('{sample_file.name}', 'JSONEachRow')", "TabSeparated"
        )
    columns = [row.split("\t")[:2] for row in str(described).strip().splitlines()]
    return ", ".join(f"`{name}` {kind}" for name, kind in columns)


def chdb_parse(topics_dir: Path, topics: list[str], structures: dict[str, str]) -> float:
    """Seconds for the ClickHouse engine to parse every raw line as JSONEachRow into the
    inferred columns (malformed and mistyped lines skipped, as errors)."""
    import chdb

    started = time.perf_counter()
    for topic in topics:
        pattern = topics_dir / topic / "*.jsonl"
        chdb.query(
            f"SELECT * FROM file('{pattern}', 'JSONEachRow', '{structures[topic]}') SETTINGS "
            "input_format_allow_errors_ratio = 1, input_format_allow_errors_num = 1000000000, "
            "input_format_skip_unknown_fields = 1",
            "Null",
        )
    return time.perf_counter() - started


# -- freshness under a paced load ------------------------------------------------------------


def paced_templates(topics_dir: Path, limit: int = 20_000) -> list[dict[str, Any]]:
    """Valid generated student ``agora_record`` messages (those feed av_quality_30s), to send
    again with a live event time."""
    found: list[dict[str, Any]] = []
    for path in sorted((topics_dir / FRESHNESS_TOPIC).glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if (
                    isinstance(message, dict)
                    and isinstance(message.get("messageCreateTime"), int)
                    and message.get("user_type") == "student"
                    and isinstance(message.get("event"), str)
                    and message.get("classroom_id")
                ):
                    found.append(message)
                if len(found) >= limit:
                    return found
    if not found:
        raise ValueError(f"no valid student {FRESHNESS_TOPIC} messages under {topics_dir}")
    return found


def measure_freshness(
    settings: Settings,
    topics_dir: Path,
    options: RealtimeOptions,
    report: RealtimeReport,
    log: Callable[[str], None],
) -> None:
    from classpulse.flink import pipeline
    from classpulse.kafka.landing import land_from_kafka
    from classpulse.kafka.produce import TopicProducer
    from classpulse.warehouse import get_client

    templates = paced_templates(topics_dir)
    sources, middle, outputs = pipeline.pipeline_topics(settings)
    recreate_topics(settings, [*sources, *middle, *outputs])  # the paced messages only
    fresh_landing_tables(settings)
    tag = uuid.uuid4().hex[:8]
    delay = options.watermark_delay_seconds
    log(f"freshness: starting the continuous pipeline (watermark delay {delay} s)")
    started = time.perf_counter()
    try:
        pipeline.start(
            settings,
            fresh=True,
            group=f"bench-stream-{tag}",
            parallelism=options.parallelism,
            checkpoint_interval=options.checkpoint_interval,
            variables={
                **dict(options.variables),
                "WATERMARK_DELAY_SECONDS": str(delay),
                "KAFKA_GROUP_ID": f"bench-stream-{tag}",
            },
            wait=900,  # a busy machine deploys a job of ~200 tasks slowly
        )
        report.pipeline_start_seconds = time.perf_counter() - started
        stop = threading.Event()
        seen: dict[int, float] = {}  # window start (epoch ms) -> first wall time queryable (ms)
        errors: list[BaseException] = []

        def follow() -> None:
            try:
                land_from_kafka(
                    settings,
                    follow=True,
                    group=f"bench-follow-{tag}",
                    should_stop=stop.is_set,
                    batch_seconds=0.2,
                )
            except BaseException as exc:  # surfaced after the run
                errors.append(exc)

        def watch() -> None:
            reader = get_client(settings)
            try:
                while not stop.is_set():
                    with contextlib.suppress(Exception):  # the table may not exist yet
                        rows = reader.query(
                            f"SELECT DISTINCT toUnixTimestamp(start_time) FROM {FRESHNESS_TABLE}"
                        ).result_rows
                        now = time.time() * 1000
                        for (start,) in rows:
                            seen.setdefault(int(start) * 1000, now)
                    time.sleep(0.2)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=follow), threading.Thread(target=watch)]
        for thread in threads:
            thread.start()
        sent: list[int] = []  # wall ms at produce = the event time (measured phase only)
        closed_windows: set[int] = set()
        try:
            producer = TopicProducer(settings, extra={"linger.ms": 5})
            pacer = Pacer(producer, templates, options.rate)
            # warm-up: the job may still be deploying its tasks after start() returned; pace until
            # a first window is queryable, so only a running, warmed-up pipeline is measured
            log("freshness: warming up (paced load until a first window is queryable)")
            deadline = time.monotonic() + WARM_UP_TIMEOUT_S
            while not seen and not errors:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"freshness: no window queryable in {FRESHNESS_TABLE} after "
                        f"{WARM_UP_TIMEOUT_S:.0f} s of paced load"
                    )
                pacer.send_for(1.0)
            report.warm_up_messages = pacer.number
            log(f"freshness: paced load, {options.rate:g} msg/s for {options.pace_seconds:g} s")
            begun = time.monotonic()
            while time.monotonic() - begun < options.pace_seconds and not errors:
                sent.extend(
                    pacer.send_for(min(10.0, options.pace_seconds - (time.monotonic() - begun)))
                )
                log(f"freshness: {len(sent):,} sent, {len(seen)} windows queryable")
            producer.flush()
            closable = sent[-1] - delay * 1000 if sent else 0
            closed_windows = {
                event - event % FRESHNESS_WINDOW_MS
                for event in sent
                if event - event % FRESHNESS_WINDOW_MS + FRESHNESS_WINDOW_MS <= closable
            }
            # the last closable window needs the watermark, two checkpoints and a landing batch
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not closed_windows <= seen.keys() and not errors:
                time.sleep(0.25)
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
        if errors:
            raise errors[0]
    finally:
        pipeline.stop(settings, savepoint=False)  # also when start() itself failed
    report.paced_messages = len(sent)
    report.windows_seen = len(closed_windows & seen.keys())
    for event in sent:
        window = event - event % FRESHNESS_WINDOW_MS
        if window in closed_windows and window in seen:
            report.freshness_ms.append(seen[window] - event)
            report.after_close_ms.append(
                seen[window] - (window + FRESHNESS_WINDOW_MS + delay * 1000)
            )


class Pacer:
    """Sends template messages at a fixed rate, each with its send time as its event time."""

    def __init__(self, producer: Any, templates: list[dict[str, Any]], rate: float) -> None:
        self.producer = producer
        self.templates = templates
        self.interval = 1.0 / rate
        self.number = 0
        self.begun: float | None = None

    def send_for(self, seconds: float) -> list[int]:
        """Send for ``seconds`` on the schedule; the event times (epoch ms) sent."""
        if self.begun is None:
            self.begun = time.monotonic()
        until = time.monotonic() + seconds
        sent = []
        while True:
            due = self.begun + self.number * self.interval
            if due >= until:
                break
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            now_ms = int(time.time() * 1000)
            message = dict(self.templates[self.number % len(self.templates)])
            message["messageCreateTime"] = now_ms
            self.producer.send(
                FRESHNESS_TOPIC, json.dumps(message).encode(), str(message["classroom_id"]).encode()
            )
            sent.append(now_ms)
            self.number += 1
        return sent


# -- the benchmark ---------------------------------------------------------------------------


def generated_day(options: RealtimeOptions, log: Callable[[str], None]) -> Path:
    """The generated day (cached per scale under CLASSPULSE_HOME/bench)."""
    from classpulse import generator

    if options.topics_dir is not None:
        return options.topics_dir
    topics_dir = load_settings().home / "bench" / f"realtime-topics-scale-{options.scale:g}"
    if not (topics_dir / "_manifest.json").is_file():
        log(f"generating a scale {options.scale:g} day (~{options.messages:,} messages)")
        generator.generate(
            generator.GeneratorOptions(start=date(2026, 11, 20), seed=7, scale=options.scale),
            topics_dir,
            clean=True,
        )
    return topics_dir


def produce_day(settings: Settings, topics_dir: Path, sources: list[str]) -> dict[str, int]:
    """The day's files of every source topic into Kafka; the source topics the day has no
    files for are created empty (their jobs run on nothing)."""
    from classpulse.kafka.admin import create_topics
    from classpulse.kafka.produce import produce_directories
    from classpulse.topics import TOPICS

    create_topics(settings, sources)
    present = [topic for topic in sources if topic in TOPICS and (topics_dir / topic).is_dir()]
    produced = produce_directories(settings, topics_dir, present) if present else {}
    return {topic: produced.get(topic, 0) for topic in sources}


def run_realtime_benchmark(
    options: RealtimeOptions,
    log: Callable[[str], None] = lambda text: None,
    console: Any = None,
) -> RealtimeReport:
    """Run every measurement (see the module doc); ``console`` shows the Flink job's progress."""
    from classpulse.bench import realtime_labels
    from classpulse.flink import pipeline
    from classpulse.flink.session import FlinkSession, SessionOptions
    from classpulse.java import ensure_java_home
    from classpulse.kafka import broker
    from classpulse.warehouse import daemon, get_client

    ensure_java_home()
    report = RealtimeReport(options)
    topics_dir = generated_day(options, log)
    realtime_labels.add_live_classroom(topics_dir, options, report, log)
    scratch = Path(tempfile.mkdtemp(prefix="classpulse-bench-realtime-"))
    settings = bench_settings(scratch, options)
    started_broker = started_warehouse = False
    try:
        with bench_environment(settings, options):
            log(f"starting a broker ({settings.kafka_bootstrap_servers}) and a warehouse")
            broker.start(settings)
            started_broker = True
            daemon.start(settings)
            started_warehouse = True
            realtime_labels.publish_rooms(settings, report)

            started = time.perf_counter()
            session = FlinkSession(
                SessionOptions(
                    parallelism=options.parallelism,
                    checkpoint_dir=scratch / "checkpoints",
                    jars=pipeline.kafka_jars(),
                    timezone=settings.timezone,
                )
            )
            report.engine_start_seconds = time.perf_counter() - started
            log(f"Flink engine started in {report.engine_start_seconds:.1f} s (not measured)")
            sources, middle, outputs = pipeline.pipeline_topics(settings)
            log(f"producing the day into Kafka ({', '.join(sources)})")
            started = time.perf_counter()
            report.produced = produce_day(settings, topics_dir, sources)
            realtime_labels.produce_live_classroom(settings, topics_dir, report)
            report.produced_seconds = time.perf_counter() - started
            report.messages = sum(report.produced.values())
            log(
                f"produced {report.messages:,} messages in {report.produced_seconds:.1f} s "
                f"({report.messages / max(report.produced_seconds, 1e-9):,.0f} msg/s)"
            )
            on_disk = [topic for topic in sources if (topics_dir / topic).is_dir()]
            structures = {topic: chdb_structure(topics_dir, topic) for topic in on_disk}
            report.seconds = {name: [] for name in MEASUREMENTS}
            report.units = {"flink": report.messages, "chdb": report.messages}
            tag = ""
            for round_number in range(1, options.repeats + 1):
                tag = f"{round_number}-{uuid.uuid4().hex[:6]}"
                where = f"round {round_number}/{options.repeats}"
                realtime_labels.run_round(settings, session, tag, options, report, log, console)
                recreate_topics(settings, [*middle, *outputs])
                log(f"{where}: Flink, every job, exactly once…")
                try:
                    seconds, parts = run_flink(settings, session, tag, options, console)
                except Exception as exc:
                    # Seen once on a very busy machine: the planner's thread-local metadata
                    # provider (Calcite) missing when py4j served a call on another Java
                    # thread. The round is run again from scratch: new topics, group and ids.
                    if "metadataHandlerProvider" not in str(exc):
                        raise
                    log(f"{where}: the Flink planner failed (metadataHandlerProvider); again")
                    tag = f"{tag}-again"
                    recreate_topics(settings, [*middle, *outputs])
                    seconds, parts = run_flink(settings, session, tag, options, console)
                report.seconds["flink"].append(seconds)
                report.flink_jobs_seconds.append(parts)
                log(
                    f"{where}: Flink {report.messages / seconds:,.0f} msg/s ({seconds:.2f} s"
                    + (
                        f"; per job: {', '.join(f'{part:.2f} s' for part in parts)}"
                        if parts
                        else ""
                    )
                    + ")"
                )

                log(f"{where}: landing into ClickHouse…")
                last = [time.monotonic()]

                def on_batch(progress: Any, where: str = where, last: list = last) -> None:
                    if time.monotonic() - last[0] >= 2:
                        last[0] = time.monotonic()
                        log(f"{where}: landing, {sum(progress.rows.values()):,} rows so far")

                seconds, rows = run_landing(settings, tag, on_batch)
                report.seconds["landing"].append(seconds)
                report.units["landing"] = sum(rows.values())
                report.landed = rows
                log(
                    f"{where}: landing {report.units['landing'] / seconds:,.0f} rows/s "
                    f"({report.units['landing']:,} rows, {seconds:.2f} s)"
                )

                seconds = chdb_parse(topics_dir, on_disk, structures)
                report.seconds["chdb"].append(seconds)
                log(f"{where}: chDB {report.messages / seconds:,.0f} msg/s ({seconds:.2f} s)")

            report.identities, report.identities_hold = _identities(
                settings, get_client(settings), tag, report.produced
            )
            log(f"accounting identities after the last round: {report.identities}")
            report.sustained = run_flink_sustained(settings, session, options, report, log)
            measure_freshness(settings, topics_dir, options, report, log)
            if options.rooms:
                from classpulse.bench import realtime_rooms

                report.rooms = realtime_rooms.measure_rooms(
                    settings,
                    session,
                    realtime_rooms.RoomBenchLoad.quick() if options.quick else None,
                    options.repeats,
                    options.parallelism,
                    dict(options.variables),
                    log,
                )
            realtime_labels.measure_triage(settings, options, report, log)
    finally:
        if started_warehouse:
            daemon.stop(settings)
        if started_broker:
            broker.stop(settings)
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _identities(
    settings: Settings, client: Any, tag: str, produced: dict[str, int]
) -> tuple[str, bool]:
    """The accounting identities after the last round (that round's groups); (text, hold).

    A bounded Flink job commits its sources' offsets when a checkpoint completes, and the
    commit after its final checkpoint may be lost as the job ends; so for a bounded round
    "read" is checked as the job's own counters against what the benchmark produced, and the
    group's lag is only shown. Everything else is :func:`classpulse.kafka.accounting.account`'s:
    read = accepted + rejected, rejected = dead letters landed, accepted = cleaned rows landed,
    counted + late = in per mart, no row landed twice.
    """
    from classpulse.kafka.accounting import account

    result = account(
        settings, client, pipeline=f"bench-flink-{tag}", landing=f"bench-landing-{tag}"
    )
    broken = []
    for item in result.topics:
        problems = [text for text in item.problems if not text.startswith("offsets read")]
        expected = produced.get(item.topic, 0)
        if (item.flink_read or 0) != expected:
            problems.append(f"counted read {item.flink_read} != produced {expected}")
        if problems:
            broken.append(f"{item.topic}: {'; '.join(problems)}")
    broken += [f"{item.mart}: {'; '.join(item.problems)}" for item in result.marts if item.problems]
    if result.landing_lag:
        broken.append(f"landing lag {result.landing_lag:,}")
    lag = f" (Flink group's commit lag {result.pipeline_lag:,})" if result.pipeline_lag else ""
    if not broken:
        return "hold" + lag, True
    return "do NOT hold: " + " | ".join(broken) + lag, False


# -- output ----------------------------------------------------------------------------------


def write_results(report: RealtimeReport) -> None:
    """The JSON result file, and a plot beside it when matplotlib is installed."""
    path = report.options.output or (
        load_settings().home / "bench" / f"realtime-{time.strftime('%Y%m%d-%H%M%S')}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    report.result_file = path
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    from classpulse.bench import realtime_labels
    from classpulse.bench.realtime_rooms import plot_rooms

    figure, (bars, fresh, labels, rooms) = plt.subplots(1, 4, figsize=(23, 4.5))
    plot_rooms(report.rooms, rooms)
    names = [name for name in MEASUREMENTS if not math.isnan(report.rate(name))]
    rates = [report.rate(name) / 1000 for name in names]
    bars.bar(names, rates, color=["#4c72b0", "#55a868", "#8c8c8c"][: len(names)])
    for name, goal in GOALS.items():
        if name in names:
            spot = names.index(name)
            bars.hlines(goal / 1000, spot - 0.4, spot + 0.4, colors="red", linestyles="dashed")
    bars.set_ylabel("thousand per second (median)")
    bars.set_title(f"Throughput on {report.messages:,} messages (goals dashed)")
    if report.freshness_ms:
        fresh.hist([value / 1000 for value in report.freshness_ms], bins=40, color="#4c72b0")
        for share, style in ((0.5, "dotted"), (0.95, "dashed")):
            fresh.axvline(percentile(report.freshness_ms, share) / 1000, color="k", ls=style)
        fresh.axvline(FRESHNESS_WINDOW_MS / 1000 + 5, color="red", ls="dashed")
    fresh.set_xlabel("produce → queryable in rt (s); p50 dotted, p95 dashed, goal red")
    fresh.set_title("Freshness under a paced load")
    realtime_labels.plot(labels, report)
    figure.tight_layout()
    plot = path.with_suffix(".png")
    figure.savefig(plot, dpi=100)
    plt.close(figure)
    report.plot_file = plot


def print_realtime_benchmark(report: RealtimeReport, console: Any) -> None:
    from rich.table import Table

    options = report.options
    table = Table(
        title=(
            f"Real-time path on {report.messages:,} generated messages (median of "
            f"{options.repeats}, parallelism {options.parallelism}, {options.partitions} "
            "partitions per topic)"
        ),
        header_style="bold cyan",
    )
    for column in ("measurement", "units", "median", "per second", "goal", "vs flink"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    flink_rate = report.rate("flink")
    for name, (label, unit) in LABELS.items():
        values = report.seconds.get(name) or []
        rate = report.rate(name)
        goal = GOALS.get(name)
        table.add_row(
            label,
            f"{report.units.get(name, 0):,} {unit}",
            f"{statistics.median(values):.2f} s" if values else "–",
            f"{rate:,.0f} {unit}/s" if not math.isnan(rate) else "–",
            f"{goal:,.0f}/s" if goal else "",
            f"{rate / flink_rate:.2f}x" if flink_rate and not math.isnan(rate) else "–",
        )
    console.print(table)
    fresh = Table(
        title=(
            f"Freshness under a paced load ({options.rate:g} msg/s for {options.pace_seconds:g} s,"
            f" 30 s windows, watermark delay {options.watermark_delay_seconds} s, checkpoints "
            f"every {options.checkpoint_interval}; goal p95 ≤ 35 s)"
        ),
        header_style="bold cyan",
    )
    for column in ("measurement", "p50", "p95", "messages", "windows"):
        fresh.add_column(column, justify="left" if column == "measurement" else "right")

    def shown(values: list[float], share: float) -> str:
        value = percentile(values, share)
        return "–" if math.isnan(value) else f"{value / 1000:.2f} s"

    fresh.add_row(
        f"produce → queryable in {FRESHNESS_TABLE}",
        shown(report.freshness_ms, 0.5),
        shown(report.freshness_ms, 0.95),
        f"{len(report.freshness_ms):,} of {report.paced_messages:,}",
        str(report.windows_seen),
    )
    fresh.add_row(
        "window closable (end + delay) → queryable",
        shown(report.after_close_ms, 0.5),
        shown(report.after_close_ms, 0.95),
        "",
        "",
    )
    console.print(fresh)
    from classpulse.bench import realtime_labels

    realtime_labels.print_figures(report, console)
    produce_rate = report.messages / report.produced_seconds if report.produced_seconds else 0.0
    console.print(
        f"produce into Kafka: {produce_rate:,.0f} msg/s; Flink engine start (once, not "
        f"measured): {report.engine_start_seconds:.1f} s; continuous pipeline start: "
        f"{report.pipeline_start_seconds:.1f} s"
    )
    sustained = report.sustained
    if sustained is not None:
        rates = [
            f"{name} {value:,.0f} msg/s" if value else f"{name} –"
            for name, value in (
                ("cleaning sources", sustained.first_stage_per_second),
                ("mart sources", sustained.later_stage_per_second),
            )
        ]
        console.print(
            "Flink, continuous job on the produced backlog (10%..90%; planning, deploy and the "
            f"tail outside it): {'; '.join(rates)}; everything read "
            + (
                f"{sustained.caught_up_seconds:.1f} s after submission"
                if sustained.caught_up_seconds is not None
                else "– (not caught up)"
            )
        )
    console.print(f"accounting identities after the last round: {report.identities}")
    from classpulse.bench.realtime_rooms import print_rooms

    print_rooms(report.rooms, console)
    if report.result_file is not None:
        console.print(f"results: {report.result_file}")
    if report.plot_file is not None:
        console.print(f"plot: {report.plot_file}")
    console.print(
        "[dim]Figures taken on a busy machine are not valid: compare only within one run.[/dim]"
    )
