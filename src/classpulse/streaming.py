"""Watch the real-time path live: a paced day produced into Kafka, the streaming pipeline running.

``classpulse generate --kafka --rate N`` produces the day into the Kafka topics at a fixed
rate (a child process), the continuous Flink pipeline (:func:`classpulse.flink.pipeline.start`,
resumed from its last checkpoint when there is one) reads and writes Kafka, and the landing
consumer follows the output topics into ClickHouse (:func:`classpulse.kafka.landing.
land_from_kafka` with ``follow``, in a thread here). Every few seconds the real-time marts'
row counts (every ``rt.*_log`` table) and the pipeline's consumer lag are shown, so the marts
visibly fill. The generator is stopped when the watch ends, the landing leaves its group, and
the pipeline is stopped with a savepoint unless it was running before the watch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from classpulse.config import Settings


def _spawn(arguments: list[str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = open(log, "ab")  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        [sys.executable, "-m", "classpulse.cli", *arguments],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env=os.environ.copy(),
        start_new_session=True,
    )


def rt_mart_logs(client) -> list[str]:
    """The real-time mart logs the warehouse has (``rt.*_log``), by name."""
    return [
        str(row[0])
        for row in client.query(
            "SELECT name FROM system.tables WHERE database = 'rt' AND endsWith(name, '_log') "
            "ORDER BY name"
        ).result_rows
    ]


def watch_live(
    settings: Settings, day: date, seed: int, seconds: int, console: Console, rate: int = 3000
) -> None:
    from classpulse import pipeline
    from classpulse.flink import pipeline as streaming
    from classpulse.java import ensure_java_home
    from classpulse.kafka.landing import land_from_kafka
    from classpulse.warehouse import get_client

    pipeline.ensure_warehouse(settings)
    pipeline.ensure_kafka(settings)
    ensure_java_home()
    live_dir = settings.home / "live"
    was_running = streaming.status(settings).running
    with console.status("starting the streaming pipeline (a Flink mini-cluster)…"):
        state = streaming.start(settings)
    stopping = threading.Event()
    landing_failure: list[BaseException] = []

    def land() -> None:
        try:
            land_from_kafka(settings, follow=True, should_stop=stopping.is_set)
        except BaseException as exc:  # shown by the watch loop
            landing_failure.append(exc)

    landing = threading.Thread(target=land, name="classpulse-landing", daemon=True)
    landing.start()
    generator = _spawn(
        [
            "generate",
            "--kafka",
            "--out",
            str(live_dir / "topics"),
            "--start",
            day.isoformat(),
            "--seed",
            str(seed),
            "--rate",
            str(rate),
            "--clean",
        ],
        live_dir / "generator.log",
    )
    client = get_client(settings)
    started = time.monotonic()
    console.print(
        f"live: {rate:,} msg/s produced into Kafka at {settings.kafka_bootstrap_servers}, "
        f"streaming pipeline job {state.job_id} (log {state.log}), landing following; "
        f"generator log in {live_dir}"
    )
    try:
        with Live(console=console, refresh_per_second=2) as live:
            while time.monotonic() - started < seconds:
                time.sleep(5)
                if not streaming.status(settings).running:
                    raise RuntimeError(
                        "the streaming pipeline stopped; see `classpulse flink status` and "
                        f"{state.log}"
                    )
                if landing_failure:
                    raise RuntimeError(f"the landing stopped: {landing_failure[0]}")
                table = Table(
                    title=f"real-time marts filling — {time.monotonic() - started:.0f}s",
                    header_style="bold cyan",
                )
                table.add_column("rt mart log")
                table.add_column("rows", justify="right")
                for name in rt_mart_logs(client):
                    rows = client.query(f"SELECT count() FROM rt.`{name}`").result_rows[0][0]
                    table.add_row(name, f"{rows:,}")
                lag = streaming.lag(settings)
                table.caption = f"pipeline consumer lag: {lag.total:,} messages"
                live.update(table)
    finally:
        generator.terminate()
        try:
            generator.wait(timeout=30)
        except subprocess.TimeoutExpired:
            generator.kill()
        stopping.set()
        landing.join(timeout=60)
        if not was_running:
            with console.status("stopping the streaming pipeline with a savepoint…"):
                streaming.stop(settings)
    console.print(
        "live watch finished; `make demo` runs the complete day with the offline marts "
        "(`classpulse flink run --env kafka --continuous` keeps the pipeline running)"
    )
