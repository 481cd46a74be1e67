"""Flink's own ceiling beside the pipeline: the same raw messages copied Kafka → Kafka.

The pipeline's figure (every cleaning job and every mart, exactly once) is only readable
against what Flink costs when it does nothing but move the messages. ``copy`` measures that on
the same machine, in the same session and round, on the same topics: one job per raw source
topic, ``insert into <topic>_copy select payload from <topic>``, the record value read and
written as text (``value.format: raw``), bounded at the topics' ends, exactly once, through the
pipeline's own runner (:func:`classpulse.flink.pipeline.run_bounded`): planning, deployment,
Kafka transactions and the final checkpoint paid as the pipeline pays them.

The copy jobs are not part of the project's SQL: they are written into a scratch ``flink_sql``
tree of the raw source tables (their files as they are) and the connector environment with one
role more, ``raw_copy`` (an output written as raw text). The pipeline's catalog is untouched.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from classpulse.bench.realtime_phases import stage_seconds
from classpulse.config import Settings

COPY_ROLE = "raw_copy"
COPY_SUFFIX = "_copy"


def copy_tree(settings: Settings, directory: Path) -> list[str]:
    """Write the copy jobs' ``flink_sql`` tree under ``directory``; the copy topics' names."""
    import yaml

    from classpulse.flink.sqlfiles import read_connector_tables

    source, target = settings.root / "flink_sql", directory / "flink_sql"
    for part in ("tables", "jobs", "connectors"):
        (target / part).mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "functions.sql", target / "functions.sql")
    environment = yaml.safe_load((source / "connectors" / "kafka.yaml").read_text("utf-8"))
    environment["roles"][COPY_ROLE] = {
        "extends": "output",
        "options": {
            "format": None,
            "${KAFKA_ROW_FORMAT}.encode.decimal-as-plain-number": None,
            "value.format": "raw",
        },
    }
    raw = [
        table
        for table in read_connector_tables(settings.root, "kafka")
        if table.role == "raw_source"
    ]
    names = {table.name for table in raw}
    environment["tables"] = {
        name: spec for name, spec in (environment.get("tables") or {}).items() if name in names
    }
    (target / "connectors" / "kafka.yaml").write_text(yaml.safe_dump(environment), "utf-8")
    copies = []
    for table in raw:
        copy = f"{table.name}{COPY_SUFFIX}"
        shutil.copy(table.path, target / "tables" / table.path.name)
        (target / "tables" / f"{copy}.sql").write_text(
            f"-- {table.name}, copied as it is.\n-- role: {COPY_ROLE}\n"
            f"create table {copy} (payload string);\n",
            "utf-8",
        )
        (target / "jobs" / f"copy_{table.name}.sql").write_text(
            f"insert into {copy} select payload from {table.name};\n", "utf-8"
        )
        copies.append(copy)
    return copies


def run_flink_copy(
    settings: Settings,
    session: Any,
    tag: str,
    directory: Path,
    parallelism: int,
    variables: dict[str, str],
    console: Any = None,
) -> tuple[float, float]:
    """Copy every raw source topic once (the tree under ``directory``, written by
    :func:`copy_tree`, its topics emptied by the caller); seconds from the first submission to
    the last commit, and the planning part of them (:func:`committed_records` checks what was
    copied)."""
    from classpulse.flink import pipeline

    result = pipeline.run_bounded(
        dataclasses.replace(settings, root=directory),
        group=f"bench-copy-{tag}",
        variables={**variables, "KAFKA_TRANSACTIONAL_ID_PREFIX": f"bench-copy-{tag}"},
        parallelism=parallelism,
        session=session,
        console=console,
    )
    seconds, planning = stage_seconds(result)
    return sum(seconds), sum(planning)


def committed_records(settings: Settings, topics: list[str], timeout: float = 120.0) -> int:
    """The records a ``read_committed`` reader finds in ``topics``, read from their starts to
    their last stable offsets: what the copy jobs committed, for the caller to check against
    what was produced."""
    import time

    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from classpulse.kafka.accounting import group_positions
    from classpulse.kafka.client import client_config

    ends = {
        (item.topic, item.partition): item.end
        for item in group_positions(settings, f"bench-copy-count-{time.time_ns()}", topics)
        if item.end > item.start
    }
    if not ends:
        return 0
    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{
                "group.id": f"bench-copy-count-{time.time_ns()}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            },
        )
    )
    counted = 0
    try:
        consumer.assign([TopicPartition(*key, OFFSET_BEGINNING) for key in ends])
        deadline = time.monotonic() + timeout
        while ends:
            if time.monotonic() > deadline:
                raise TimeoutError(f"copy topics not read to their ends: {sorted(ends)}")
            counted += sum(
                1 for message in consumer.consume(10_000, timeout=0.5) if not message.error()
            )
            positions = consumer.position([TopicPartition(*key) for key in ends])
            for item in positions:
                if item.offset >= ends[(item.topic, item.partition)]:
                    ends.pop((item.topic, item.partition))
                    consumer.incremental_unassign([TopicPartition(item.topic, item.partition)])
    finally:
        consumer.close()
    return counted
