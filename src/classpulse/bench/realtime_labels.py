"""The live-classroom labels and help triage in ``bench realtime`` (issue 11), side by side.

Hooked into :mod:`classpulse.bench.realtime` (same broker, warehouse, Flink session and rounds):

- the generated day gains the five live-classroom topics (``classroom_help.generator``, about
  1,350 messages per one-to-one lesson, as many lessons as the day's part-1 volume needs), in
  rooms the benchmark publishes as a preheat run into its own warehouse (``dim.live_room`` and
  ``dim.room_membership``, then published), so the enrichment lookups find them; the
  generator's share of unknown rooms stays unknown;
- ``labels`` in every round: the cleaning of the five topics and the union + labels + triage job
  (``mart_room_user_labels_30s``), bounded, exactly once: messages of the five topics per second
  of the jobs' own running time (goal: 100k/s on 2 cores, contract A.6);
- ``triage``, after the part-1 freshness: those jobs continuous, with the landing following,
  under a paced live load (rooms of a teacher and a student sending audio, video, device and
  courseware messages every second with their send time as event time, and help presses at a
  fixed rate): for each press, the time from its produce to its triage row being queryable in
  ``rt.help_request_triage_log``, p50/p95 (goal p95 <= 20 s); and the enrichment cache's hit
  rate, from the lookup function's own Flink counters
  (``classpulse_lookup.<relation>.cache_hits``/``cache_misses``, summed over subtasks, read
  through the job's REST API), goal >= 95 % after warm-up. ``WARM_UP`` says what warm-up is:
  the job's start and the first half of the paced load (by then every paced room has sent
  for a minute, so each of its keys has been looked up); the rate after warm-up counts the
  lookups of the second half and of the drain that follows it; the overall rate, every lookup
  since the job started, is reported beside it. A hit is an answer from the cache, fresh or
  stale while its one reload runs (refresh after write: the row that asked does not wait).

Nothing here asserts a duration; figures are comparable only within one run.
"""

from __future__ import annotations

import contextlib
import json
import math
import statistics
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classpulse.bench.landing_watch import landing_watch
from classpulse.bench.live_classroom_load import (
    DAY,
    ROOM_ID_BASE,
    LivePacer,
    bench_rooms,
    lessons_for,
    produce_live_classroom,
    publish_rooms,
)
from classpulse.bench.realtime_phases import stage_seconds, without_planning
from classpulse.classroom_help.records import LABEL_JOBS, TOPICS
from classpulse.config import Settings

# the load's steps ``bench realtime`` calls from here
__all__ = [
    "add_live_classroom",
    "measure_triage",
    "plot",
    "print_figures",
    "produce_live_classroom",
    "publish_rooms",
    "run_round",
]

TRIAGE_TABLE = "rt.help_request_triage_log"
# How often BusySampler sweeps the vertices. Each sweep asks the REST endpoint once per vertex
# (41 in the labels stage), and a request finding the metrics older than the fetcher interval
# (session.py: 0.5 s) makes the engine's JVM gather every metric of every task again: sweeps
# every 2 s took 16 % of the labels stage's CPU samples (JFR, docs/architecture.md).
SAMPLE_INTERVAL_S = 10.0
LOOKUP_METRIC_GROUP = "classpulse_lookup"
GOALS = {"labels_per_second": 100_000.0, "triage_p95_seconds": 20.0, "cache_hit_rate": 0.95}
LABEL = "Kafka → live-classroom cleaning + union + labels + triage → Kafka, exactly once"
TRIAGE_LABEL = "help press produced → triage row queryable in " + TRIAGE_TABLE
CACHE_LABEL = "enrichment lookup cache hit rate after warm-up"
WARM_UP = (
    "warm-up: the job's start and the first half of the paced load; after warm-up: the second "
    "half and the drain; a hit: an answer from the cache, fresh or served stale while it reloads"
)


@dataclass
class LabelsFigures:
    """What the live-classroom part measured (``RealtimeReport.labels``)."""

    lessons: int = 0
    published_rooms: int = 0
    produced: dict[str, int] = field(default_factory=dict)  # live-classroom topic -> messages
    seconds: list[float] = field(default_factory=list)  # per round
    planning_seconds: list[float] = field(default_factory=list)  # per round: of those, planning
    # per round: what the runner's progress metric saw the sources read (0: not reported; the
    # accounting of every live-classroom message is checked by realtime's full rounds)
    read: list[int] = field(default_factory=list)
    planner_failures: int = 0  # rounds given up after the planner's NPE three times
    paced_rooms: int = 0
    paced_messages: int = 0
    warm_up_messages: int = 0
    presses: int = 0  # measured help presses sent
    warm_up_presses: int = 0
    latency_ms: list[float] = field(default_factory=list)  # per measured press decided
    # the lookup counters at the end of the warm-up (half the paced load) and at the end
    cache_before: dict[str, int] = field(default_factory=dict)
    cache_after: dict[str, int] = field(default_factory=dict)
    # operator (vertex) name -> mean busy ms per second, summed over its subtasks, sampled
    # through the REST API while the labels rounds ran (what limits the labels' msg/s)
    busy_ms_per_second: dict[str, float] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return sum(self.produced.values())

    @property
    def per_second(self) -> float:
        if not self.seconds or not self.messages:
            return float("nan")
        return self.messages / statistics.median(self.seconds)

    @property
    def running_seconds(self) -> list[float]:
        """Each round's seconds without its stages' planning (a running job plans once)."""
        return without_planning(self.seconds, self.planning_seconds)

    @property
    def running_per_second(self) -> float:
        running = self.running_seconds
        if not running or not self.messages:
            return float("nan")
        return self.messages / statistics.median(running)

    @property
    def cache_hits(self) -> int:
        return self.cache_after.get("cache_hits", 0) - self.cache_before.get("cache_hits", 0)

    @property
    def cache_misses(self) -> int:
        return self.cache_after.get("cache_misses", 0) - self.cache_before.get("cache_misses", 0)

    def cache_counted(self, counter: str) -> int:
        """A lookup counter's growth over the measured load (after the warm-up)."""
        return self.cache_after.get(counter, 0) - self.cache_before.get(counter, 0)

    @property
    def cache_hit_rate(self) -> float:
        """After warm-up (``WARM_UP``)."""
        lookups = self.cache_hits + self.cache_misses
        return self.cache_hits / lookups if lookups > 0 else float("nan")

    @property
    def overall_hit_rate(self) -> float:
        """Every lookup since the job started, the cold misses of the first windows included."""
        hits = self.cache_after.get("cache_hits", 0)
        lookups = hits + self.cache_after.get("cache_misses", 0)
        return hits / lookups if lookups > 0 else float("nan")

    def as_dict(self) -> dict[str, Any]:
        def number(value: float) -> float | None:
            return None if math.isnan(value) else value

        return {
            "label": LABEL,
            "jobs": list(LABEL_JOBS),
            "lessons": self.lessons,
            "published_rooms": self.published_rooms,
            "produced": self.produced,
            "messages": self.messages,
            "read": self.read,
            "planner_failures": self.planner_failures,
            "seconds": self.seconds,
            "median_seconds": statistics.median(self.seconds) if self.seconds else None,
            "per_second": number(self.per_second),
            "planning_seconds": self.planning_seconds,
            "planning_excluded_per_second": number(self.running_per_second),
            "goal_per_second": GOALS["labels_per_second"],
            "busy_ms_per_second": self.busy_ms_per_second,
            "triage": {
                "label": TRIAGE_LABEL,
                "table": TRIAGE_TABLE,
                "paced_rooms": self.paced_rooms,
                "paced_messages": self.paced_messages,
                "warm_up_messages": self.warm_up_messages,
                "warm_up_presses": self.warm_up_presses,
                "presses": self.presses,
                "decided": len(self.latency_ms),
                "p50_seconds": _seconds(percentile(self.latency_ms, 0.5)),
                "p95_seconds": _seconds(percentile(self.latency_ms, 0.95)),
                "goal_p95_seconds": GOALS["triage_p95_seconds"],
                "latency_ms": self.latency_ms,
            },
            "cache": {
                "label": CACHE_LABEL,
                "warm_up": WARM_UP,
                "before": self.cache_before,
                "after": self.cache_after,
                "hits": self.cache_hits,
                "misses": self.cache_misses,
                # lookups answered timeout/error (a failed first load: not cached, asked again)
                "failed_lookups": self.cache_counted("failed_lookups"),
                # stale answers served while one reload replaced them; failed loads or reloads;
                # queries (one per batch of keys)
                "refreshes": self.cache_counted("refreshes"),
                "errors": self.cache_counted("errors"),
                "queries": self.cache_counted("queries"),
                "hit_rate": number(self.cache_hit_rate),
                "overall_hits": self.cache_after.get("cache_hits", 0),
                "overall_misses": self.cache_after.get("cache_misses", 0),
                "overall_hit_rate": number(self.overall_hit_rate),
                "goal_hit_rate": GOALS["cache_hit_rate"],
            },
        }


def percentile(values: list[float], share: float) -> float:
    from classpulse.bench.realtime import percentile as nearest_rank

    return nearest_rank(values, share)


def _seconds(milliseconds: float) -> float | None:
    return None if math.isnan(milliseconds) else milliseconds / 1000


# -- the day and its dimension ------------------------------------------------------------------


def add_live_classroom(
    topics_dir: Path, options: Any, report: Any, log: Callable[[str], None]
) -> None:
    """The five live-classroom topics beside the generated day (the benchmark's own day only;
    a day passed with ``--topics`` is used as it is)."""
    from classpulse.classroom_help.generator import LabelsOptions, generate_labels_day

    figures = report.labels = LabelsFigures(lessons=lessons_for(options))
    if options.topics_dir is not None or all((topics_dir / topic).is_dir() for topic in TOPICS):
        return
    log(f"generating the live-classroom topics ({figures.lessons:,} lessons)")
    generate_labels_day(
        LabelsOptions(day=DAY, seed=7, lessons=figures.lessons),
        topics_dir,
        bench_rooms(figures.lessons),
    )


# -- throughput: one bounded round --------------------------------------------------------------


def run_round(
    settings: Settings,
    session: Any,
    tag: str,
    options: Any,
    report: Any,
    log: Callable[[str], None],
    console: Any = None,
) -> None:
    """The live-classroom jobs bounded over the produced day, on emptied output topics."""
    from classpulse.bench.realtime import recreate_topics
    from classpulse.flink import pipeline

    figures: LabelsFigures = report.labels
    if not figures.messages:
        return
    _, middle, outputs = pipeline.pipeline_topics(settings)
    # Each attempt plans on a Python thread of its own, so on a Java thread of its own: the
    # planner's NPE under heavy load (Calcite's thread-local metadata provider missing) was seen
    # to stick to the thread it hit, and the main thread plans realtime's own rounds.
    sampler = BusySampler(f"{session.rest_host}:{session.rest_port}")
    for attempt in ("", "-again", "-third"):
        recreate_topics(settings, [*middle, *outputs])
        started = time.perf_counter()
        try:
            with sampler:
                result = on_a_thread_of_its_own(
                    lambda attempt=attempt: pipeline.run_bounded(
                        settings,
                        jobs=LABEL_JOBS,
                        group=f"bench-labels-{tag}{attempt}",
                        variables={
                            **dict(options.variables),
                            "KAFKA_TRANSACTIONAL_ID_PREFIX": f"bench-labels-{tag}{attempt}",
                        },
                        parallelism=options.parallelism,
                        session=session,
                        console=console,
                    )
                )
            break
        except Exception as exc:
            if "metadataHandlerProvider" not in str(exc):
                raise
            log("labels: the Flink planner failed (metadataHandlerProvider)")
            if attempt == "-third":
                # recorded, not fatal: the other measurements of the run still count
                figures.planner_failures += 1
                return
    wall = time.perf_counter() - started
    parts, planning = stage_seconds(result)
    seconds = sum(parts) if sum(parts) > 0 else wall - float(result.startup_seconds or 0.0)
    figures.seconds.append(seconds)
    figures.planning_seconds.append(sum(planning))
    figures.read.append(int(result.messages_read))
    figures.busy_ms_per_second = sampler.means()
    busiest = sorted(figures.busy_ms_per_second.items(), key=lambda item: -item[1])[:3]
    if busiest:
        log("labels: busiest operators " + "; ".join(f"{v:,.0f} ms/s {n[:70]}" for n, v in busiest))
    log(
        f"labels: {figures.messages / seconds:,.0f} msg/s ({figures.messages:,} messages, "
        f"{seconds:.2f} s, of which planning {sum(planning):.2f} s; read "
        f"{result.messages_read:,})"
    )


class BusySampler:
    """Samples ``busyTimeMsPerSecond`` (summed over subtasks) of every vertex of the running
    jobs of a Flink REST endpoint every ``SAMPLE_INTERVAL_S`` while in its ``with`` block;
    ``means()`` per vertex name over the samples taken while that vertex ran."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.samples: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://{self.address}{path}", timeout=5) as response:
            return json.loads(response.read() or b"null")

    def _sample(self) -> None:
        for job in self._get("/jobs").get("jobs", []):
            if job.get("status") != "RUNNING":
                continue
            for vertex in self._get(f"/jobs/{job['id']}").get("vertices", []):
                if vertex.get("status") != "RUNNING":
                    continue
                values = self._get(
                    f"/jobs/{job['id']}/vertices/{vertex['id']}/subtasks/metrics"
                    "?get=busyTimeMsPerSecond&agg=sum"
                )
                for item in values or []:
                    value = float(item.get("sum", float("nan")))
                    if not math.isnan(value):
                        self.samples.setdefault(vertex["name"], []).append(value)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                self._sample()

    def __enter__(self) -> BusySampler:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bench-labels-busy", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def means(self) -> dict[str, float]:
        return {name: statistics.fmean(values) for name, values in self.samples.items() if values}


def on_a_thread_of_its_own(action: Callable[[], Any]) -> Any:
    """``action()`` run on a new thread (its result, or its exception raised here)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as exc:  # raised again on the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="bench-labels-round")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# -- decision latency and cache hit rate under a paced load -------------------------------------


def lookup_counters(address: str, job_id: str) -> dict[str, int]:
    """The lookup functions' counters summed over every operator and subtask of the job:
    ``cache_hits``, ``cache_misses``, ``refreshes``, ``errors``, ``queries``,
    ``failed_lookups``."""

    def rest(path: str) -> Any:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=10) as response:
            return json.loads(response.read() or b"null")

    totals: dict[str, int] = {}
    for vertex in rest(f"/jobs/{job_id}").get("vertices", []):
        base = f"/jobs/{job_id}/vertices/{vertex['id']}/metrics"
        names = [
            item["id"]
            for item in rest(base) or []
            if f".{LOOKUP_METRIC_GROUP}." in f".{item['id']}"
        ]
        if not names:
            continue
        for item in rest(f"{base}?get={','.join(names)}") or []:
            counter = item["id"].rsplit(".", 1)[-1]
            with contextlib.suppress(TypeError, ValueError):
                totals[counter] = totals.get(counter, 0) + int(float(item["value"]))
    return totals


def measure_triage(
    settings: Settings, options: Any, report: Any, log: Callable[[str], None]
) -> None:
    """Decision latency and the cache hit rate under a paced load (see the module doc)."""
    from classpulse.bench.realtime import WARM_UP_TIMEOUT_S
    from classpulse.bench.realtime_setup import fresh_paced_run, start_paced_pipeline
    from classpulse.flink import pipeline
    from classpulse.kafka.produce import TopicProducer

    figures: LabelsFigures = report.labels
    if not figures.published_rooms:
        return
    count = min(figures.published_rooms, 40 if options.quick else 200)
    known = bench_rooms(count)
    rooms = [(room.room_id, room.tutor_id, room.student_ids[0]) for room in known]
    unknown = max(1, count // 10)  # rooms no preheat knows: misses, cached 10 s
    rooms += [(ROOM_ID_BASE - 1 - i, 3_900_000 + i, 1_900_000 + i) for i in range(unknown)]
    figures.paced_rooms = len(rooms)
    tag = fresh_paced_run(settings)
    log(f"triage: starting the live-classroom jobs continuously ({len(rooms)} paced rooms)")
    try:
        current = start_paced_pipeline(
            settings,
            f"bench-labels-stream-{tag}",
            options.parallelism,
            options.checkpoint_interval,
            dict(options.variables),
            LABEL_JOBS,
        )
        state = json.loads(pipeline.files_for(settings).state_file.read_text())
        address = f"127.0.0.1:{state['rest_port']}"
        with landing_watch(
            settings,
            f"bench-labels-follow-{tag}",
            f"SELECT DISTINCT request_id FROM {TRIAGE_TABLE} WHERE source = {{source:String}}",
            {"source": "help"},  # request_id -> first wall time its row was queryable (ms)
        ) as watch:
            seen, errors = watch.seen, watch.errors
            producer = TopicProducer(settings, extra={"linger.ms": 5})
            pacer = LivePacer(producer, rooms, press_rate=2.0)
            pacer.enter()
            log("triage: warming up (paced load until a first triage row is queryable)")
            deadline = time.monotonic() + WARM_UP_TIMEOUT_S
            while not seen and not errors:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"triage: no row in {TRIAGE_TABLE} after the warm-up")
                pacer.run_for(1.0, presses=True, measured=False)
            figures.warm_up_messages = pacer.messages
            figures.warm_up_presses = pacer.presses
            log(f"triage: paced load for {options.pace_seconds:g} s")
            begun = time.monotonic()
            half_way = False
            decided = 0
            shown = (-1, -1, begun)  # presses, decided, when: logged on change or every 10 s
            while time.monotonic() - begun < options.pace_seconds and not errors:
                elapsed = time.monotonic() - begun
                if not half_way and elapsed >= options.pace_seconds / 2:
                    # the warm-up ends (WARM_UP). The REST API serves metrics fetched every
                    # 10 s: counters read now may be up to 10 s old, so a few warm-up lookups
                    # count after it (the rate after warm-up can only come out lower)
                    figures.cache_before = lookup_counters(address, current.job_id)
                    half_way = True
                    log("triage: warm-up over (half the paced load), lookup counters read")
                # steps end at the half-way point, then every 10 s
                step_end = options.pace_seconds if half_way else options.pace_seconds / 2
                pacer.run_for(max(0.1, min(10.0, step_end - elapsed)), presses=True, measured=True)
                decided = len(pacer.sent.keys() & seen.keys())
                if (len(pacer.sent), decided) != shown[:2] or time.monotonic() - shown[2] >= 10:
                    log(f"triage: {len(pacer.sent):,} presses, {decided:,} decided")
                    shown = (len(pacer.sent), decided, time.monotonic())
            # the last presses are decided once the watermark passes their window: keep the
            # samples flowing (no more presses) until every press is seen, or for 90 s
            deadline = time.monotonic() + 90
            while (
                time.monotonic() < deadline and not errors and not pacer.sent.keys() <= seen.keys()
            ):
                pacer.run_for(1.0, presses=False, measured=False)
                decided = len(pacer.sent.keys() & seen.keys())
                if decided != shown[1] or time.monotonic() - shown[2] >= 10:
                    log(f"triage: {len(pacer.sent):,} presses, {decided:,} decided (waiting)")
                    shown = (len(pacer.sent), decided, time.monotonic())
            producer.flush()
            # the REST API serves metrics fetched every 10 s
            time.sleep(11)
            figures.cache_after = lookup_counters(address, current.job_id)
            figures.paced_messages = pacer.messages - figures.warm_up_messages
    finally:
        pipeline.stop(settings, savepoint=False)
    figures.presses = len(pacer.sent)
    figures.latency_ms = [
        seen[request_id] - produced
        for request_id, produced in pacer.sent.items()
        if request_id in seen
    ]
    log(
        f"triage: {len(figures.latency_ms):,} of {figures.presses:,} presses decided; cache "
        f"hits {figures.cache_hits:,}, misses {figures.cache_misses:,}"
    )


# -- output ------------------------------------------------------------------------------------


def plot(axis: Any, report: Any) -> None:
    """The decision latency histogram, with the throughput and the hit rate in the title."""
    figures: LabelsFigures | None = getattr(report, "labels", None)
    if figures is None:
        return
    if figures.latency_ms:
        axis.hist([value / 1000 for value in figures.latency_ms], bins=30, color="#55a868")
        for share, style in ((0.5, "dotted"), (0.95, "dashed")):
            axis.axvline(percentile(figures.latency_ms, share) / 1000, color="k", ls=style)
        axis.axvline(GOALS["triage_p95_seconds"], color="red", ls="dashed")
    rate = figures.per_second
    hit = figures.cache_hit_rate
    axis.set_title(
        "Labels + triage: "
        + ("–" if math.isnan(rate) else f"{rate / 1000:,.0f}k msg/s")
        + " (goal 100k); cache hits "
        + ("–" if math.isnan(hit) else f"{hit:.1%}")
        + " (goal 95%)",
        fontsize=9,
    )
    axis.set_xlabel("help press → rt triage row (s); p50 dotted, p95 dashed, goal red")


def print_figures(report: Any, console: Any) -> None:
    """The live-classroom table: throughput, decision latency, cache hit rate, each with its
    goal and the part-1 Flink rate beside it."""
    from rich.table import Table

    figures: LabelsFigures | None = getattr(report, "labels", None)
    if figures is None:
        return
    table = Table(
        title=(
            f"Live classroom: {figures.lessons:,} lessons ({figures.messages:,} messages), "
            f"{figures.published_rooms:,} preheated rooms; paced: {figures.paced_rooms} rooms, "
            "2 presses/s"
        ),
        header_style="bold cyan",
    )
    for column in ("measurement", "amount", "median / p50", "per second / p95", "goal"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    rate = figures.per_second
    flink_rate = report.rate("flink")
    ratio = (
        "" if math.isnan(rate) or math.isnan(flink_rate) else f" ({rate / flink_rate:.2f}x flink)"
    )
    table.add_row(
        LABEL,
        f"{figures.messages:,} messages",
        f"{statistics.median(figures.seconds):.2f} s" if figures.seconds else "–",
        ("–" if math.isnan(rate) else f"{rate:,.0f} msg/s") + ratio,
        f"{GOALS['labels_per_second']:,.0f}/s",
    )
    running = figures.running_per_second
    table.add_row(
        "… the same rounds without planning (a running job plans once)",
        f"{figures.messages:,} messages",
        f"{statistics.median(figures.running_seconds):.2f} s" if figures.running_seconds else "–",
        "–" if math.isnan(running) else f"{running:,.0f} msg/s",
        "",
    )

    def shown(share: float) -> str:
        value = percentile(figures.latency_ms, share)
        return "–" if math.isnan(value) else f"{value / 1000:.2f} s"

    table.add_row(
        TRIAGE_LABEL,
        f"{len(figures.latency_ms):,} of {figures.presses:,} presses",
        shown(0.5),
        shown(0.95),
        f"p95 ≤ {GOALS['triage_p95_seconds']:g} s",
    )
    hit = figures.cache_hit_rate
    table.add_row(
        CACHE_LABEL,
        f"{figures.cache_hits + figures.cache_misses:,} lookups "
        f"({figures.cache_counted('failed_lookups'):,} failed, "
        f"{figures.cache_counted('refreshes'):,} refreshed, "
        f"{figures.cache_counted('queries'):,} queries)",
        f"{figures.cache_hits:,} hits",
        "–" if math.isnan(hit) else f"{hit:.1%}",
        f"≥ {GOALS['cache_hit_rate']:.0%}",
    )
    overall = figures.overall_hit_rate
    table.add_row(
        "enrichment lookup cache hit rate, overall (since the job started)",
        f"{figures.cache_after.get('cache_hits', 0) + figures.cache_after.get('cache_misses', 0):,}"
        " lookups",
        f"{figures.cache_after.get('cache_hits', 0):,} hits",
        "–" if math.isnan(overall) else f"{overall:.1%}",
        "",
    )
    table.caption = WARM_UP
    console.print(table)
