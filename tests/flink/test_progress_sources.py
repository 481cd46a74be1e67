"""SourceRecords against a real mini-cluster job: a listing cut short is never the job's sources.

A continuous job reads two Kafka topics. Its REST endpoint is reached through a small proxy
that forwards every request, except that the first listing of the second source vertex's
metrics fails (as a request timing out on a loaded machine did): the sources listed before it
must not be kept as all the job's sources, so every count read covers both topics and reaches
what was produced into each.
"""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from classpulse.config import Settings
from classpulse.flink.progress import SourceRecords
from classpulse.flink.session import FlinkSession
from classpulse.kafka.admin import create_topics
from classpulse.kafka.produce import TopicProducer

PRODUCED = {"first": 3, "second": 5}  # messages per source, by table suffix


class FailingProxy:
    """Forwards GETs to ``target``; the first metrics listing (no ``?get=``) of the second
    vertex listed answers 500 instead."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.listed: list[str] = []  # vertex ids, in the order first listed
        self.failed = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def should_fail(self, path: str) -> bool:
        parts = path.split("/")  # /jobs/<job>/vertices/<vertex>/metrics
        if len(parts) != 6 or parts[3] != "vertices" or parts[5] != "metrics":
            return False
        if parts[4] not in self.listed:
            self.listed.append(parts[4])
            if len(self.listed) == 2:
                self.failed = True
                return True
        return False

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if proxy.should_fail(self.path):
                    self.send_error(500, "listing cut short")
                    return
                with urllib.request.urlopen(proxy.target + self.path, timeout=10) as answer:
                    body = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def two_source_job(flink_session: FlinkSession, flink_kafka: Settings) -> Iterator[str]:
    """A continuous job of two Kafka sources into a blackhole, each topic holding its
    ``PRODUCED`` messages; yields the job id, cancels the job at the end."""
    tag = uuid.uuid4().hex[:8]
    topics = {suffix: f"progress_{suffix}_{tag}" for suffix in PRODUCED}
    create_topics(flink_kafka, list(topics.values()), partitions=1)
    producer = TopicProducer(flink_kafka)
    for suffix, count in PRODUCED.items():
        for number in range(count):
            producer.send(topics[suffix], f"{suffix}-{number}".encode())
    producer.flush()
    env = flink_session.table_env
    for suffix, topic in topics.items():
        env.execute_sql(
            f"create table progress_{suffix}_{tag} (payload string) with ("
            f"'connector' = 'kafka', 'topic' = '{topic}', "
            f"'properties.bootstrap.servers' = '{flink_kafka.kafka_bootstrap_servers}', "
            f"'properties.group.id' = 'progress-{tag}', "
            "'scan.startup.mode' = 'earliest-offset', 'format' = 'raw')"
        )
    env.execute_sql(
        f"create table progress_sink_{tag} (payload string) with ('connector' = 'blackhole')"
    )
    result = env.execute_sql(
        f"insert into progress_sink_{tag} "
        f"select payload from progress_first_{tag} union all select payload from progress_second_{tag}"
    )
    client = result.get_job_client()
    try:
        yield str(client.get_job_id())
    finally:
        client.cancel().result()
        for name in (*(f"progress_{suffix}_{tag}" for suffix in PRODUCED), f"progress_sink_{tag}"):
            env.execute_sql(f"drop table if exists {name}")


def by_source(counts: dict[str, int]) -> dict[str, int]:
    """Records read per ``PRODUCED`` suffix (tables are named progress_<suffix>_<tag>)."""
    return {table.split("_")[1]: read for table, read in counts.items()}


def test_a_listing_cut_short_is_listed_again_not_kept(
    flink_session: FlinkSession, two_source_job: str
) -> None:
    proxy = FailingProxy(f"http://{flink_session.rest_host}:{flink_session.rest_port}")
    try:
        sources = SourceRecords("127.0.0.1", proxy.port, two_source_job)
        readings: list[dict[str, int]] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and (not readings or readings[-1] != PRODUCED):
            counts = sources.read()
            if counts is not None:
                readings.append(by_source(counts))
            time.sleep(0.5)
    finally:
        proxy.server.shutdown()
    assert proxy.failed  # the listing was cut short once
    assert readings
    assert all(reading.keys() == PRODUCED.keys() for reading in readings)  # never a part
    assert readings[-1] == PRODUCED
