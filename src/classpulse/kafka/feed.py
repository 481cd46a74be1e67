"""Feed topic directories into Kafka once: the local stages' way in (generate → Kafka).

``classpulse run --topics DIR``, the demo and the realtime catch-up write a day as topic files
(the import format), then every stage after that reads Kafka only. :func:`feed_directory`
publishes the complete files of the topics Kafka carries from outside (the pipeline's source
topics, and the landing topics no Flink job writes: the preheat inputs) with the same producer
as ``classpulse produce`` (line order per file kept, keyed by room or id).

A file is produced **once**: a produce ledger (``<home>/produce/ledger.json``) records each
file's content digest per topic once the brokers acknowledged all its lines, so a stage that
runs again (a resumed demo, the next catch-up, a DAG retry) sends only files it has not sent:
new files, or files whose content changed (a new day generated under the same names). The
ledger is kept per cluster id (another broker, or a fresh one after ``make clean-state``,
has its own), and a topic that no longer holds what was produced into it (re-created, or
emptied) has its entries forgotten and its files produced again. A crash in the middle of a file re-sends
that file (at least once for the one file in flight; the landing then counts its duplicates).
Concurrent stages (DAG tasks) take the ledger's lock, so two never send the same file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from classpulse.config import Settings

LEDGER = Path("produce") / "ledger.json"


def input_topics(settings: Settings) -> list[str]:
    """Topics fed from outside the pipeline, read from the repo's files: the Flink jobs'
    source topics (``flink_sql`` kafka connectors) and the landing topics
    (``clickhouse/landing``) that no Flink job writes."""
    from classpulse.flink.pipeline import pipeline_topics
    from classpulse.loader import read_landing_tables

    sources, middle, outputs = pipeline_topics(settings)
    written = set(middle) | set(outputs)
    landing = [table.topic for table in read_landing_tables(settings.root)]
    return sorted(set(sources) | {topic for topic in landing if topic not in written})


def file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write(path: Path, ledger: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(ledger, indent=1, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


def _still_held(entry: dict[str, Any], info: Any) -> bool:
    """The topic still holds what the ledger says was produced into it."""
    recorded = int(entry.get("end", 0))
    if recorded == 0:
        return True
    end = sum(part.end for part in info.partitions)
    start = sum(part.start for part in info.partitions)
    return end >= recorded and start < recorded


def feed_directory(
    settings: Settings, topics_dir: Path, topics: Iterable[str] | None = None
) -> dict[str, int]:
    """Produce the files of ``topics_dir/<topic>/`` not produced yet; messages sent per topic.

    ``topics`` defaults to :func:`input_topics`; directories of other names are left alone.
    Topics are created first (configured partitions) when missing.
    """
    from classpulse.kafka.admin import create_topics, describe_topics
    from classpulse.kafka.broker import answers
    from classpulse.kafka.produce import TopicProducer, file_lines, message_key
    from classpulse.topics import list_complete_files

    wanted = sorted(topics) if topics is not None else input_topics(settings)
    present = {
        topic: files
        for topic in wanted
        if (Path(topics_dir) / topic).is_dir()
        and (files := list_complete_files(Path(topics_dir), topic))
    }
    if not present:
        return {}
    path = settings.home / LEDGER
    sent: dict[str, int] = {}
    with _locked(path):
        create_topics(settings, list(present))
        cluster = answers(settings.kafka_bootstrap_servers, 10.0)[1]
        ledgers = _read(path)  # cluster id -> that cluster's ledger
        ledger = ledgers.setdefault(str(cluster), {"topics": {}})
        infos = {info.name: info for info in describe_topics(settings, list(present))}
        producer = TopicProducer(settings)
        for topic, files in present.items():
            entry = ledger["topics"].get(topic, {})
            if topic in infos and not _still_held(entry, infos[topic]):
                entry = {}
            done: dict[str, str] = entry.get("files", {})
            for file in files:
                digest = file_digest(file)
                if done.get(file.name) == digest:
                    continue
                before = producer.delivered.get(topic, 0)
                for line in file_lines(file):
                    producer.send(topic, line, message_key(topic, line))
                producer.flush()
                sent[topic] = sent.get(topic, 0) + producer.delivered.get(topic, 0) - before
                done[file.name] = digest
                (info,) = describe_topics(settings, [topic])
                ledger["topics"][topic] = {
                    "files": done,
                    "end": sum(part.end for part in info.partitions),
                }
                _write(path, ledgers)
    return sent
