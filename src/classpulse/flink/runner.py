"""Run the Flink SQL jobs over Kafka: bounded to the end offsets of now, or continuously.

``run_jobs`` discovers ``flink_sql/jobs/*.sql``, renders the Kafka connector DDL
(``flink_sql/tables`` with the options of ``flink_sql/connectors/kafka.yaml``) with strict ``${VAR}`` substitution, registers every table in
one TableEnvironment and submits the jobs as STATEMENT SETs, so a source read by several sinks
(or several jobs) is read once and start-up is paid once.

Continuous: all jobs form one Flink job; its Kafka sinks commit their transactions on every
checkpoint; it runs until stopped. Bounded (``scan.bounded.mode = latest-offset``): a bounded
Kafka source fixes its stopping offsets when it starts, so a job reading a topic another
selected job writes (the marts read the cleaning's topics) runs as a later stage, a Flink job
of its own that starts once the earlier stage has committed. Kafka keeps each partition in
order, so a stage reads its input in the order it was written.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classpulse.config import Settings, load_settings
from classpulse.flink.accounting import Accounting
from classpulse.flink.progress import GATHER_LEAD_S, JobMetrics, RunDisplay
from classpulse.flink.session import FlinkSession, SessionOptions
from classpulse.flink.sqlfiles import (
    ConnectorTable,
    Job,
    discover_jobs,
    plan_stages,
    read_connector_tables,
)
from classpulse.flink.variables import Variables, render, resolve_variables

ENVIRONMENTS = ("kafka",)  # the connector sets under flink_sql/connectors/
JOBMANAGER_VARIABLE = "CLASSPULSE_FLINK_JOBMANAGER"
JARS_VARIABLE = "CLASSPULSE_FLINK_JARS"
PROPERTIES_VARIABLE = "CLASSPULSE_FLINK_PROPERTIES"  # "key: value" lines, applied to every job


def parse_properties(text: str) -> dict[str, str]:
    """Flink options in the Flink image's FLINK_PROPERTIES format: one ``key: value`` per line."""
    properties = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, separator, value = line.partition(":")
        if not separator:
            raise RunError(f"{PROPERTIES_VARIABLE}: expected 'key: value', got {line!r}")
        properties[key.strip()] = value.strip()
    return properties


def unique_transactional_ids(statement: str, prefix: str, job: str, number: int) -> str:
    """Give one INSERT's Kafka sink a transactional-id prefix of its own (a table hint).

    Several INSERTs write the same table (rejected_messages, topic_accounting, late_events);
    each is a sink of its own, and two exactly-once Kafka sinks with one prefix fail. The
    prefix is derived from the job and the INSERT's place in it, so a restored job keeps it.
    """
    from classpulse.flink.sqlparser import read_statement
    from classpulse.flink.sqltokens import strip_comments

    text = strip_comments(statement)
    insert = read_statement(text)
    if insert.kind != "insert" or insert.target_end is None:
        return statement
    value = f"{prefix}-{insert.name}-{job}-{number}"
    hint = f" /*+ OPTIONS('sink.transactional-id-prefix' = '{value}') */"
    return text[: insert.target_end] + hint + text[insert.target_end :]


class RunError(RuntimeError):
    """A run that cannot start or did not finish, with what to do about it."""


@dataclass(frozen=True)
class RunOptions:
    env: str = "kafka"
    bounded: bool = True
    jobs: Sequence[str] = ()
    variables: Mapping[str, str] = field(default_factory=dict)
    parallelism: int = 2
    # Continuous: how often the Kafka sinks commit. Bounded: a job ends with a final checkpoint
    # anyway, so the default is long (no mid-run checkpoints).
    checkpoint_interval: str | None = None  # default: 10 min bounded, 5 s continuous
    config: Mapping[str, str] = field(default_factory=dict)  # extra Flink configuration
    # Submit to a Flink cluster (host:port; default CLASSPULSE_FLINK_JOBMANAGER) and return once
    # the job runs, instead of running it on a local mini-cluster and waiting.
    jobmanager: str | None = None
    jars: tuple[str, ...] = ()  # connector jars for the planner (default CLASSPULSE_FLINK_JARS)
    # Bounded: trigger the final checkpoint as soon as the sources finish (see EndOfInput)
    checkpoint_at_end_of_input: bool = False
    # the INSERTs into one table as one sink (FlinkSession.statement_set)
    one_sink_per_table: bool = True


@dataclass
class StageResult:
    """One Flink job of a run: the jobs it ran, how long, the records its sources read."""

    jobs: list[str]
    job_id: str
    seconds: float
    messages_in: int | None  # as last read over REST: None when nothing needed it (no display)
    # of ``seconds``, the part before the job was submitted: planning the statement set,
    # generating its code, submitting it (a continuous job pays it once, a bounded one per run)
    planning_seconds: float = 0.0


WaveResult = StageResult  # the former name


@dataclass
class RunResult:
    env: str
    bounded: bool
    stages: list[StageResult] = field(default_factory=list)
    accounting: Accounting | None = None  # filled by callers that read the outputs back
    seconds: float = 0.0
    startup_seconds: float = 0.0

    @property
    def waves(self) -> list[StageResult]:  # the former name
        return self.stages

    @property
    def messages_read(self) -> int:
        """Records the sources of the first stage read (the progress metric)."""
        return (self.stages[0].messages_in or 0) if self.stages else 0


@dataclass
class Catalog:
    """What the SQL files define for one environment."""

    root: Path
    env: str
    tables: list[ConnectorTable]
    jobs: list[Job]

    @property
    def table_names(self) -> list[str]:
        return [table.name for table in self.tables]

    def select(self, names: Iterable[str]) -> list[Job]:
        wanted = list(names)
        if not wanted:
            return list(self.jobs)
        known = {job.name: job for job in self.jobs}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise RunError(f"unknown job(s) {unknown}; `classpulse flink list` shows the jobs")
        return [job for job in self.jobs if job.name in set(wanted)]


def load_catalog(root: Path, env: str) -> Catalog:
    if env not in ENVIRONMENTS:
        raise RunError(f"unknown environment {env!r}; use one of {', '.join(ENVIRONMENTS)}")
    tables = read_connector_tables(root, env)
    return Catalog(root, env, tables, discover_jobs(root, [table.name for table in tables]))


def build_variables(settings: Settings, options: RunOptions) -> Variables:
    overrides = dict(options.variables)
    # one setting drives the look-back of the Flink job and of the dbt model (src/classpulse/dbt.py)
    overrides.setdefault("RECORDED_COURSE_LOOKBACK", settings.recorded_course_lookback)
    return resolve_variables(overrides)


def render_environment(
    settings: Settings | None = None, env: str = "kafka", variables: Mapping[str, str] | None = None
) -> str:
    """Every connector DDL of ``env`` rendered (``classpulse flink render``); strict variables."""
    settings = settings or load_settings()
    catalog = load_catalog(settings.root, env)
    resolved = build_variables(settings, RunOptions(env=env, variables=variables or {}))
    parts = [
        f"-- {table.path.relative_to(settings.root)}\n"
        + render(table.ddl, resolved, str(table.path))
        + ";"
        for table in catalog.tables
    ]
    return "\n\n".join(parts) + "\n"


def mode_options(options: RunOptions) -> tuple[dict[str, str], dict[str, str]]:
    """Connector options a mode adds to the tables the jobs read, and to those they write."""
    if options.bounded:
        return {"scan.bounded.mode": "latest-offset"}, {}
    return {}, {}


# A bounded run reads a partition as fast as it can: a watermark emitted periodically (every
# 200 ms) lags the records by a whole fetch, and which event is late would depend on timing.
# Emitted on every event, the watermark is the one of the records before it in the partition:
# a late event is exactly one behind it when it arrives, however fast the run (the contract's
# "late"; the generator's ground truth). Continuous runs keep the periodic emission.
BOUNDED_WATERMARK_OPTIONS = {"scan.watermark.emit.strategy": "on-event"}


def stop_job(client: Any, savepoint_dir: Path) -> None:
    """Stop a running job with a savepoint: the Kafka sinks commit what was read, nothing is lost.

    PyFlink's ``JobClient.stop_with_savepoint`` calls a two-argument Java method that Flink 2
    removed (it takes a savepoint format since 1.15): the Java client is called directly.
    """
    from pyflink.common.completable_future import CompletableFuture
    from pyflink.java_gateway import get_gateway

    try:
        formats = get_gateway().jvm.org.apache.flink.core.execution.SavepointFormatType
        stopping = client._j_job_client.stopWithSavepoint(
            False, savepoint_dir.resolve().as_uri(), formats.DEFAULT
        )
        path = CompletableFuture(stopping, str).result()
        print(f"savepoint {path}", flush=True)
    except Exception as exc:  # no savepoint possible (e.g. a task already finished): cancel
        print(
            f"no savepoint ({str(exc)[:300]}); cancelling: the next start resumes from the "
            "last checkpoint",
            flush=True,
        )
        client.cancel().result()


def running_jobs(host: str, port: int) -> dict[str, str]:
    """Name -> id of the jobs RUNNING on a Flink cluster (its REST endpoint)."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"http://{host}:{port}/jobs/overview", timeout=10) as response:
        jobs = json.load(response).get("jobs", [])
    return {job["name"]: job["jid"] for job in jobs if job.get("state") == "RUNNING"}


class EndOfInput:
    """Ends a bounded job as soon as its input is read, instead of at the next checkpoint.

    A bounded job with exactly-once Kafka sinks ends with a checkpoint taken after its tasks
    have read all their input (the sinks commit their last transactions then; until it
    completes the finished tasks wait), and a periodic checkpoint comes only when the interval
    elapses: up to a whole interval (10 s) of idle wait per stage. Here, once the sources have
    read something and their count (``observe``, read by ``wait_for_job`` once a second: each
    read is a fresh gathering of the metrics) has not moved for ``quiet`` seconds, a checkpoint
    is triggered (Flink's REST ``POST /jobs/<id>/checkpoints``), again every ``quiet`` seconds
    while the count stays still: the one after the last task finished is the final checkpoint.
    Mid-run checkpoints keep the long interval; a stall mid-run only costs a checkpoint.
    """

    def __init__(self, host: str, port: int, job_id: str, quiet: float = 1.0) -> None:
        self.base = f"http://{host}:{port}/jobs/{job_id}"
        self.quiet = quiet
        self.read: int | None = None  # records the sources have read, last seen
        self.still_since: float | None = None  # when that count last changed
        self.triggered = 0
        self._last_trigger = 0.0

    def observe(self, read: int) -> None:
        """The sources' count just read: trigger a checkpoint once it has stood still."""
        now = time.perf_counter()
        if read != self.read:
            self.read, self.still_since = read, now
            return
        if not read or self.still_since is None or now - self.still_since < self.quiet:
            return
        if now - self._last_trigger < self.quiet:
            return
        self._last_trigger = now
        self._trigger_checkpoint()

    def _trigger_checkpoint(self) -> None:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            self.base + "/checkpoints",
            data=b"{}",
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5):
                self.triggered += 1
        except (urllib.error.URLError, OSError):
            pass  # the job is ending, or a checkpoint is running: again after ``quiet``


# How often the job's status is asked (a call into the JVM through the gateway, not REST): how
# soon a finished job or a stop request is noticed; the counts' gathering lead (progress.py)
STATUS_INTERVAL_S = GATHER_LEAD_S


def wait_for_job(
    result: Any,
    metrics: JobMetrics,
    display: RunDisplay,
    started: float,
    stop: threading.Event | None = None,
    savepoint_dir: Path | None = None,
    end_of_input: EndOfInput | None = None,
) -> tuple[int | None, float]:
    """Block until the job ends (or ``stop`` is set), updating the display; re-raise a failure.

    The sources' count is read (``metrics``, at most once per its interval) only while the
    display shows it or ``end_of_input`` (bounded runs: checkpoints triggered once the sources
    have finished) waits on it: a silent continuous job asks nothing of its REST endpoint.
    Returns the sources' count at the end (the last one read if the endpoint is gone by then)
    and the seconds since ``started``.
    """
    client = result.get_job_client()
    counting = display.shown or end_of_input is not None
    stopping = False
    while True:
        if stop is not None and stop.is_set() and not stopping:
            stopping = True
            stop_job(client, savepoint_dir or Path(tempfile.gettempdir()))
        try:
            status = str(client.get_job_status().result())
        except Exception:  # the per-job mini-cluster shuts down as soon as the job ends
            break
        if status in {"FINISHED", "FAILED", "CANCELED"}:
            break
        if counting and metrics.poll() and metrics.last is not None:  # a count just read
            display.update(metrics.last, time.perf_counter() - started)
            if end_of_input is not None and not stopping:
                end_of_input.observe(metrics.last)
        time.sleep(STATUS_INTERVAL_S)
    last = metrics.records_read()  # once more: the final count, if the job's REST still answers
    if not stopping:
        result.wait()  # raises with the root cause when the job failed
    return last, time.perf_counter() - started


def run_jobs(
    options: RunOptions,
    settings: Settings | None = None,
    session: FlinkSession | None = None,
    console: Any = None,
    on_wave: Callable[[StageResult], None] | None = None,
    stop: threading.Event | None = None,
    on_submit: Callable[[str], None] | None = None,
    checkpoint_dir: Path | None = None,
    savepoint_dir: Path | None = None,
) -> RunResult:
    """Run the selected jobs; returns the stages with their timings.

    ``on_wave`` is called as each stage ends. A continuous run ends when ``stop`` is set or on
    Ctrl-C: the job stops with a savepoint, so the Kafka sinks commit what was read.
    """
    settings = settings or load_settings()
    started = time.perf_counter()
    catalog = load_catalog(settings.root, options.env)
    selected = catalog.select(options.jobs)
    variables = build_variables(settings, options)
    flink_home = settings.home / "flink"
    checkpoint_interval = options.checkpoint_interval or ("10 min" if options.bounded else "5 s")
    jobmanager = options.jobmanager or os.environ.get(JOBMANAGER_VARIABLE) or None
    jars = options.jars or tuple(
        jar for jar in os.environ.get(JARS_VARIABLE, "").split(";") if jar.strip()
    )
    session_options = SessionOptions(
        parallelism=options.parallelism,
        jobmanager=jobmanager,
        jars=jars,
        timezone=settings.timezone,
        checkpoint_dir=checkpoint_dir or flink_home / "checkpoints",
        checkpoint_interval=checkpoint_interval,
        extra={
            # Kafka tables also set scan.watermark.idle-timeout per table
            **(
                {"table.exec.source.idle-timeout": str(variables.lookup("WATERMARK_IDLE_TIMEOUT"))}
                if not options.bounded
                else {}
            ),
            **parse_properties(os.environ.get(PROPERTIES_VARIABLE, "")),
            **options.config,
        },
    )
    if session is None:
        session = FlinkSession(session_options)
    else:
        session.configure(session_options)
    session.register_tables(catalog.tables, variables)
    result = RunResult(options.env, options.bounded)
    result.startup_seconds = time.perf_counter() - started

    read_tables = sorted(set().union(*(job.inputs for job in selected)))
    read_options, write_options = mode_options(options)
    watermarked = {table.name for table in catalog.tables if table.has_watermark}
    for table in read_tables:
        extra = BOUNDED_WATERMARK_OPTIONS if options.bounded and table in watermarked else {}
        session.set_table_options(table, {**read_options, **extra})
    for table in sorted(set().union(*(job.outputs for job in selected))):
        session.set_table_options(table, write_options)

    stages = plan_stages(selected) if options.bounded else [selected]
    prefix = str(variables.lookup("KAFKA_TRANSACTIONAL_ID_PREFIX"))
    try:
        with RunDisplay(console) as display:
            for index, stage in enumerate(stages):
                names = [job.name for job in stage]
                pipeline_name = f"classpulse flink: {', '.join(names)}"
                if session.options.jobmanager and not options.bounded:
                    running = running_jobs(session.rest_host, session.rest_port)
                    if pipeline_name in running:  # every `compose up` submits again
                        display.note(f"already running on {session.options.jobmanager}")
                        result.stages.append(StageResult(names, running[pipeline_name], 0.0, None))
                        break
                for job in stage:
                    for view, statement in job.views:
                        session.create_view(view, render(statement, variables, str(job.path)))
                inserts = [
                    unique_transactional_ids(statement, prefix, job.name, number)
                    for job in stage
                    for number, statement in enumerate(
                        render(s, variables, str(job.path)) for _, s in job.inserts
                    )
                ]
                session.table_env.get_config().set("pipeline.name", pipeline_name)
                label = f"stage {index + 1}/{len(stages)}: " + (
                    f"{len(names)} jobs" if len(names) > 2 else ", ".join(names)
                )
                display.start_wave(label, None)
                stage_started = time.perf_counter()
                statements = session.statement_set(inserts, options.one_sink_per_table)
                session.bind_planner_to_this_thread()
                submitted = statements.execute()
                planning_seconds = time.perf_counter() - stage_started
                job_id = str(submitted.get_job_client().get_job_id())
                if on_submit is not None:
                    on_submit(job_id)
                if session.options.jobmanager and not options.bounded:  # the cluster runs it
                    display.note(f"submitted job {job_id} to {session.options.jobmanager}")
                    result.stages.append(StageResult(names, job_id, 0.0, None))
                    break
                metrics = JobMetrics(session.rest_port, job_id, session.rest_host)
                end_of_input = (
                    EndOfInput(session.rest_host, session.rest_port, job_id)
                    if options.bounded and options.checkpoint_at_end_of_input
                    else None
                )
                try:
                    count, seconds = wait_for_job(
                        submitted,
                        metrics,
                        display,
                        stage_started,
                        stop,
                        savepoint_dir or flink_home / "savepoints",
                        end_of_input,
                    )
                except KeyboardInterrupt:
                    display.note("[yellow]stopping the job with a savepoint (outputs committed)")
                    stop_job(submitted.get_job_client(), savepoint_dir or flink_home / "savepoints")
                    raise
                display.finish_wave(count or 0, seconds)
                stage_result = StageResult(names, job_id, seconds, count, planning_seconds)
                result.stages.append(stage_result)
                if on_wave is not None:
                    on_wave(stage_result)
                session.drop_views()
    finally:
        session.drop_views()
    result.seconds = time.perf_counter() - started
    return result
