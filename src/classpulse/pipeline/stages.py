"""The offline day's stages: generate, produce, flink, load, preheat, build, quality."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from classpulse.config import Settings
from classpulse.pipeline.errors import StageError, failing_as, timed


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
    return timed(
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
    from classpulse import generator
    from classpulse.preheat import generator as preheat_generator
    from classpulse.preheat.world import PreheatGeneratorOptions

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
        preheat_generator.generate(PreheatGeneratorOptions(day=day, seed=seed, scale=scale), out)
    except generator.GeneratorError as exc:
        raise StageError("generate", str(exc), "check the generator options") from None
    topics = result.manifest["topics"]
    return timed(
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
    return timed(
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
        return timed({"topics_dir": str(directory), "messages": 0, "topics": {}}, started)
    try:
        sent = feed_directory(settings, directory, topics or None)
    except (KafkaUnavailable, ProduceError) as exc:
        raise StageError(
            "produce", str(exc), "check the broker (`classpulse kafka status`), then re-run"
        ) from None
    return timed(
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
    from classpulse.kafka.admin import empty_topics
    from classpulse.loader import read_landing_tables
    from classpulse.warehouse import get_client

    started = time.perf_counter()
    if not settings.kafka_is_local:
        return timed({"emptied": 0, "skipped": "a Kafka cluster is never emptied"}, started)
    if streaming.status(settings).running:
        return timed({"emptied": 0, "skipped": "the continuous pipeline runs"}, started)
    ensure_kafka(settings)
    emptied = empty_topics(settings)
    client = get_client(settings)
    tables = [table.table for table in read_landing_tables(settings.root)]
    for table in tables:
        client.command(f"TRUNCATE TABLE IF EXISTS {table}")
    return timed({"emptied": emptied, "tables": len(tables)}, started)


def _job_topics(settings: Settings, jobs: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(source topics, intermediate topics) the selected jobs (all when none) read."""
    from classpulse.flink.pipeline import pipeline_topics
    from classpulse.flink.runner import load_catalog

    catalog = load_catalog(settings.root, "kafka")
    selected = catalog.select(jobs) if jobs else catalog.jobs
    # the topic the connector environment gives the table (its 'topic' option); a table that is
    # no topic (a warehouse lookup) by its name
    topic = {table.name: table.topic or table.name for table in catalog.tables}
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
        return timed(summary, started)

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
        return timed(summary, started)
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
    return timed(summary, started)


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
    return timed(summary, started)


def preheat(settings: Settings, day: date) -> dict[str, Any]:
    """Preheat the day's lessons (rooms, org trees, membership), check and publish."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    with failing_as("preheat", "generate and land the preheat topics", engine.PreheatError):
        report = engine.run_preheat(settings, day)
    return timed(
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
    return timed(
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
    return timed(summary, started)
