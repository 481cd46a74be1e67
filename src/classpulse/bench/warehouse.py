"""The embedded server's cost against chDB in-process, measured side by side.

Both sides run the same clickhouse-connect calls: one client speaks HTTP to a warehouse
server started for the benchmark (its own data path and port), the other uses
clickhouse-connect's chDB interface inside this process. Repeats alternate between the
two so that machine noise hits both alike.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import clickhouse_connect

from classpulse.bench import Timing, measure
from classpulse.bench.stack import own_broker, own_warehouse
from classpulse.config import Settings, load_settings
from classpulse.warehouse import daemon

TABLE_DDL = """
CREATE TABLE IF NOT EXISTS bench_events (
    event_id UInt64,
    room_id UInt32,
    user_id UInt64,
    event LowCardinality(String),
    event_at DateTime64(3),
    value Float64
) ENGINE = MergeTree ORDER BY (room_id, event_at)
"""

PAYLOAD_QUERY = """
SELECT number AS event_id,
       toUInt32(number % 5000) AS room_id,
       number % 200000 AS user_id,
       ['STUDENT_MOVE_PICTURE', 'STUDENT_AUDIO_PLAY', 'STUDENT_LINE_DRAW'][number % 3 + 1] AS event,
       toDateTime64('2026-11-20 08:00:00', 3) + number / 1000 AS event_at,
       (number % 1000) / 7 AS value
FROM numbers({rows:UInt64})
"""


@dataclass(frozen=True)
class Comparison:
    name: str
    server: Timing
    in_process: Timing
    unit_count: int

    @property
    def ratio(self) -> float:
        return self.server.median / self.in_process.median

    @classmethod
    def of(cls, name: str, timings: dict[str, list[float]], unit_count: int) -> Comparison:
        """From the seconds measured per side: ``server`` and ``local`` (in-process)."""
        return cls(
            name,
            Timing("server", timings["server"]),
            Timing("in-process", timings["local"]),
            unit_count,
        )


def run_warehouse_benchmark(
    rows: int = 1_000_000, small_queries: int = 1000, repeats: int = 5
) -> list[Comparison]:
    workdir = Path(tempfile.mkdtemp(prefix="classpulse-bench-"))
    settings: Settings = replace(load_settings(), **own_warehouse(workdir / "server"))
    os.environ.pop("CLASSPULSE_CLICKHOUSE_PASSWORD", None)
    daemon.start(settings)
    try:
        server = clickhouse_connect.get_client(
            host="127.0.0.1", port=settings.clickhouse_port, compress=False
        )
        local = clickhouse_connect.get_client(interface="chdb", path=str(workdir / "inproc"))
        for client in (server, local):
            client.command(TABLE_DDL)
        payloads = {
            fmt: local.raw_query(PAYLOAD_QUERY, parameters={"rows": rows}, fmt=fmt)
            for fmt in ("Native", "JSONEachRow")
        }
        results = []
        for fmt, payload in payloads.items():
            timings: dict[str, list[float]] = {"server": [], "local": []}
            for _ in range(repeats):
                for side, client in (("server", server), ("local", local)):
                    timing = measure(
                        side,
                        lambda c=client, p=payload, f=fmt: c.raw_insert(
                            "bench_events", insert_block=p, fmt=f
                        ),
                        1,
                        setup=lambda c=client: c.command("TRUNCATE TABLE bench_events"),
                    )
                    timings[side].extend(timing.seconds)
            results.append(Comparison.of(f"{rows:,}-row {fmt} insert", timings, rows))
        timings = {"server": [], "local": []}
        for _ in range(repeats):
            for side, client in (("server", server), ("local", local)):

                def small(c=client) -> None:
                    for room in range(small_queries):
                        c.query(
                            "SELECT count() FROM bench_events WHERE room_id = {room:UInt32}",
                            parameters={"room": room},
                        )

                timings[side].extend(measure(side, small, 1).seconds)
        results.append(Comparison.of(f"{small_queries} small queries", timings, small_queries))
        return results
    finally:
        daemon.stop(settings)
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass(frozen=True)
class PipelineFigures:
    scale: float
    rows: int
    load: Timing
    build: Timing

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.load.median


def run_pipeline_benchmark(
    scales=(1.0, 10.0), repeats: int = 3, on_step=None
) -> list[PipelineFigures]:
    """Landing from Kafka and a full dbt build per scale, on a broker and a server of the
    benchmark's own.

    Per scale the day is generated, produced into the broker and run through the streaming
    pipeline (bounded) once; each repeat then lands every landing topic into fresh tables
    with a fresh consumer group (so it lands everything again) and builds the marts.
    """
    import uuid
    from datetime import date

    from classpulse import pipeline
    from classpulse.kafka import broker
    from classpulse.kafka.landing import land_from_kafka
    from classpulse.loader import read_landing_tables
    from classpulse.warehouse import get_client

    base = load_settings()
    results = []
    for scale in scales:
        workdir = Path(tempfile.mkdtemp(prefix="classpulse-bench-pipeline-"))
        settings = replace(
            base,
            **own_warehouse(workdir / "server"),
            topics_dir=workdir / "topics",
            home=workdir / "home",
            **own_broker(workdir / "kafka"),
        )
        daemon.start(settings)
        try:
            if on_step:
                on_step(f"scale {scale:g}: generating, producing and running the pipeline (once)")
            pipeline.generate(settings, date(2026, 11, 20), scale=scale, seed=7)
            pipeline.run_flink(settings)
            client = get_client(settings)
            loads, builds, rows = [], [], 0
            for attempt in range(repeats):
                if on_step:
                    on_step(f"scale {scale:g}: load + build, repeat {attempt + 1}/{repeats}")
                for table in read_landing_tables(settings.root):
                    client.command(f"DROP TABLE IF EXISTS {table.table}")
                started = time.perf_counter()
                report = land_from_kafka(
                    settings, client=client, group=f"bench-landing-{uuid.uuid4().hex[:8]}"
                )
                loads.append(time.perf_counter() - started)
                rows = sum(report.rows.values())
                started = time.perf_counter()
                pipeline.build(settings)
                builds.append(time.perf_counter() - started)
            results.append(
                PipelineFigures(scale, rows, Timing("load", loads), Timing("build", builds))
            )
        finally:
            daemon.stop(settings)
            broker.stop(settings)
            shutil.rmtree(workdir, ignore_errors=True)
    return results
