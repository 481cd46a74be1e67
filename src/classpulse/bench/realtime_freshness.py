"""Freshness under a paced load: produce to queryable in rt.av_quality_30s_log, per message."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classpulse.bench.landing_watch import landing_watch
from classpulse.bench.realtime_setup import (
    RealtimeOptions,
    fresh_paced_run,
    start_paced_pipeline,
)
from classpulse.config import Settings

if TYPE_CHECKING:
    from classpulse.bench.realtime_results import RealtimeReport


FRESHNESS_TOPIC = "agora_record"
FRESHNESS_TABLE = "rt.av_quality_30s_log"
FRESHNESS_WINDOW_MS = 30_000
WARM_UP_TIMEOUT_S = 900.0


def paced_templates(topics_dir: Path, limit: int = 20_000) -> list[dict[str, Any]]:
    """Valid generated student ``agora_record`` messages (those feed av_quality_30s), to send
    again with a live event time."""
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
                    and isinstance(message.get("messageCreateTime"), int)
                    and message.get("user_type") == "student"
                    and isinstance(message.get("event"), str)
                    and message.get("classroom_id")
                ):
                    found.append(message)
                if len(found) >= limit:
                    return found
    if not found:
        raise ValueError(f"no valid student {FRESHNESS_TOPIC} messages under {topics_dir}")
    return found


def measure_freshness(
    settings: Settings,
    topics_dir: Path,
    options: RealtimeOptions,
    report: RealtimeReport,
    log: Callable[[str], None],
) -> None:
    from classpulse.flink import pipeline
    from classpulse.kafka.produce import TopicProducer

    templates = paced_templates(topics_dir)
    tag = fresh_paced_run(settings)  # the paced messages only
    delay = options.watermark_delay_seconds
    log(f"freshness: starting the continuous pipeline (watermark delay {delay} s)")
    started = time.perf_counter()
    try:
        start_paced_pipeline(
            settings,
            f"bench-stream-{tag}",
            options.parallelism,
            options.checkpoint_interval,
            {**dict(options.variables), "WATERMARK_DELAY_SECONDS": str(delay)},
        )
        report.pipeline_start_seconds = time.perf_counter() - started
        sent: list[int] = []  # wall ms at produce = the event time (measured phase only)
        closed_windows: set[int] = set()
        with landing_watch(
            settings,
            f"bench-follow-{tag}",
            f"SELECT DISTINCT toUnixTimestamp(start_time) FROM {FRESHNESS_TABLE}",
            # window start (epoch ms) -> first wall time queryable (ms)
            key=lambda start: int(start) * 1000,
        ) as watch:
            seen, errors = watch.seen, watch.errors
            producer = TopicProducer(settings, extra={"linger.ms": 5})
            pacer = Pacer(producer, templates, options.rate)
            # warm-up: the job may still be deploying its tasks after start() returned; pace until
            # a first window is queryable, so only a running, warmed-up pipeline is measured
            log("freshness: warming up (paced load until a first window is queryable)")
            deadline = time.monotonic() + WARM_UP_TIMEOUT_S
            while not seen and not errors:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"freshness: no window queryable in {FRESHNESS_TABLE} after "
                        f"{WARM_UP_TIMEOUT_S:.0f} s of paced load"
                    )
                pacer.send_for(1.0)
            report.warm_up_messages = pacer.number
            log(f"freshness: paced load, {options.rate:g} msg/s for {options.pace_seconds:g} s")
            begun = time.monotonic()
            while time.monotonic() - begun < options.pace_seconds and not errors:
                sent.extend(
                    pacer.send_for(min(10.0, options.pace_seconds - (time.monotonic() - begun)))
                )
                log(f"freshness: {len(sent):,} sent, {len(seen)} windows queryable")
            producer.flush()
            closable = sent[-1] - delay * 1000 if sent else 0
            closed_windows = {
                event - event % FRESHNESS_WINDOW_MS
                for event in sent
                if event - event % FRESHNESS_WINDOW_MS + FRESHNESS_WINDOW_MS <= closable
            }
            # the last closable window needs the watermark, two checkpoints and a landing batch
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not closed_windows <= seen.keys() and not errors:
                time.sleep(0.25)
    finally:
        pipeline.stop(settings, savepoint=False)  # also when start() itself failed
    report.paced_messages = len(sent)
    report.windows_seen = len(closed_windows & seen.keys())
    for event in sent:
        window = event - event % FRESHNESS_WINDOW_MS
        if window in closed_windows and window in seen:
            report.freshness_ms.append(seen[window] - event)
            report.after_close_ms.append(
                seen[window] - (window + FRESHNESS_WINDOW_MS + delay * 1000)
            )


class Pacer:
    """Sends template messages at a fixed rate, each with its send time as its event time."""

    def __init__(self, producer: Any, templates: list[dict[str, Any]], rate: float) -> None:
        self.producer = producer
        self.templates = templates
        self.interval = 1.0 / rate
        self.number = 0
        self.begun: float | None = None

    def send_for(self, seconds: float) -> list[int]:
        """Send for ``seconds`` on the schedule; the event times (epoch ms) sent."""
        if self.begun is None:
            self.begun = time.monotonic()
        until = time.monotonic() + seconds
        sent = []
        while True:
            due = self.begun + self.number * self.interval
            if due >= until:
                break
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            now_ms = int(time.time() * 1000)
            message = dict(self.templates[self.number % len(self.templates)])
            message["messageCreateTime"] = now_ms
            self.producer.send(
                FRESHNESS_TOPIC, json.dumps(message).encode(), str(message["classroom_id"]).encode()
            )
            sent.append(now_ms)
            self.number += 1
        return sent
