"""The real-time path's throughput and freshness, side by side in one run (issue 10).

On the same generated day, produced once into a Kafka broker of the benchmark's own (and a
warehouse of its own, both stopped at the end), each round measures in turn:

- ``flink``: every job of ``flink_sql/jobs`` over the ``kafka`` connector set, bounded
  (``scan.bounded.mode = latest-offset``), exactly once (checkpoints, Kafka transactions):
  source messages per second from the first job's submission to the last sink's commit, the
  engine's start excluded (paid once per process). Bounded, the cleaned topics must be complete
  before the marts read them, so the jobs run as two statement sets (cleaning, then marts);
  the continuous pipeline runs them as one.
- ``landing``: every output topic into its ClickHouse landing table (fresh tables, a fresh
  group) with :class:`classpulse.kafka.landing.LandingConsumer`: rows per second.
- ``chDB``: the ClickHouse engine parsing the same raw JSON lines (``JSONEachRow`` into
  inferred columns, malformed lines skipped): the ceiling this machine sets.

Rounds alternate the three so machine noise hits them alike; medians of ``repeats``. Before
each round the output topics are deleted and created again, so every round works on one day.

Then ``freshness``: the cleaning and mart jobs of ``agora_record`` run continuously, the landing
follows, and generated ``agora_record`` messages are produced at a fixed rate with their event
time set to the moment they are sent. For each message: the time from its produce to the first
moment its 30 s window is queryable in ``rt.av_quality_30s_log``, p50 and p95 (only windows the
watermark has closed count); and the part of it after the window could close (window end +
watermark delay), which is the pipeline's own latency.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from classpulse.config import Settings, load_settings

FRESHNESS_TOPIC = "agora_record"
FRESHNESS_JOBS = ("clean_agora_record", "mart_av_quality_30s")
FRESHNESS_TABLE = "rt.av_quality_30s_log"
FRESHNESS_WINDOW_MS = 30_000


@dataclass(frozen=True)
class RealtimeOptions:
    scale: float = 8.0  # ~1.1M messages
    repeats: int = 3
    parallelism: int = 2
    partitions: int = 2
    checkpoint_interval: str = "2 s"
    rate: float = 2000.0  # paced messages per second (freshness)
    pace_seconds: float = 120.0
    watermark_delay_seconds: int = 10
    topics_dir: Path | None = None
    quick: bool = False

    @classmethod
    def quick_options(cls) -> RealtimeOptions:
        """A smoke run: a small day, one round, a short paced load with a 2 s watermark."""
        return cls(
            scale=0.03,
            repeats=1,
            rate=100.0,
            pace_seconds=40.0,
            watermark_delay_seconds=2,
            checkpoint_interval="1 s",
            quick=True,
        )


@dataclass
class RealtimeReport:
    options: RealtimeOptions
    messages: int = 0
    produced_seconds: float = 0.0
    engine_start_seconds: float = 0.0
    seconds: dict[str, list[float]] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)  # messages or rows per measurement
    freshness_ms: list[float] = field(default_factory=list)
    after_close_ms: list[float] = field(default_factory=list)
    paced_messages: int = 0
    windows_seen: int = 0
    identities: str = ""
    flink_runner: str = ""

    def rate(self, name: str) -> float:
        values = self.seconds.get(name) or []
        return self.units.get(name, 0) / statistics.median(values) if values else float("nan")


def percentile(values: list[float], share: float) -> float:
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


# -- one run of each measurement -------------------------------------------------------------


class FlinkPipeline:
    """The job files over the kafka connector set in one PyFlink session."""

    def __init__(self, settings: Settings, options: RealtimeOptions, checkpoints: Path) -> None:
        from classpulse.flink.session import FlinkSession, SessionOptions
        from classpulse.flink.sqlfiles import discover_jobs, plan_waves, read_connector_tables
        from classpulse.jvm import flink_kafka_connector_jar

        self.settings = settings
        self.options = options
        self.tables = read_connector_tables(settings.root, "kafka")
        names = [table.name for table in self.tables]
        self.topic_of = {table.name: _topic_option(table.ddl) for table in self.tables}
        self.jobs = discover_jobs(settings.root, names)
        self.waves = plan_waves(self.jobs)
        self.copies: list[str] = []
        self.variables: Any = None
        self.runner = ""
        self.entry_failed: str | None = None
        self.session = FlinkSession(
            SessionOptions(
                parallelism=options.parallelism,
                checkpoint_dir=checkpoints,
                checkpoint_interval=options.checkpoint_interval,
                jars=(flink_kafka_connector_jar().as_uri(),),
                # a partition with nothing new must not hold the watermark back
                extra={"table.exec.source.idle-timeout": "2 s"},
            )
        )

    @property
    def source_topics(self) -> list[str]:
        written = set().union(*(job.outputs for job in self.jobs))
        read = set().union(*(job.inputs for job in self.jobs))
        return sorted({self.topic_of[name] for name in read - written if self.topic_of[name]})

    @property
    def output_topics(self) -> list[str]:
        written = set().union(*(job.outputs for job in self.jobs))
        return sorted({self.topic_of[name] for name in written if self.topic_of[name]})

    def register(self, tag: str, table_options: dict[str, dict[str, str]]) -> None:
        from classpulse.flink.variables import resolve_variables

        variables = resolve_variables(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.settings.kafka_bootstrap_servers,
                "KAFKA_GROUP_ID": f"bench-flink-{tag}",
                "KAFKA_TRANSACTIONAL_ID_PREFIX": f"bench-{tag}",
                "WATERMARK_DELAY_SECONDS": str(self.options.watermark_delay_seconds),
                "RECORDED_COURSE_LOOKBACK": self.settings.recorded_course_lookback,
            }
        )
        self.session.drop_views()
        for name in self.copies:
            self.session.table_env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS `{name}`")
        self.copies = []
        self.session.register_tables(self.tables, variables)
        self.variables = variables
        for name, values in table_options.items():
            self.session.set_table_options(name, values)

    def inserts(self, jobs: list[Any], tag: str) -> list[str]:
        """The INSERTs of ``jobs`` for one statement set.

        Several cleaning jobs write the same sink (``rejected_messages``, ``topic_accounting``);
        in one Flink job every Kafka sink needs its own transactional id prefix, so each job
        writes such a sink through a copy of its own (``CREATE TEMPORARY TABLE ... LIKE``)
        with a prefix of its own. The streaming pipeline solves the same in its own module.
        """
        writers: dict[str, int] = {}
        for job in jobs:
            for target in job.outputs:
                writers[target] = writers.get(target, 0) + 1
        statements = []
        for job in jobs:
            for target, statement in job.inserts:
                if writers[target] > 1:
                    copy = f"{target}__{job.name}"
                    if copy not in self.copies:
                        self.session.table_env.execute_sql(
                            f"CREATE TEMPORARY TABLE `{copy}` WITH ("
                            f"'sink.transactional-id-prefix' = 'bench-{tag}-{job.name}-{target}'"
                            f") LIKE `{target}`"
                        )
                        self.copies.append(copy)
                    statement = re.sub(
                        rf"^(\s*(?:--[^\n]*\n\s*)*INSERT\s+INTO\s+)`?{target}`?\b",
                        rf"\g<1>`{copy}`",
                        statement,
                        count=1,
                        flags=re.I,
                    )
                statements.append(self.render(statement, job))
        return statements

    def render(self, statement: str, job: Any) -> str:
        """A job file's statement with its ``${VAR}``s filled (strictly)."""
        from classpulse.flink.variables import render

        return render(statement, self.variables, str(job.path))

    def run_bounded(self, tag: str) -> float:
        """Every job, bounded at the topics' current ends; seconds of wall time.

        Uses the streaming pipeline's own bounded entry point
        (``classpulse.flink.pipeline.run_bounded``) when the project has it, in this session;
        else runs the job files here (two statement sets, per-job sink copies).
        """
        entry = _pipeline_entry("run_bounded")
        if entry is not None and not self.entry_failed:
            started = time.perf_counter()
            try:
                entry(
                    self.settings,
                    group=f"bench-flink-{tag}",
                    variables={
                        "KAFKA_TRANSACTIONAL_ID_PREFIX": f"bench-{tag}",
                        "WATERMARK_DELAY_SECONDS": str(self.options.watermark_delay_seconds),
                    },
                    parallelism=self.options.parallelism,
                    session=self.session,
                )
                self.runner = "classpulse.flink.pipeline.run_bounded"
                return time.perf_counter() - started
            except Exception as exc:  # said in the report, then measured with the job files
                self.entry_failed = f"{type(exc).__name__}: {str(exc)[:300]}"
        self.runner = "the job files in one session (bench)"
        inputs = set().union(*(job.inputs for job in self.jobs))
        self.register(tag, {name: {"scan.bounded.mode": "latest-offset"} for name in inputs})
        started = time.perf_counter()
        for wave in self.waves:
            self.session.drop_views()
            for job in wave:
                for view, statement in job.views:
                    self.session.create_view(view, self.render(statement, job))
            self.session.statement_set(self.inserts(wave, tag)).execute().wait()
        return time.perf_counter() - started

    def start_continuous(self, tag: str, jobs: tuple[str, ...]) -> Any:
        """``jobs`` running continuously from the current ends of their inputs; the job client."""
        chosen = [job for job in self.jobs if job.name in jobs]
        inputs = set().union(*(job.inputs for job in chosen))
        self.register(tag, {name: {"scan.startup.mode": "latest-offset"} for name in inputs})
        for job in chosen:
            for view, statement in job.views:
                self.session.create_view(view, self.render(statement, job))
        result = self.session.statement_set(self.inserts(chosen, tag)).execute()
        return result.get_job_client()


def _pipeline_entry(name: str) -> Callable[..., Any] | None:
    """An entry point of the streaming pipeline module, when the project has it."""
    import importlib

    try:
        module = importlib.import_module("classpulse.flink.pipeline")
    except ImportError:
        return None
    return getattr(module, name, None)


def _topic_option(ddl: str) -> str | None:
    match = re.search(r"'topic'\s*=\s*'([^']+)'", ddl)
    return match.group(1) if match else None


def land_all(settings: Settings, tag: str, *, fresh_tables: bool = True) -> int:
    """Land every landing topic into fresh tables with a fresh group; rows landed."""
    from classpulse.kafka.admin import create_topics
    from classpulse.kafka.landing import LandingConsumer
    from classpulse.loader import create_landing_tables, read_landing_tables
    from classpulse.warehouse import get_client

    client = get_client(settings)
    tables = read_landing_tables(settings.root)
    if fresh_tables:
        for table in tables:
            client.command(f"DROP TABLE IF EXISTS {table.table} SYNC")
    create_landing_tables(client, tables)
    create_topics(settings, [table.topic for table in tables])
    consumer = LandingConsumer(settings, tables, client, group=f"bench-landing-{tag}")
    try:
        report = consumer.run(until_caught_up=True, timeout_s=3600)
    finally:
        consumer.close()
    return sum(report.rows.values())


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
    data = "\n".join(lines).replace("\\", "\\\\").replace("'", "\\'")
    described = chdb.query(f"DESCRIBE format(JSONEachRow, '{data}')", "TabSeparated")
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
    """Valid generated ``agora_record`` messages, to send again with a live event time."""
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
                    and "messageCreateTime" in message
                    and isinstance(message.get("user_type"), str)
                    and message.get("event")
                ):
                    found.append(message)
                if len(found) >= limit:
                    return found
    if not found:
        raise ValueError(f"no {FRESHNESS_TOPIC} messages under {topics_dir}")
    return found


def measure_freshness(
    settings: Settings,
    pipeline: FlinkPipeline,
    topics_dir: Path,
    options: RealtimeOptions,
    report: RealtimeReport,
    log: Callable[[str], None],
) -> None:
    from classpulse.kafka.admin import create_topics
    from classpulse.kafka.landing import LandingConsumer
    from classpulse.kafka.produce import TopicProducer
    from classpulse.loader import create_landing_tables, read_landing_tables
    from classpulse.warehouse import get_client

    templates = paced_templates(topics_dir)
    recreate_topics(settings, pipeline.output_topics)
    tables = read_landing_tables(settings.root)
    client = get_client(settings)
    for table in tables:
        client.command(f"DROP TABLE IF EXISTS {table.table} SYNC")
    create_landing_tables(client, tables)
    create_topics(settings, [table.topic for table in tables])
    tag = uuid.uuid4().hex[:8]
    job = pipeline.start_continuous(tag, FRESHNESS_JOBS)
    stop = threading.Event()
    seen: dict[int, float] = {}  # window start (epoch ms) -> first wall time queryable (ms)
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            consumer = LandingConsumer(
                settings,
                tables,
                get_client(settings),
                group=f"bench-follow-{tag}",
                batch_seconds=0.2,
            )
            try:
                consumer.run(should_stop=stop.is_set)
            finally:
                consumer.close()
        except BaseException as exc:  # surfaced after the run
            errors.append(exc)

    def watch() -> None:
        reader = get_client(settings)
        try:
            while not stop.is_set():
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
    sent: list[tuple[float, int]] = []  # (wall ms at produce, event ms)
    try:
        _wait_running(job, 120)
        time.sleep(3)  # the sources have looked up their start offsets
        log(f"paced load: {options.rate:g} msg/s for {options.pace_seconds:g} s")
        producer = TopicProducer(settings, extra={"linger.ms": 5})
        interval = 1.0 / options.rate
        started = time.monotonic()
        number = 0
        while time.monotonic() - started < options.pace_seconds:
            due = started + number * interval
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            now_ms = int(time.time() * 1000)
            message = dict(templates[number % len(templates)])
            message["messageCreateTime"] = now_ms
            key = str(message.get("classroom_id") or number).encode()
            producer.send(FRESHNESS_TOPIC, json.dumps(message).encode(), key)
            sent.append((float(now_ms), now_ms))
            number += 1
        producer.flush()
        last_event = sent[-1][1] if sent else 0
        closable = last_event - options.watermark_delay_seconds * 1000
        # the last closable window needs the watermark, a checkpoint and a landing batch
        closed_windows = {
            event - event % FRESHNESS_WINDOW_MS
            for _, event in sent
            if event - event % FRESHNESS_WINDOW_MS + FRESHNESS_WINDOW_MS <= closable
        }
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not closed_windows <= seen.keys():
            time.sleep(0.25)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        with contextlib.suppress(Exception):  # already finished or failed
            job.cancel().result()
    if errors:
        raise errors[0]
    delay_ms = options.watermark_delay_seconds * 1000
    report.paced_messages = len(sent)
    report.windows_seen = len(closed_windows & seen.keys())
    for produced_ms, event in sent:
        window = event - event % FRESHNESS_WINDOW_MS
        if window in closed_windows and window in seen:
            report.freshness_ms.append(seen[window] - produced_ms)
            report.after_close_ms.append(seen[window] - (window + FRESHNESS_WINDOW_MS + delay_ms))


def _wait_running(job: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = str(job.get_job_status().result())
        if status.endswith("RUNNING"):
            return
        if status.endswith(("FAILED", "CANCELED", "FINISHED")):
            raise RuntimeError(f"the continuous Flink job ended: {status}")
        time.sleep(0.5)
    raise RuntimeError("the continuous Flink job did not start running")


# -- the benchmark ---------------------------------------------------------------------------


def generated_day(settings: Settings, options: RealtimeOptions, log: Callable[[str], None]) -> Path:
    """The generated day (cached per scale under CLASSPULSE_HOME/bench)."""
    from classpulse import generator

    if options.topics_dir is not None:
        return options.topics_dir
    topics_dir = load_settings().home / "bench" / f"realtime-topics-scale-{options.scale:g}"
    if not (topics_dir / "_manifest.json").is_file():
        log(f"generating a scale {options.scale:g} day into {topics_dir}")
        generator.generate(
            generator.GeneratorOptions(start=date(2026, 11, 20), seed=7, scale=options.scale),
            topics_dir,
            clean=True,
        )
    return topics_dir


def run_realtime_benchmark(
    options: RealtimeOptions, log: Callable[[str], None] = lambda text: None
) -> RealtimeReport:
    from classpulse.java import ensure_java_home
    from classpulse.kafka import broker
    from classpulse.kafka.produce import produce_directories
    from classpulse.warehouse import daemon, get_client

    ensure_java_home()
    report = RealtimeReport(options)
    scratch = Path(tempfile.mkdtemp(prefix="classpulse-bench-realtime-"))
    settings = bench_settings(scratch, options)
    topics_dir = generated_day(settings, options, log)
    started_broker = started_warehouse = False
    try:
        log(f"starting a broker ({settings.kafka_bootstrap_servers}) and a warehouse of our own")
        broker.start(settings)
        started_broker = True
        daemon.start(settings)
        started_warehouse = True

        started = time.perf_counter()
        engine = FlinkPipeline(settings, options, scratch / "checkpoints")
        report.engine_start_seconds = time.perf_counter() - started
        sources = engine.source_topics
        log("producing the day into Kafka")
        started = time.perf_counter()
        produced = produce_directories(settings, topics_dir, sources)
        report.produced_seconds = time.perf_counter() - started
        report.messages = sum(produced.values())

        structures = {topic: chdb_structure(topics_dir, topic) for topic in sources}
        report.seconds = {"flink": [], "landing": [], "chdb": []}
        report.units = {"flink": report.messages, "chdb": report.messages}
        for round_number in range(options.repeats):
            tag = f"{round_number}-{uuid.uuid4().hex[:6]}"
            recreate_topics(settings, engine.output_topics)
            log(f"round {round_number + 1}/{options.repeats}: Flink, all jobs, exactly once")
            report.seconds["flink"].append(engine.run_bounded(tag))
            log(f"round {round_number + 1}/{options.repeats}: landing into ClickHouse")
            started = time.perf_counter()
            rows = land_all(settings, tag)
            report.seconds["landing"].append(time.perf_counter() - started)
            report.units["landing"] = rows
            log(f"round {round_number + 1}/{options.repeats}: chDB on the raw JSON")
            report.seconds["chdb"].append(chdb_parse(topics_dir, sources, structures))

        report.flink_runner = engine.runner + (
            f" (the pipeline's entry point failed: {engine.entry_failed})"
            if engine.entry_failed
            else ""
        )
        report.identities = _identities(settings, get_client(settings), engine, tag)
        log("freshness under a paced load")
        measure_freshness(settings, engine, topics_dir, options, report, log)
    finally:
        if started_warehouse:
            daemon.stop(settings)
        if started_broker:
            broker.stop(settings)
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _identities(settings: Settings, client: Any, engine: FlinkPipeline, tag: str) -> str:
    """The accounting by offsets after the last round (the pipeline's group of that round)."""
    from classpulse.kafka.accounting import account

    result = account(
        settings, client, pipeline=f"bench-flink-{tag}", landing=f"bench-landing-{tag}"
    )
    broken = [
        f"{item.topic}: {'; '.join(item.problems)}" for item in result.topics if item.problems
    ]
    broken += [f"{item.mart}: {'; '.join(item.problems)}" for item in result.marts if item.problems]
    if result.holds:
        return "hold" + ("" if result.caught_up else " (not at rest)")
    if not result.caught_up:
        # a bounded Flink job commits its sources' offsets at checkpoints; the last one may stay
        # uncommitted when the job ends, so a bounded round is not "at rest" by offsets
        return (
            f"not at rest (pipeline group lag {result.pipeline_lag:,}, landing lag "
            f"{result.landing_lag:,}): " + " | ".join(broken)
        )
    return "do NOT hold: " + " | ".join(broken)


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
    for column in ("measurement", "units", "median", "per second", "vs flink"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    labels = {
        "flink": ("Kafka → all cleaning + marts → Kafka, exactly once", "messages"),
        "landing": ("Kafka → ClickHouse landing", "rows"),
        "chdb": ("chDB parsing the same raw JSON (ceiling)", "messages"),
    }
    flink_rate = report.rate("flink")
    for name, (label, unit) in labels.items():
        values = report.seconds.get(name) or []
        rate = report.rate(name)
        table.add_row(
            label,
            f"{report.units.get(name, 0):,} {unit}",
            f"{statistics.median(values):.2f} s" if values else "–",
            f"{rate:,.0f} {unit}/s",
            f"{rate / flink_rate:.2f}x" if flink_rate else "–",
        )
    console.print(table)
    fresh = Table(
        title=(
            f"Freshness under a paced load ({options.rate:g} msg/s for {options.pace_seconds:g} s,"
            f" 30 s windows, watermark delay {options.watermark_delay_seconds} s)"
        ),
        header_style="bold cyan",
    )
    for column in ("measurement", "p50", "p95", "messages", "windows"):
        fresh.add_column(column, justify="left" if column == "measurement" else "right")
    fresh.add_row(
        "produce → queryable in rt.av_quality_30s_log",
        f"{percentile(report.freshness_ms, 0.5) / 1000:.2f} s",
        f"{percentile(report.freshness_ms, 0.95) / 1000:.2f} s",
        f"{len(report.freshness_ms):,} of {report.paced_messages:,}",
        str(report.windows_seen),
    )
    fresh.add_row(
        "window closable (end + delay) → queryable",
        f"{percentile(report.after_close_ms, 0.5) / 1000:.2f} s",
        f"{percentile(report.after_close_ms, 0.95) / 1000:.2f} s",
        "",
        "",
    )
    console.print(fresh)
    console.print(f"Flink measured with: {report.flink_runner}")
    console.print(
        f"produce into Kafka: {report.messages / report.produced_seconds:,.0f} msg/s; "
        f"Flink engine start (once): {report.engine_start_seconds:.1f} s; "
        f"accounting identities after the last round: {report.identities}"
    )
