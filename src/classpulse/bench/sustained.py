"""The continuous pipeline's sustained rate on a backlog (issue 10, beside the bounded figure).

A bounded run pays per run what a running pipeline pays once: planning the statement sets,
starting a mini-cluster and deploying the tasks per stage, the final checkpoint, and the marts
starting only after the cleaning has committed. On a few hundred thousand messages those fixed
costs are most of the bounded figure, so the benchmark also reports the rate of a *running* job:
every job as one continuous Flink job (the cleaning and the marts running side by side, exactly
once, checkpoints committing the transactions), started on the day already produced into Kafka
with a group of its own. The mini-cluster's REST metrics give the records its sources have read
(``<subtask>.Source__<table>.numRecordsOut``); sampled over time, the rate is taken between 10 %
and 90 % of the backlog, so the start (planning, deploying) and the tail are outside it. The
marts' sources (the clean topics, visible to them when a checkpoint commits) are measured the
same way, between 10 % and 90 % of what they read in the end.

``classpulse bench sustained`` (:func:`compare_variants`) runs this measurement once per variant
(parallelism, one sink per table or one per INSERT, Flink options, ``${VAR}``s) on one backlog,
and records where the running job spends its time: its task count, each vertex's busy and
back-pressured milliseconds per second (REST), optionally a JFR recording of the engine, and the
CPU seconds of every process of the pipeline (the engine's JVM, the broker, the warehouse, this
Python) per thread group (/proc) from the first record read to the last, which divided by the
backlog is the CPU a raw message costs, item by item.
With ``live_classroom`` the backlog is the five live-classroom topics instead (the generator of
``bench realtime``'s labels round, its rooms published as a preheat run so the enrichment finds
them) and only their jobs run: the cleaning, then the union + labels + triage job (issue 11).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from classpulse.config import Settings

SAMPLE_INTERVAL_S = 1.0


@dataclass
class SustainedResult:
    backlog: int  # source messages waiting when the job started
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (s, first, later)
    first_stage_per_second: float | None = None  # cleaning sources, 10 % .. 90 % of backlog
    later_stage_per_second: float | None = None  # mart sources (clean topics), 10 % .. 90 %
    later_rows: int = 0  # records the mart sources read in the end
    caught_up_seconds: float | None = None  # from submission until everything was read
    submitted_to_first_record_seconds: float | None = None
    # CPU seconds per (process, thread group) from the first record read to the last
    cpu_seconds: dict[tuple[str, str], float] = field(default_factory=dict)


def thread_group(name: str) -> str:
    """A thread's name without its number (``GC Thread#3``, ``kafka-producer-network-thread | x``,
    a task's ``(1/2)#0``), so that the threads of one kind sum; /proc gives 15 characters."""
    return re.sub(r"[-#\s|]*[0-9]+$", "", name.strip()) or name


def cpu_by_thread(processes: dict[str, int]) -> dict[tuple[str, str], float]:
    """Each named process's CPU seconds (user + system, /proc) per thread group, so that a
    difference of two readings says where the machine's CPU went between them."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[tuple[str, str], float] = {}
    for process, pid in processes.items():
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as handle:
                    name, seconds = thread_cpu(handle.read(), ticks)
            except OSError:
                continue  # the thread ended
            key = (process, thread_group(name))
            totals[key] = totals.get(key, 0.0) + seconds
    return totals


def thread_cpu(stat: str, ticks: int) -> tuple[str, float]:
    """A ``/proc/<pid>/task/<tid>/stat`` line's thread name and CPU seconds (user + system,
    fields 14 and 15, in ``ticks`` per second). The name is between the first ``(`` and the
    last ``)``: it may hold both."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return stat[stat.index("(") + 1 : stat.rindex(")")], (int(fields[11]) + int(fields[12])) / ticks


def cpu_per_message(result: SustainedResult, by: int = 0) -> dict[str, float]:
    """Microseconds of CPU per backlog message, summed by process (``by=0``) or by thread group
    within a process (``by=1``), largest first: where the machine's CPU went per message."""
    sums: dict[str, float] = {}
    for key, seconds in result.cpu_seconds.items():
        sums[key[by]] = sums.get(key[by], 0.0) + seconds * 1e6 / max(result.backlog, 1)
    return dict(sorted(sums.items(), key=lambda item: -item[1]))


def rate_between(samples: list[tuple[float, int]], total: int) -> float | None:
    """Records per second between the first samples at or above 10 % and 90 % of ``total``."""
    if total <= 0:
        return None
    low = next((sample for sample in samples if sample[1] >= 0.1 * total), None)
    high = next((sample for sample in samples if sample[1] >= 0.9 * total), None)
    if low is None or high is None or high[0] <= low[0]:
        return None
    return (high[1] - low[1]) / (high[0] - low[0])


def machine_processes(settings: Settings) -> dict[str, int]:
    """The processes the pipeline's CPU goes to: the engine's JVM (the mini-cluster), the Kafka
    broker, the warehouse (the dimension lookups) and this Python process."""
    from classpulse.kafka import broker
    from classpulse.warehouse import daemon

    found = {
        "engine": _engine_pid(),
        "broker": broker.read_pid(broker.files_for(settings)),
        "warehouse": daemon.read_pid(daemon.ServerFiles(settings.warehouse_path)),
        "python": os.getpid(),
    }
    return {name: int(pid) for name, pid in found.items() if pid}


def measure_sustained(
    settings: Settings,
    session: Any,
    tag: str,
    backlog: int,
    parallelism: int,
    variables: dict[str, str] | None = None,
    log: Callable[[str], None] = lambda text: None,
    config: dict[str, str] | None = None,
    timeout_s: float = 1800.0,
    one_sink_per_table: bool = True,
    quiet_s: float = 6.0,
    jobs: tuple[str, ...] = (),
) -> SustainedResult:
    """Run every job continuously on the produced backlog until all of it (and every clean row
    the cleaning committed) was read, sampling the sources; then stop the job (savepoint)."""
    from classpulse.flink import pipeline
    from classpulse.flink.progress import SourceRecords
    from classpulse.flink.runner import RunOptions, load_catalog, run_jobs
    from classpulse.flink.sqlfiles import plan_stages

    catalog = load_catalog(settings.root, "kafka")
    first_tables = set().union(*(job.inputs for job in plan_stages(catalog.select(jobs))[0]))
    result = SustainedResult(backlog)
    stop = threading.Event()
    submitted: list[tuple[str, float]] = []
    errors: list[BaseException] = []

    def watch() -> None:
        try:
            while not submitted and not stop.is_set():
                time.sleep(0.2)
            if stop.is_set():
                return
            job_id, started = submitted[0]
            counter = SourceRecords(session.rest_host, session.rest_port, job_id)
            last_change = time.perf_counter()
            last_later = most_read = -1
            processes = machine_processes(settings)
            cpu_at_first: dict[tuple[str, str], float] = {}
            while not stop.is_set():
                counts = counter.read()
                now = time.perf_counter()
                if counts is not None:
                    first = sum(n for table, n in counts.items() if table in first_tables)
                    later = sum(n for table, n in counts.items() if table not in first_tables)
                    result.samples.append((now - started, first, later))
                    if first and result.submitted_to_first_record_seconds is None:
                        result.submitted_to_first_record_seconds = now - started
                        cpu_at_first = cpu_by_thread(processes)
                    # the greatest count seen: a read that missed a subtask's counter (a
                    # loaded machine) is lower and must not restart the quiet period
                    most_read = max(most_read, first)
                    if later > last_later:
                        last_later, last_change = later, now
                        if cpu_at_first:  # /proc read only when the reading is kept
                            result.cpu_seconds = {
                                key: seconds - cpu_at_first.get(key, 0.0)
                                for key, seconds in cpu_by_thread(processes).items()
                            }
                    # all read, and the marts' sources saw nothing new for a few checkpoints
                    if most_read >= backlog and now - last_change >= quiet_s:
                        result.caught_up_seconds = last_change - started
                        break
                if now - started > timeout_s:
                    log(f"sustained: not caught up after {timeout_s:.0f} s; stopping")
                    break
                # each sample is a REST query per source vertex, and each makes the mini-cluster
                # gather every task's metrics (MetricStore: ~5 % of the engine's CPU in a JFR
                # at 4 samples/s): sample once a second
                time.sleep(SAMPLE_INTERVAL_S)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            stop.set()

    watcher = threading.Thread(target=watch, name="sustained-watch", daemon=True)
    watcher.start()
    group = f"bench-sustained-{tag}"
    try:
        run_jobs(
            RunOptions(
                env="kafka",
                bounded=False,
                variables={
                    "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
                    "KAFKA_GROUP_ID": group,
                    "KAFKA_TRANSACTIONAL_ID_PREFIX": f"bench-sustained-{tag}",
                    **(variables or {}),
                },
                parallelism=parallelism,
                checkpoint_interval="1 s",  # the marts see clean rows when a checkpoint commits
                config=dict(config or {}),
                one_sink_per_table=one_sink_per_table,
                jars=pipeline.kafka_jars(),
                jobs=jobs,
            ),
            settings,
            session=session,
            stop=stop,
            on_submit=lambda job_id: submitted.append((job_id, time.perf_counter())),
        )
    finally:
        stop.set()
        watcher.join(30)
    if errors:
        raise errors[0]
    result.first_stage_per_second = rate_between([(t, f) for t, f, _ in result.samples], backlog)
    result.later_rows = max((later for _, _, later in result.samples), default=0)
    result.later_stage_per_second = rate_between(
        [(t, later) for t, _, later in result.samples], result.later_rows
    )
    return result


@dataclass(frozen=True)
class Variant:
    """One way of running the continuous job, compared with the others on the same backlog."""

    name: str
    parallelism: int = 2
    one_sink_per_table: bool = True
    config: tuple[tuple[str, str], ...] = ()  # Flink options
    variables: tuple[tuple[str, str], ...] = ()  # ${VAR}s of the SQL files
    profile_seconds: float = 0.0  # a JFR recording of the engine's JVM once every task runs

    @classmethod
    def parse(cls, text: str) -> Variant:
        """``NAME[:key=value,...]``; keys ``parallelism``, ``one-sink-per-table``
        (true/false), ``profile`` (JFR seconds), ``var.NAME`` and any Flink option."""
        name, _, rest = text.partition(":")
        changes: dict[str, Any] = {"name": name}
        config: list[tuple[str, str]] = []
        variables: list[tuple[str, str]] = []
        for pair in filter(None, rest.split(",")):
            key, separator, value = pair.partition("=")
            if not separator:
                raise ValueError(f"variant {name}: expected key=value, got {pair!r}")
            if key == "parallelism":
                changes["parallelism"] = int(value)
            elif key == "one-sink-per-table":
                changes["one_sink_per_table"] = value.lower() in ("1", "true", "yes")
            elif key == "profile":
                changes["profile_seconds"] = float(value)
            elif key.startswith("var."):
                variables.append((key[4:], value))
            else:
                config.append((key, value))
        return cls(**changes, config=tuple(config), variables=tuple(variables))


@dataclass
class VariantResult:
    variant: Variant
    sustained: SustainedResult
    tasks: int | None = None  # subtasks of the running job
    vertices: list[dict[str, Any]] = field(default_factory=list)  # busy/back-pressured ms/s
    profile: str | None = None  # the JFR file


def _engine_pid() -> str | None:
    """The JVM of this process's PyFlink gateway (the local mini-cluster runs in it)."""
    import os
    import subprocess
    from pathlib import Path

    children = subprocess.run(
        ["pgrep", "-P", str(os.getpid()), "java"], capture_output=True, text=True
    ).stdout.split()
    for pid in children:
        try:
            if "pyflink" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                return pid
        except OSError:
            continue
    return None


def observe_running_job(
    session: Any, outcome: VariantResult, directory: Any, stop: threading.Event, settle_s: float
) -> None:
    """Once every task of the running job runs (and ``settle_s`` later): the tasks' busy and
    back-pressured time per vertex (Flink REST, summed over subtasks) and, if asked, a JFR
    recording of the engine's JVM (``jcmd JFR.start``)."""
    import json
    import subprocess
    import urllib.request

    base = f"http://{session.rest_host}:{session.rest_port}"

    def get(path: str) -> Any:
        with urllib.request.urlopen(base + path, timeout=10) as response:
            return json.load(response)

    job_id = None
    while not stop.is_set() and job_id is None:
        time.sleep(1)
        try:
            for job in get("/jobs/overview")["jobs"]:
                if job["state"] != "RUNNING":
                    continue
                vertices = get(f"/jobs/{job['jid']}")["vertices"]
                if vertices and all(vertex["status"] == "RUNNING" for vertex in vertices):
                    job_id = job["jid"]
        except OSError:
            continue
    if stop.wait(settle_s) or job_id is None:
        return
    pid = _engine_pid()
    if outcome.variant.profile_seconds and pid:
        path = directory / f"sustained-{outcome.variant.name}.jfr"
        subprocess.run(
            [
                "jcmd",
                pid,
                "JFR.start",
                f"duration={outcome.variant.profile_seconds:.0f}s",
                f"filename={path}",
                "settings=profile",
            ],
            capture_output=True,
            check=False,
        )
        outcome.profile = str(path)
    if stop.wait(5):
        return
    wanted = "busyTimeMsPerSecond,backPressuredTimeMsPerSecond,numRecordsInPerSecond"
    try:
        vertices = get(f"/jobs/{job_id}")["vertices"]
        outcome.tasks = sum(vertex["parallelism"] for vertex in vertices)
        for vertex in vertices:
            values = get(
                f"/jobs/{job_id}/vertices/{vertex['id']}/subtasks/metrics?get={wanted}&agg=sum"
            )
            row: dict[str, Any] = {"name": vertex["name"], "parallelism": vertex["parallelism"]}
            for item in values:
                value = float(item.get("sum", 0.0))
                row[item["id"]] = 0.0 if value != value else value  # NaN before a first sample
            outcome.vertices.append(row)
    except (OSError, ValueError, KeyError):
        pass


def compare_variants(
    messages: int,
    variants: list[Variant],
    log: Callable[[str], None] = lambda text: None,
    output_dir: Any = None,
    live_classroom: bool = False,
) -> list[VariantResult]:
    """The sustained rate of each variant on one generated day produced once into a broker of
    its own (the figures are ratios: valid only side by side, in one run); ``live_classroom``:
    the live-classroom topics and jobs only."""
    import shutil
    import tempfile
    import uuid
    from pathlib import Path

    from classpulse.bench import realtime, realtime_labels
    from classpulse.bench.realtime_results import RealtimeReport
    from classpulse.classroom_help.records import LABEL_JOBS
    from classpulse.flink import pipeline
    from classpulse.flink.session import FlinkSession, SessionOptions
    from classpulse.java import ensure_java_home
    from classpulse.kafka import broker
    from classpulse.kafka.admin import create_topics
    from classpulse.warehouse import daemon

    ensure_java_home()
    options = realtime.RealtimeOptions(messages=messages, repeats=1)
    topics_dir = realtime.generated_day(options, log)
    report = RealtimeReport(options)  # what the live-classroom load records
    if live_classroom:
        realtime_labels.add_live_classroom(topics_dir, options, report, log)
    jobs = tuple(LABEL_JOBS) if live_classroom else ()
    scratch = Path(tempfile.mkdtemp(prefix="classpulse-bench-sustained-"))
    output = Path(output_dir) if output_dir else scratch
    output.mkdir(parents=True, exist_ok=True)
    settings = realtime.bench_settings(scratch, options)
    results: list[VariantResult] = []
    started_broker = started_warehouse = False
    try:
        with realtime.bench_environment(settings, options):
            broker.start(settings)
            started_broker = True
            daemon.start(settings)  # the dimension lookups' warehouse
            started_warehouse = True
            if live_classroom:
                realtime_labels.publish_rooms(settings, report)
            session = FlinkSession(
                SessionOptions(
                    checkpoint_dir=scratch / "checkpoints",
                    jars=pipeline.kafka_jars(),
                    timezone=settings.timezone,
                )
            )
            sources, middle, outputs = pipeline.pipeline_topics(settings)
            if live_classroom:
                create_topics(settings, sources)
                realtime_labels.produce_live_classroom(settings, topics_dir, report)
                backlog = sum(report.labels.produced.values())
            else:
                backlog = sum(realtime.produce_day(settings, topics_dir, sources).values())
            log(f"produced {backlog:,} messages")
            for variant in variants:
                realtime.recreate_topics(settings, [*middle, *outputs])
                outcome = VariantResult(variant, SustainedResult(backlog))
                done = threading.Event()
                observer = threading.Thread(
                    target=observe_running_job,
                    args=(session, outcome, output, done, 10.0),
                    daemon=True,
                )
                observer.start()
                try:
                    outcome.sustained = measure_sustained(
                        settings,
                        session,
                        f"{variant.name}-{uuid.uuid4().hex[:6]}",
                        backlog,
                        variant.parallelism,
                        dict(variant.variables),
                        log,
                        config=dict(variant.config),
                        one_sink_per_table=variant.one_sink_per_table,
                        jobs=jobs,
                    )
                finally:
                    done.set()
                    observer.join(30)
                results.append(outcome)
                log(
                    f"{variant.name}: cleaning {outcome.sustained.first_stage_per_second or 0:,.0f}"
                    f" msg/s, marts {outcome.sustained.later_stage_per_second or 0:,.0f} msg/s, "
                    f"{outcome.tasks} tasks"
                )
    finally:
        if started_warehouse:
            daemon.stop(settings)
        if started_broker:
            broker.stop(settings)
        shutil.rmtree(scratch / "kafka", ignore_errors=True)
        shutil.rmtree(scratch / "warehouse", ignore_errors=True)
    return results
