"""Watch the real-time path live: a paced replay into continuously running Flink jobs.

The generator writes small complete files at a fixed rate (``classpulse generate --rate``),
the Flink jobs run continuously over the topic directories (``classpulse flink run
--continuous``), and every few seconds the new output files are landed and the real-time
marts' row counts shown, so the marts visibly fill. Both helpers are child processes,
stopped when the watch ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from classpulse.config import Settings

MARTS = (
    "classroom_performance_1min",
    "av_quality_30s",
    "recorded_course_enter_time",
    "registrations_hourly_by_level",
    "cc_daily_tracking",
)


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


def watch_live(
    settings: Settings, day: date, seed: int, seconds: int, console: Console, rate: int = 3000
) -> None:
    from classpulse import pipeline
    from classpulse.loader import load_topics
    from classpulse.warehouse import get_client

    pipeline.ensure_warehouse(settings)
    live_dir = settings.home / "live"
    topics = live_dir / "topics"
    generator = _spawn(
        [
            "generate",
            "--out",
            str(topics),
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
    flink = _spawn(
        ["flink", "run", "--continuous", "--topics", str(topics)], live_dir / "flink.log"
    )
    client = get_client(settings)
    started = time.monotonic()
    console.print(
        f"live: generator at {rate:,} msg/s and continuous Flink jobs; logs in {live_dir}"
    )
    try:
        with Live(console=console, refresh_per_second=2) as live:
            while time.monotonic() - started < seconds:
                time.sleep(5)
                if flink.poll() is not None:
                    raise RuntimeError(f"the Flink jobs stopped; see {live_dir / 'flink.log'}")
                report = load_topics(settings, topics)
                table = Table(
                    title=f"real-time marts filling — {time.monotonic() - started:.0f}s",
                    header_style="bold cyan",
                )
                table.add_column("rt mart")
                table.add_column("rows", justify="right")
                for mart in MARTS:
                    rows = client.query(f"SELECT count() FROM rt.{mart}_log").result_rows[0][0]
                    table.add_row(mart, f"{rows:,}")
                table.caption = f"landed {report.rows:,} new rows this round"
                live.update(table)
    finally:
        for process in (generator, flink):
            process.terminate()
        for process in (generator, flink):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    console.print("live watch finished; `make demo` runs the complete day with the offline marts")
