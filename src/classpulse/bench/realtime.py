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
- ``copy``: Flink doing nothing but copy the same raw messages Kafka → Kafka, exactly once, the
  same way (:mod:`.realtime_copy`): Flink's own ceiling here, what the pipeline is read against.
- ``chdb``: the ClickHouse engine parsing the same raw JSON lines (``JSONEachRow`` into the
  columns it infers, malformed lines skipped): the ceiling this machine sets for the parse.

The bounded figure includes what each run pays again: planning each stage's statement set,
a mini-cluster and the tasks' deployment per stage, the final checkpoint, and the marts waiting
for the cleaning's commit. Planning (from a stage's start to its job's submission: the
statement set's optimisation, code generation, submission) is also taken apart for ``flink``
and ``copy``: their rates without it are what the jobs run at once planned. After the rounds,
``flink_sustained`` (:mod:`classpulse.bench.sustained`) runs every job as the continuous
pipeline on the day still in Kafka and reports the rate between 10 % and 90 % of the backlog:
what a running pipeline sustains. All of these figures are reported.

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

The parts: :mod:`.realtime_setup` (options, the benchmark's own stack), :mod:`.realtime_phases`
(one run of each measurement), :mod:`.realtime_freshness` (the paced load),
:mod:`.realtime_results` (the report, result file, plot and printed tables).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from classpulse.bench.realtime_copy import committed_records, copy_tree, run_flink_copy
from classpulse.bench.realtime_freshness import WARM_UP_TIMEOUT_S as WARM_UP_TIMEOUT_S
from classpulse.bench.realtime_freshness import measure_freshness
from classpulse.bench.realtime_phases import (
    chdb_parse,
    chdb_structure,
    run_flink,
    run_flink_sustained,
    run_landing,
)
from classpulse.bench.realtime_results import MEASUREMENTS, RealtimeReport
from classpulse.bench.realtime_results import percentile as percentile
from classpulse.bench.realtime_setup import (
    RealtimeOptions,
    again_after_planner_race,
    bench_environment,
    bench_settings,
    recreate_topics,
)
from classpulse.bench.realtime_setup import fresh_landing_tables as fresh_landing_tables
from classpulse.config import Settings, load_settings


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
            report.units = {name: report.messages for name in ("flink", "copy", "chdb")}
            report.planning = {"flink": [], "copy": []}
            copies = copy_tree(settings, scratch)
            tag = ""
            for round_number in range(1, options.repeats + 1):
                tag = f"{round_number}-{uuid.uuid4().hex[:6]}"
                where = f"round {round_number}/{options.repeats}"
                realtime_labels.run_round(settings, session, tag, options, report, log, console)
                recreate_topics(settings, [*middle, *outputs, *copies])
                log(f"{where}: Flink, every job, exactly once…")
                (seconds, parts, planning), tag = again_after_planner_race(
                    lambda tag: run_flink(settings, session, tag, options, console),
                    tag,
                    lambda: recreate_topics(settings, [*middle, *outputs]),
                    lambda line, where=where: log(f"{where}: {line}"),
                )
                report.seconds["flink"].append(seconds)
                report.flink_jobs_seconds.append(parts)
                report.planning["flink"].append(sum(planning))
                log(
                    f"{where}: Flink {report.messages / seconds:,.0f} msg/s ({seconds:.2f} s"
                    + (
                        f"; per job: {', '.join(f'{part:.2f} s' for part in parts)}"
                        f", of which planning {', '.join(f'{part:.2f} s' for part in planning)}"
                        if parts
                        else ""
                    )
                    + ")"
                )

                log(f"{where}: Flink copying the same raw topics, exactly once (its ceiling)…")
                (seconds, planning), tag = again_after_planner_race(
                    lambda tag: run_flink_copy(
                        settings,
                        session,
                        tag,
                        scratch,
                        options.parallelism,
                        dict(options.variables),
                        console,
                    ),
                    tag,
                    lambda: recreate_topics(settings, copies),
                    lambda line, where=where: log(f"{where}: {line}"),
                )
                report.seconds["copy"].append(seconds)
                report.planning["copy"].append(planning)
                log(
                    f"{where}: copy {report.messages / seconds:,.0f} msg/s ({seconds:.2f} s, "
                    f"of which planning {planning:.2f} s)"
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

            report.copy_committed = committed_records(settings, copies)
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
