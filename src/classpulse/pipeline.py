"""The pipeline's stages, one function each: what Airflow tasks, the demo and tests run.

Each stage takes :class:`Settings` (every endpoint comes from there), does one thing, and
returns a small JSON-able summary (Airflow keeps it as the task's XCom; the demo prints it).
A stage that fails raises :class:`StageError` naming the stage, why, and what to do.

    generate  → (produce) → flink → load → preheat → build → quality → report

Kafka is the only transport: topic files are an import format, produced into Kafka once
(:func:`produce`); the Flink pipeline reads and writes Kafka topics; the landing lands them.

Every stage is safe to re-run: generation writes a fresh day, a file is produced into Kafka
once, the pipeline reads from its group's committed offsets, landing is exactly-once, preheat
publishes a new run, dbt replaces partitions, quality only reads, the report is rewritten.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from classpulse.config import Settings


class StageError(RuntimeError):
    """A stage failed; the message says which stage, why, and what to do."""

    def __init__(self, stage: str, reason: str, remedy: str) -> None:
        super().__init__(f"[stage: {stage}] {reason}\n  what to do: {remedy}")
        self.stage = stage
        self.reason = reason
        self.remedy = remedy


Progress = Callable[[str], None]


def _timed(summary: dict[str, Any], started: float) -> dict[str, Any]:
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


def ensure_warehouse(settings: Settings) -> dict[str, Any]:
    """Start the embedded warehouse if it is the configured one and not answering."""
    from classpulse.warehouse import create_layer_databases, daemon, get_client

    started = time.perf_counter()
    answering = daemon.ping(settings.clickhouse_host, settings.clickhouse_port)
    if not answering and settings.is_embedded:
        try:
            daemon.start(settings)
        except daemon.WarehouseError as exc:
            raise StageError("warehouse", str(exc), "see `classpulse warehouse logs`") from None
    try:
        client = get_client(settings)
        create_layer_databases(client)
        version = client.server_version
    except Exception as exc:
        raise StageError(
            "warehouse",
            f"cannot use ClickHouse at {settings.clickhouse_url}: {exc}",
            "check CLASSPULSE_CLICKHOUSE_* (`classpulse doctor`)",
        ) from None
    return _timed(
        {"url": settings.clickhouse_url, "version": version, "started": not answering}, started
    )


def generate(
    settings: Settings,
    day: date,
    scale: float = 1.0,
    seed: int = 1,
    late_share: float = 0.002,
    topics_dir: Path | None = None,
) -> dict[str, Any]:
    """Write a simulated school day (contract topics + preheat inputs) as topic files."""
    from classpulse import generator, preheat_generator

    started = time.perf_counter()
    out = topics_dir or settings.topics_dir
    try:
        result = generator.generate(
            generator.GeneratorOptions(
                start=day, seed=seed, scale=scale, late_share=late_share, timezone=settings.timezone
            ),
            out,
            clean=True,
        )
        preheat_generator.generate(
            preheat_generator.PreheatGeneratorOptions(day=day, seed=seed, scale=scale), out
        )
    except generator.GeneratorError as exc:
        raise StageError("generate", str(exc), "check the generator options") from None
    topics = result.manifest["topics"]
    return _timed(
        {
            "topics_dir": str(out),
            "messages": result.messages,
            "rejected_planted": sum(t.get("rejected_total", 0) for t in topics.values()),
            "late_planted": sum(t.get("late_events", 0) for t in topics.values()),
        },
        started,
    )


def ensure_kafka(settings: Settings) -> dict[str, Any]:
    """Start the local broker if it is the configured one and not answering; create every
    topic the pipeline, the landing and the topic files use (missing ones only)."""
    from classpulse.kafka import broker
    from classpulse.kafka.admin import create_topics
    from classpulse.kafka.client import KafkaUnavailable
    from classpulse.kafka.feed import input_topics

    started = time.perf_counter()
    bootstrap = settings.kafka_bootstrap_servers
    answering = broker.answers(bootstrap, 2.0)[0]
    if not answering:
        if not settings.kafka_is_local:
            raise StageError(
                "kafka",
                f"the Kafka cluster at {bootstrap} does not answer",
                "check CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS and the brokers (`classpulse doctor`)",
            )
        try:
            broker.start(settings)
        except broker.BrokerError as exc:
            # another stage may be starting it right now: give it the start-up time
            deadline = time.monotonic() + 90
            while not broker.answers(bootstrap, 2.0)[0]:
                if time.monotonic() > deadline or broker.status(settings).pid is None:
                    raise StageError(
                        "kafka", str(exc), "see `classpulse kafka status` and its log"
                    ) from None
                time.sleep(1.0)
    try:
        from classpulse.flink.pipeline import pipeline_topics
        from classpulse.loader import read_landing_tables

        sources, middle, outputs = pipeline_topics(settings)
        landing = [table.topic for table in read_landing_tables(settings.root)]
        names = sorted({*sources, *middle, *outputs, *landing, *input_topics(settings)})
        created = create_topics(settings, names)
    except KafkaUnavailable as exc:
        raise StageError(
            "kafka", str(exc), "check the broker (`classpulse kafka status`)"
        ) from None
    return _timed(
        {"bootstrap": bootstrap, "started": not answering, "topics_created": len(created)},
        started,
    )


def produce(
    settings: Settings, topics_dir: Path | None = None, topics: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Publish the topic files not produced yet into Kafka (see ``classpulse.kafka.feed``).

    Every topic Kafka carries from outside (the pipeline's sources, the preheat inputs) by
    default, ``topics`` only when given. Once per file: a stage run again sends nothing twice.
    """
    from classpulse.kafka.client import KafkaUnavailable
    from classpulse.kafka.feed import feed_directory
    from classpulse.kafka.produce import ProduceError

    started = time.perf_counter()
    directory = topics_dir or settings.topics_dir
    if not directory.is_dir():
        return _timed({"topics_dir": str(directory), "messages": 0, "topics": {}}, started)
    try:
        sent = feed_directory(settings, directory, topics or None)
    except (KafkaUnavailable, ProduceError) as exc:
        raise StageError(
            "produce", str(exc), "check the broker (`classpulse kafka status`), then re-run"
        ) from None
    return _timed(
        {"topics_dir": str(directory), "messages": sum(sent.values()), "topics": sent}, started
    )


def start_from_empty_topics(settings: Settings) -> dict[str, Any]:
    """The local demo's fresh start: empty every topic of the local broker and the landing
    tables, so a newly generated day is the only one in the real-time path.

    Records are deleted up to each partition's end (offsets keep growing, the consumer groups'
    commits stay valid) and the landing tables truncated: the same as the day's topics
    replacing the previous ones. Never on a Kafka cluster (CLASSPULSE_KAFKA_BOOTSTRAP_SERVERS
    not the local broker), nor under a running continuous pipeline (its counters go on).
    """
    from classpulse.flink import pipeline as streaming
    from classpulse.kafka.admin import admin_client, describe_topics
    from classpulse.loader import read_landing_tables
    from classpulse.warehouse import get_client

    started = time.perf_counter()
    if not settings.kafka_is_local:
        return _timed({"emptied": 0, "skipped": "a Kafka cluster is never emptied"}, started)
    if streaming.status(settings).running:
        return _timed({"emptied": 0, "skipped": "the continuous pipeline runs"}, started)
    ensure_kafka(settings)
    from confluent_kafka import TopicPartition

    infos = describe_topics(settings)
    partitions = [
        TopicPartition(info.name, part.partition, part.end)
        for info in infos
        for part in info.partitions
        if part.end > part.start
    ]
    if partitions:
        admin = admin_client(settings)
        for future in admin.delete_records(partitions, request_timeout=30).values():
            future.result(timeout=60)
    client = get_client(settings)
    tables = [table.table for table in read_landing_tables(settings.root)]
    for table in tables:
        client.command(f"TRUNCATE TABLE IF EXISTS {table}")
    return _timed(
        {"emptied": len({item.topic for item in partitions}), "tables": len(tables)}, started
    )


def _job_topics(settings: Settings, jobs: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(source topics, intermediate topics) the selected jobs (all when none) read."""
    from classpulse.flink.pipeline import pipeline_topics
    from classpulse.flink.runner import load_catalog

    catalog = load_catalog(settings.root, "kafka")
    selected = catalog.select(jobs) if jobs else catalog.jobs
    topic = {}
    for table in catalog.tables:
        match = _TOPIC_OPTION.search(table.ddl)
        topic[table.name] = match.group(1) if match else table.name
    read = {topic[name] for job in selected for name in job.inputs if name in topic}
    sources, middle, _ = pipeline_topics(settings)
    return sorted(read & set(sources)), sorted(read & set(middle))


def _commit_offsets(
    settings: Settings, group: str, offsets: list[tuple[str, int, int, str]]
) -> None:
    """Commit (topic, partition, offset, metadata) for ``group`` without joining it."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.client import client_config

    if not offsets:
        return
    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers, **{"group.id": group, "enable.auto.commit": False}
        )
    )
    try:
        consumer.commit(
            offsets=[
                TopicPartition(topic, partition, offset, metadata=metadata)
                for topic, partition, offset, metadata in offsets
            ],
            asynchronous=False,
        )
    finally:
        consumer.close()


def run_flink(
    settings: Settings, jobs: tuple[str, ...] = (), topics_dir: Path | None = None
) -> dict[str, Any]:
    """Produce the day's topic files into Kafka (once), then bring the pipeline up to date.

    When the continuous pipeline runs (``classpulse flink run --env kafka --continuous``) this
    waits until it has caught up (consumer lag 0 by offsets). Otherwise the same SQL runs
    bounded (``scan.bounded.mode = latest-offset``) from the pipeline group's committed offsets
    to the topics' ends, when anything is left to read; afterwards the run's end offsets are
    committed for the group (a bounded run is a new job state: its counters are keyed by the
    offsets it began at and add to the earlier runs'; see ``classpulse.kafka.accounting``).
    Nobody else should produce into the source topics while a bounded run starts.
    """
    from classpulse.java import ensure_java_home

    started = time.perf_counter()
    try:
        ensure_java_home()
    except RuntimeError as exc:
        raise StageError("flink", str(exc), "run `make venv` or install OpenJDK 17") from None
    ensure_kafka(settings)
    produced = produce(settings, topics_dir)
    from classpulse.flink import pipeline as streaming
    from classpulse.kafka.accounting import group_positions, pipeline_group

    summary: dict[str, Any] = {"produced": produced["messages"]}
    try:
        current = streaming.status(settings)
    except streaming.PipelineError as exc:
        raise StageError("flink", str(exc), "check the Flink cluster or unset it") from None
    if current.running:
        try:
            lag = streaming.wait_caught_up(settings, timeout=FLINK_CATCH_UP_TIMEOUT_SECONDS)
        except streaming.PipelineError as exc:
            raise StageError(
                "flink", str(exc), "see `classpulse flink status` and the pipeline's log"
            ) from None
        summary.update(mode="continuous", ran=True, lag=lag.total)
        return _timed(summary, started)

    from classpulse.flink.runner import RunError

    group = pipeline_group(settings)
    try:
        sources, middle = _job_topics(settings, jobs)
    except RunError as exc:
        raise StageError("flink", str(exc), "`classpulse flink list` shows the jobs") from None
    before = group_positions(settings, group, sources)
    behind = sum(max(item.end - max(item.committed or 0, item.start), 0) for item in before)
    if not behind:
        summary.update(mode="bounded", ran=False, messages_read=0)
        return _timed(summary, started)
    try:
        result = streaming.run_bounded(settings, jobs=jobs, group=group)
    except Exception as exc:  # a Java exception from the planner or a job (Py4JJavaError)
        lines = [line.strip() for line in str(exc).splitlines()]
        first = next((line for line in lines if "Exception" in line), str(exc))
        causes = [line for line in lines if line.startswith("Caused by:")]
        root = f"; root cause: {causes[-1][:400]}" if causes else ""
        raise StageError(
            "flink",
            f"{type(exc).__name__}: {first[:400]}{root}",
            "the full Java trace is above; `classpulse flink run --env kafka` reproduces it "
            "(a bounded run reads from the pipeline group's committed offsets: re-running it "
            "after the failure reads the same messages again)",
        ) from None
    # the bounded sources stopped at the ends they found at start: what was there before
    commits = [(item.topic, item.partition, item.end, "") for item in before]
    commits += [
        (item.topic, item.partition, item.end, "")
        for item in group_positions(settings, group, middle)
    ]
    _commit_offsets(settings, group, commits)
    summary.update(
        mode="bounded",
        ran=True,
        messages_read=behind,
        jobs=sum(len(wave.jobs) for wave in result.waves),
    )
    return _timed(summary, started)


FLINK_CATCH_UP_TIMEOUT_SECONDS = 3600.0


def check_accounting(settings: Settings, client: Any = None) -> dict[str, Any]:
    """Fail loudly when the pipeline lost or invented messages (contract: reconciliation).

    By offsets (``classpulse.kafka.accounting``): per source topic messages read = accepted +
    rejected (= the landed dead letters), per real-time mart counted + late = events in. Only
    judged at rest (pipeline and landing caught up); before that it says "catching up".
    """
    from classpulse.kafka.accounting import account
    from classpulse.warehouse import get_client

    result = account(settings, client or get_client(settings))
    summary = {"caught_up": result.caught_up, "holds": result.holds}
    if not result.caught_up or result.holds:
        return summary
    broken = [
        f"{item.topic}: {'; '.join(item.problems)}" for item in result.topics if item.problems
    ] + [f"{item.mart}: {'; '.join(item.problems)}" for item in result.marts if item.problems]
    raise StageError(
        "accounting",
        "the accounting identities do not hold (messages lost or counted twice):\n    "
        + "\n    ".join(broken),
        "`classpulse status` shows the figures; a topic fed twice (the same files produced "
        "again into topics that were emptied meanwhile) counts twice: start from empty topics "
        "(`make clean-state`) and re-run",
    )


def load(
    settings: Settings, topics_dir: Path | None = None, only: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Land every landing topic (those ``only`` names, if given) from Kafka, exactly once.

    Topic files of the landing topics fed from outside (the preheat inputs) are produced
    first (once per file), so they go through Kafka like everything else. With every topic
    landed, the accounting by offsets is checked (:func:`check_accounting`).
    """
    from classpulse.kafka.client import KafkaUnavailable
    from classpulse.kafka.feed import input_topics
    from classpulse.kafka.landing import LandingError, land_from_kafka
    from classpulse.loader import LoadError, read_landing_tables

    started = time.perf_counter()
    ensure_kafka(settings)
    landing = {table.table: table.topic for table in read_landing_tables(settings.root)}
    fed = set(input_topics(settings)) & set(landing.values())
    produced = produce(settings, topics_dir, tuple(sorted(fed & set(only) if only else fed)))
    try:
        report = land_from_kafka(settings, only)
    except (LoadError, LandingError) as exc:
        raise StageError("load", str(exc), "fix the landing DDL or topic named above") from None
    except KafkaUnavailable as exc:
        raise StageError("load", str(exc), "check the broker (`classpulse kafka status`)") from None
    except Exception as exc:
        raise StageError(
            "load",
            f"{type(exc).__name__}: {exc}",
            "check the warehouse (`classpulse warehouse status`)",
        ) from None
    rows = sum(report.rows.values())
    summary = {
        "produced": produced["messages"],
        "rows": rows,
        "batches": report.batches,
        "rows_per_second": round(rows / report.seconds) if report.seconds else 0,
        "topics_loaded": sorted(
            landing.get(table, table) for table, count in report.rows.items() if count
        ),
    }
    if not only:
        summary["accounting"] = check_accounting(settings)
    return _timed(summary, started)


def preheat(settings: Settings, day: date) -> dict[str, Any]:
    """Preheat the day's lessons (rooms, org trees, membership), check and publish."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    try:
        report = engine.run_preheat(settings, day)
    except engine.PreheatError as exc:
        raise StageError("preheat", str(exc), "generate and land the preheat topics") from None
    return _timed(
        {
            "run_id": report.run_id,
            "lessons": len(report.lessons),
            "published": report.published_at is not None,
            "withheld": list(report.withheld),
            "findings": len(report.findings),
        },
        started,
    )


def build(
    settings: Settings,
    run_date: str | None = None,
    on_node: Callable[[Any], None] | None = None,
    layers: tuple[str, ...] = (),
) -> dict[str, Any]:
    """dbt build layer by layer (ods → dwd → dws → ads), then the metric roll-up.

    ``layers`` builds only those layers (tags), in the order given; ``ads`` brings the
    metric roll-up.
    """
    from classpulse.dbt import LAYERS, DbtError, build_layers

    started = time.perf_counter()
    try:
        runs = build_layers(settings, layers=layers or LAYERS, run_date=run_date, on_node=on_node)
    except DbtError as exc:
        raise StageError(
            "build", str(exc), "fix the model or test named above, then re-run `classpulse build`"
        ) from None
    nodes = [node for run in runs for node in run.nodes]
    return _timed(
        {
            "models": sum(1 for n in nodes if n.resource_type == "model"),
            "tests": sum(1 for n in nodes if n.resource_type == "test"),
            "run_date": run_date or "all",
        },
        started,
    )


def quality(
    settings: Settings,
    layers: tuple[str, ...] = (),
    build_docs: bool = True,
    names: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run the Great Expectations suites; fail the stage when a gate fails.

    ``layers`` and ``names`` (``ads/rt_vs_offline_reconciliation``) select suites, all of
    them when neither is given; ``exclude`` names suites to leave out of the selection.
    """
    from classpulse.quality import SUITES_DIRECTORY, QualityError, run_quality, select_suite_files

    started = time.perf_counter()
    directory = settings.root / SUITES_DIRECTORY
    try:
        suites = (
            select_suite_files(directory, names=names, layers=layers)
            if layers or names or exclude
            else None
        )
        if suites is not None and exclude:
            left_out = {path.resolve() for path in select_suite_files(directory, names=exclude)}
            suites = [path for path in suites if path.resolve() not in left_out]
        report = run_quality(settings, suites, build_docs=build_docs)
    except QualityError as exc:
        raise StageError("quality", str(exc), "fix the suite file named above") from None
    summary = {
        "suites": len(report.results),
        "failed": [result.suite for result in report.failed],
        "docs": str(report.docs_index) if report.docs_index else None,
    }
    if not report.success:
        raise StageError(
            "quality",
            f"quality gate failed: {', '.join(summary['failed'])}",
            "open the Data Docs (the path is printed by `classpulse quality`) and fix the data or the suite",
        )
    return _timed(summary, started)


# ---------------------------------------------------------------------------------------
# Preheat batch by batch: the lesson_preheat DAG maps groups of batches onto tasks


def group_batches(batches: list[dict[str, Any]], max_groups: int) -> list[list[dict[str, Any]]]:
    """Spread batches over at most ``max_groups`` groups: largest first onto the lightest group.

    Airflow maps one task per group and refuses more than ``[core] max_map_length`` of them,
    so a day with more batches than that runs several batches per task. Usually a group is
    one batch. Each group lists its batches in batch order; the result is deterministic.
    """
    if max_groups < 1:
        raise ValueError("max_groups must be positive")
    if len(batches) <= max_groups:
        return [[batch] for batch in batches]
    groups: list[list[dict[str, Any]]] = [[] for _ in range(max_groups)]
    loads = [0] * max_groups
    for batch in sorted(batches, key=lambda item: (-item["students"], item["batch_no"])):
        lightest = min(range(max_groups), key=lambda index: (loads[index], index))
        groups[lightest].append(batch)
        loads[lightest] += batch["students"]
    return [sorted(group, key=lambda item: item["batch_no"]) for group in groups]


def plan_preheat(
    settings: Settings,
    day: date,
    max_batch_students: int,
    max_groups: int,
    note: str = "",
) -> list[dict[str, Any]]:
    """Plan ``day``'s lessons into batches, register the run, group the batches for tasks.

    Returns one JSON-able dict per group: ``day``, ``run_id``, ``batches`` (``batch_no``,
    ``lessons``, ``students`` each), and the group's ``lessons`` and ``students`` totals:
    everything a mapped task needs.
    """
    from classpulse import preheat as engine

    try:
        planned = engine.plan_lessons(settings, day)
        if not planned:
            raise StageError(
                "preheat",
                f"no lessons on {day}",
                "land the preheat topics (`classpulse load`) or check the day",
            )
        packed = engine.pack_batches(planned, max_batch_students)
        run_id = engine.create_run(
            settings, day, [lesson.lesson_id for lesson in planned], note=note
        )
    except engine.PreheatError as exc:
        raise StageError(
            "preheat", str(exc), "check the warehouse and the preheat topics"
        ) from None
    sizes = {lesson.lesson_id: lesson.students for lesson in planned}
    batches = [
        {"batch_no": number, "lessons": batch, "students": sum(sizes[i] for i in batch)}
        for number, batch in enumerate(packed, start=1)
    ]
    return [
        {
            "day": day.isoformat(),
            "run_id": run_id,
            "batches": group,
            "lessons": sum(len(batch["lessons"]) for batch in group),
            "students": sum(batch["students"] for batch in group),
        }
        for group in group_batches(batches, max_groups)
    ]


def preheat_group(settings: Settings, group: dict[str, Any]) -> dict[str, Any]:
    """Build the batches of one planned group into its run (safe to retry)."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    day = date.fromisoformat(group["day"])
    totals = {"students": 0, "rooms": 0, "nodes": 0, "members": 0}
    retried = False
    try:
        client = engine.connect(settings)
        for batch in group["batches"]:
            result = engine.preheat_batch(
                settings, day, batch["lessons"], group["run_id"], batch["batch_no"], client
            )
            for name in totals:
                totals[name] += getattr(result, name)
            retried = retried or result.retried
    except engine.PreheatError as exc:
        raise StageError("preheat", str(exc), "a batch is safe to retry: clear the task") from None
    return _timed(
        {
            "run_id": group["run_id"],
            "batches": [batch["batch_no"] for batch in group["batches"]],
            "lessons": group["lessons"],
            **totals,
            "retried": retried,
        },
        started,
    )


def check_group(settings: Settings, group: dict[str, Any]) -> dict[str, Any]:
    """Check the lessons of one planned group against the source; record the findings."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    result = engine.CheckResult(group["run_id"], 0, 0.0)
    try:
        client = engine.connect(settings)
        for batch in group["batches"]:
            result.merge(
                engine.check_batch(settings, group["run_id"], batch["lessons"], client=client)
            )
    except engine.PreheatError as exc:
        raise StageError("preheat check", str(exc), "fix the check SQL named above") from None
    kinds: dict[str, int] = {}
    for finding in result.errors:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + finding.count
    return _timed(
        {
            "run_id": group["run_id"],
            "lessons": result.lessons,
            "errors": len(result.errors),
            "warnings": len(result.warnings),
            "failed_lessons": result.failed_lessons,
            "error_kinds": kinds,
        },
        started,
    )


def publish_preheat(settings: Settings, run_id: int, force: bool = False) -> dict[str, Any]:
    """Publish a checked run in one insert; lessons whose check found errors are withheld."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    try:
        publication = engine.publish_run(settings, run_id, force=force)
    except engine.PreheatError as exc:
        raise StageError("preheat publish", str(exc), "build and check every batch first") from None
    return _timed(
        {
            "run_id": run_id,
            "lessons": publication.lessons,
            "withheld": publication.withheld,
            "already_published": publication.already_published,
        },
        started,
    )


def report_preheat(settings: Settings, run_id: int) -> dict[str, Any]:
    """A run's totals, build statuses, check findings and publication, JSON-able."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    try:
        run = engine.report(settings, run_id)
    except engine.PreheatError as exc:
        raise StageError("preheat report", str(exc), "see `classpulse preheat status`") from None
    findings: dict[str, int] = {}
    for finding in run.findings:
        key = f"{finding.severity}:{finding.kind}"
        findings[key] = findings.get(key, 0) + finding.count
    return _timed(
        {
            "run_id": run.run_id,
            "kind": run.kind,
            "day": run.day.isoformat(),
            "planned": run.planned,
            "built": run.built,
            "students": run.students,
            "rooms": run.rooms,
            "nodes": run.nodes,
            "members": run.members,
            "status": run.status_counts(),
            "build_seconds": round(run.build_seconds, 2),
            "published": run.published_at is not None,
            "withheld": run.withheld,
            "error_lessons": run.error_lessons,
            "findings": findings,
        },
        started,
    )


def apply_preheat_changes(settings: Settings, max_batch_students: int) -> dict[str, Any]:
    """Re-preheat exactly the lessons the change events landed since the last call touch."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    try:
        result = engine.apply_changes(settings, max_batch_students=max_batch_students)
    except engine.PreheatError as exc:
        raise StageError(
            "preheat changes", str(exc), "the cursor did not move: the same events are retried"
        ) from None
    run = result.run
    return _timed(
        {
            "events": result.events,
            "unknown_kinds": result.unknown_kinds,
            "processed": [result.after + 1, result.up_to] if result.events else [],
            "lessons": result.lessons,
            "run_id": run.run_id if run else None,
            "withheld": run.withheld if run else [],
            "error_lessons": run.error_lessons if run else [],
        },
        started,
    )


# ---------------------------------------------------------------------------------------
# Publication of an offline day (the offline_rollup DAG, after the quality gate)

PUBLICATION_LOG_DDL = """
CREATE TABLE IF NOT EXISTS ads.publication_log
(
    day Date,
    published_at DateTime64(3, 'UTC') DEFAULT now64(3),
    run_id String,
    models UInt32,
    tests UInt32,
    quality_suites UInt32,
    quality_result LowCardinality(String),
    table_rows Map(String, UInt64),
    fingerprint UInt64
)
ENGINE = ReplacingMergeTree(published_at)
ORDER BY day
"""


def table_fingerprints(settings: Settings, database: str = "ads") -> dict[str, tuple[int, int]]:
    """Rows and an order-independent content hash of every table of ``database``.

    The hash is the wrapping sum of ``cityHash64`` over whole rows, so equal contents give
    equal hashes whatever the row or part order. Views and ``publication_log`` are skipped.
    """
    from classpulse.warehouse import get_client

    client = get_client(settings)
    tables = client.query(
        "SELECT name FROM system.tables WHERE database = {database:String} "
        "AND engine NOT IN ('View', 'MaterializedView') AND name != 'publication_log' "
        "AND NOT startsWith(name, '.') ORDER BY name",
        parameters={"database": database},
    ).result_rows
    fingerprints = {}
    for (name,) in tables:
        rows, digest = client.query(
            f"SELECT count(), coalesce(sum(cityHash64(*)), 0) FROM `{database}`.`{name}`"
        ).first_row
        fingerprints[str(name)] = (int(rows), int(digest))
    return fingerprints


def publish_day(
    settings: Settings,
    day: date,
    run_id: str,
    build_summary: dict[str, Any],
    quality_summary: dict[str, Any],
) -> dict[str, Any]:
    """Record that ``day``'s marts passed the gate: one row in ``ads.publication_log``.

    The row carries the day's build and gate figures and a fingerprint of the ads tables as
    published; re-publishing a day replaces its row (ReplacingMergeTree on the day).
    """
    import hashlib

    from classpulse.warehouse import get_client

    started = time.perf_counter()
    try:
        client = get_client(settings)
        client.command(PUBLICATION_LOG_DDL)
        fingerprints = table_fingerprints(settings, "ads")
        digest = hashlib.blake2b(
            json.dumps(sorted(fingerprints.items())).encode(), digest_size=8
        ).digest()
        fingerprint = int.from_bytes(digest, "big")
        quality_result = "failed" if quality_summary.get("failed") else "passed"
        client.query(
            "INSERT INTO ads.publication_log (day, run_id, models, tests, quality_suites, "
            "quality_result, table_rows, fingerprint) SELECT {day:Date}, {run_id:String}, "
            "{models:UInt32}, {tests:UInt32}, {suites:UInt32}, {result:String}, "
            "mapFromArrays({tables:Array(String)}, {rows:Array(UInt64)}), {fingerprint:UInt64}",
            parameters={
                "day": day,
                "run_id": run_id,
                "models": int(build_summary.get("models", 0)),
                "tests": int(build_summary.get("tests", 0)),
                "suites": int(quality_summary.get("suites", 0)),
                "result": quality_result,
                "tables": list(fingerprints),
                "rows": [rows for rows, _ in fingerprints.values()],
                "fingerprint": fingerprint,
            },
        )
    except Exception as exc:
        raise StageError(
            "publish", f"{type(exc).__name__}: {exc}", "check the warehouse, then clear the task"
        ) from None
    return _timed(
        {
            "day": day.isoformat(),
            "tables": len(fingerprints),
            "rows": sum(rows for rows, _ in fingerprints.values()),
            "fingerprint": f"{fingerprint:016x}",
            "quality": quality_result,
        },
        started,
    )


def build_reconciliation(settings: Settings) -> dict[str, Any]:
    """Rebuild the rt views and ads.rt_vs_offline_reconciliation from what is landed now."""
    from classpulse.dbt import DbtError, run_dbt

    started = time.perf_counter()
    try:
        run = run_dbt(settings, ["build", "--select", "tag:rt", "rt_vs_offline_reconciliation"])
    except DbtError as exc:
        raise StageError("reconcile", str(exc), "fix the model or test named above") from None
    return _timed(
        {
            "models": sum(1 for node in run.nodes if node.resource_type == "model"),
            "tests": sum(1 for node in run.nodes if node.resource_type == "test"),
        },
        started,
    )


# ---------------------------------------------------------------------------------------
# Real-time jobs: catch-up (local topics) or submission (a Flink cluster), lag, freshness

FLINK_JOBMANAGER_VARIABLE = "CLASSPULSE_FLINK_JOBMANAGER"
_TOPIC_OPTION = re.compile(r"'topic'\s*=\s*'([^']+)'")


def flink_jobmanager() -> str | None:
    """``host:port`` of the Flink cluster's REST endpoint, when jobs run on a cluster."""
    return os.environ.get(FLINK_JOBMANAGER_VARIABLE) or None


def catch_up_flink(settings: Settings, topics_dir: Path | None = None) -> dict[str, Any]:
    """The realtime catch-up without a Flink cluster: new topic files into Kafka (once), then
    the pipeline up to the topics' ends (bounded, or waiting for the continuous one).

    ``ran`` says whether anything was read: nothing new was produced and the pipeline's group
    had no lag means the outputs are unchanged.
    """
    return run_flink(settings, topics_dir=topics_dir)


def _flink_rest(address: str, path: str) -> Any:
    from urllib.request import urlopen

    with urlopen(f"http://{address}{path}", timeout=10) as response:
        return json.load(response)


FLINK_SUBMIT_TIMEOUT_SECONDS = 600


def submit_flink(settings: Settings) -> dict[str, Any]:
    """A Flink cluster: submit the jobs (Kafka connectors) unless they are already running.

    Submission is ``classpulse flink run --env kafka --continuous`` in a subprocess (the
    compose stack's ``flink-jobs`` command), which returns once the jobs are submitted to
    ``CLASSPULSE_FLINK_JOBMANAGER`` (docs/production.md); the subprocess is bounded by
    :data:`FLINK_SUBMIT_TIMEOUT_SECONDS` so a client that keeps running fails the task
    instead of holding it.
    """
    import subprocess
    import sys

    started = time.perf_counter()
    address = flink_jobmanager()
    if address is None:
        raise StageError("flink", f"{FLINK_JOBMANAGER_VARIABLE} is not set", "set it to host:port")
    try:
        jobs = _flink_rest(address, "/jobs/overview").get("jobs", [])
    except OSError as exc:
        raise StageError(
            "flink", f"Flink at {address} does not answer: {exc}", "check the JobManager"
        ) from None
    running = sorted(
        job["name"]
        for job in jobs
        if job.get("state") == "RUNNING" and str(job.get("name", "")).startswith("classpulse")
    )
    if running:
        return _timed({"submitted": False, "running": running}, started)
    command = [sys.executable, "-m", "classpulse.cli", "flink", "run"]
    command += ["--env", "kafka", "--continuous"]
    try:
        subprocess.run(command, check=True, timeout=FLINK_SUBMIT_TIMEOUT_SECONDS)
    except subprocess.CalledProcessError as exc:
        raise StageError(
            "flink", f"submitting the jobs failed (exit {exc.returncode})", "see the log above"
        ) from None
    except subprocess.TimeoutExpired:
        raise StageError(
            "flink",
            f"`classpulse flink run --env kafka --continuous` did not return within "
            f"{FLINK_SUBMIT_TIMEOUT_SECONDS} s: it must return once the jobs are submitted",
            f"check that the client submits to {FLINK_JOBMANAGER_VARIABLE}={address}",
        ) from None
    return _timed({"submitted": True, "running": []}, started)


def _oldest_unread_age(settings: Settings, positions: list[Any], now: float) -> float:
    """Seconds since the oldest message not read yet (its Kafka timestamp) was written."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.client import client_config

    waiting = [
        item
        for item in positions
        if item.end > max(item.committed if item.committed is not None else 0, item.start)
    ]
    if not waiting:
        return 0.0
    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{
                "group.id": "classpulse-lag-probe",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            },
        )
    )
    oldest = now
    try:
        for item in waiting:
            offset = max(item.committed if item.committed is not None else 0, item.start)
            consumer.assign([TopicPartition(item.topic, item.partition, offset)])
            message = consumer.poll(10.0)
            if message is not None and not message.error():
                kind, stamp = message.timestamp()
                if kind and stamp > 0:
                    oldest = min(oldest, stamp / 1000)
    finally:
        consumer.close()
    return max(now - oldest, 0.0)


def check_flink_lag(settings: Settings, max_lag_seconds: float) -> dict[str, Any]:
    """How long the oldest message has waited for the real-time path; fail beyond the limit.

    Kafka, by offsets: the source messages the pipeline's consumer group has not read, and the
    output messages the landing group has not landed, aged by the Kafka timestamp of the oldest
    of them; whether the continuous job runs is reported (bounded catch-ups need none). A Flink
    cluster (``CLASSPULSE_FLINK_JOBMANAGER``): every classpulse job RUNNING, aged by its last
    completed checkpoint.
    """
    started = time.perf_counter()
    now = time.time()
    address = flink_jobmanager()
    if address is not None:
        jobs = [
            job
            for job in _flink_rest(address, "/jobs/overview").get("jobs", [])
            if str(job.get("name", "")).startswith("classpulse")
        ]
        if not any(job.get("state") == "RUNNING" for job in jobs):
            raise StageError("lag", f"no classpulse job is RUNNING on {address}", "submit the jobs")
        ages = {}
        for job in jobs:
            if job.get("state") != "RUNNING":
                continue
            latest = _flink_rest(address, f"/jobs/{job['jid']}/checkpoints").get("latest", {})
            acked = (latest.get("completed") or {}).get("latest_ack_timestamp")
            ages[job["name"]] = round(now - acked / 1000, 1) if acked else None
        lag = max((age for age in ages.values() if age is not None), default=None)
        summary: dict[str, Any] = {"mode": "cluster", "checkpoint_age_seconds": ages}
    else:
        from classpulse.flink import pipeline as streaming
        from classpulse.kafka.accounting import group_positions, pipeline_group
        from classpulse.kafka.client import KafkaUnavailable
        from classpulse.kafka.landing import DEFAULT_GROUP
        from classpulse.loader import read_landing_tables

        try:
            sources, _, _ = streaming.pipeline_topics(settings)
            pipeline = group_positions(settings, pipeline_group(settings), sources)
            landing = group_positions(
                settings,
                DEFAULT_GROUP,
                sorted({table.topic for table in read_landing_tables(settings.root)}),
            )
            age = max(
                _oldest_unread_age(settings, pipeline, now),
                _oldest_unread_age(settings, landing, now),
            )
        except KafkaUnavailable as exc:
            raise StageError(
                "lag", str(exc), "start the broker (`classpulse kafka start`)"
            ) from None

        def behind(positions: list[Any]) -> int:
            return sum(
                max(item.end - max(item.committed or 0, item.start), 0) for item in positions
            )

        lag = round(age, 1)
        summary = {
            "mode": "kafka",
            "continuous_job_running": streaming.status(settings).running,
            "unread_source_messages": behind(pipeline),
            "unlanded_messages": behind(landing),
        }
    summary["lag_seconds"] = lag
    if lag is not None and lag > max_lag_seconds:
        raise StageError(
            "lag",
            f"the real-time path is {lag:.0f} s behind (limit {max_lag_seconds:.0f} s): {summary}",
            "see the realtime_jobs catch-up task's log (`classpulse flink status`, "
            "`classpulse status`) or the Flink UI (cluster)",
        )
    return _timed(summary, started)


def check_freshness(settings: Settings, max_age_seconds: float) -> dict[str, Any]:
    """Seconds since the newest row landed in each real-time mart log; fail beyond the limit."""
    from classpulse.warehouse import get_client

    started = time.perf_counter()
    client = get_client(settings)
    tables = [
        str(row[0])
        for row in client.query(
            "SELECT name FROM system.tables WHERE database = 'rt' AND endsWith(name, '_log') "
            "ORDER BY name"
        ).result_rows
    ]
    ages: dict[str, float | None] = {}
    for table in tables:
        rows, age = client.query(
            f"SELECT count(), dateDiff('millisecond', max(landed_at), now64(3)) / 1000 "
            f"FROM rt.`{table}`"
        ).first_row
        ages[table] = round(float(age), 1) if rows else None
    # An empty mart is stale only if events were fed to it: a mart whose topics carried
    # nothing (bring-your-own data with only some topics) is idle, not late.
    fed = {
        f"{row[0]}_log"
        for row in client.query(
            "SELECT mart FROM ods.mart_accounting_log GROUP BY mart HAVING max(events_in) > 0"
        ).result_rows
    }
    stale = [
        f"rt.{table} ({'empty' if age is None else f'{age:.0f} s'})"
        for table, age in ages.items()
        if (age is None and table in fed) or (age is not None and age > max_age_seconds)
    ]
    if not tables or all(age is None for age in ages.values()) or stale:
        raise StageError(
            "freshness",
            f"real-time marts older than {max_age_seconds:.0f} s or empty: "
            + (", ".join(stale) or "no rt.*_log table"),
            "run the realtime_jobs DAG (or check the Flink jobs and the Kafka feeds)",
        )
    return _timed({"age_seconds": ages}, started)
