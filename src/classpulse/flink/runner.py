"""Run the Flink SQL jobs: bounded over the topic files present, or continuously.

``run_jobs`` discovers ``flink_sql/jobs/*.sql``, renders the connector DDL of an environment
(``local`` topic directories or ``kafka``) with strict ``${VAR}`` substitution, registers every
table in one TableEnvironment and submits the jobs as STATEMENT SETs, so a source read by several
sinks (or several jobs) is scanned once and start-up is paid once.

Jobs that read another job's output run in a later wave (the cleaning jobs, then the marts). In
bounded mode each wave is one Flink job that ends when its input files are read; between waves the
watermarked intermediate topics are replayed in arrival order (see ``replay.py``). In continuous
mode all jobs form a single Flink job whose sources watch their directories
(``source.monitor-interval``) and whose file sinks commit on every checkpoint; it runs until
interrupted.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classpulse.config import Settings, load_settings
from classpulse.flink.accounting import Accounting, account, count_lines
from classpulse.flink.progress import JobMetrics, RunDisplay
from classpulse.flink.replay import ReplayFile, write_replay
from classpulse.flink.session import FlinkSession, SessionOptions
from classpulse.flink.sqlfiles import (
    ConnectorTable,
    Job,
    discover_jobs,
    plan_waves,
    read_connector_tables,
)
from classpulse.flink.variables import Variables, render, resolve_variables

ENVIRONMENTS = ("local", "kafka")
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


_PATH_OPTION = re.compile(r"'path'\s*=\s*'([^']*)'")


_INSERT_TARGET = re.compile(r"^(\s*INSERT\s+INTO\s+`?(\w+)`?)", re.I)


def unique_transactional_ids(statement: str, prefix: str, job: str, number: int) -> str:
    """Give one INSERT's Kafka sink a transactional-id prefix of its own (a table hint).

    Several INSERTs write the same table (rejected_messages, topic_accounting, late_events);
    each is a sink of its own, and two exactly-once Kafka sinks with one prefix fail. The
    prefix is derived from the job and the INSERT's place in it, so a restored job keeps it.
    """
    from classpulse.flink.sqlfiles import strip_comments

    text = strip_comments(statement)
    match = _INSERT_TARGET.match(text)
    if match is None:
        return statement
    value = f"{prefix}-{match.group(2)}-{job}-{number}"
    hint = f" /*+ OPTIONS('sink.transactional-id-prefix' = '{value}') */"
    return text[: match.end()] + hint + text[match.end() :]


class RunError(RuntimeError):
    """A run that cannot start or did not finish, with what to do about it."""


@dataclass(frozen=True)
class RunOptions:
    env: str = "local"
    bounded: bool = True
    jobs: Sequence[str] = ()
    topics_dir: Path | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    parallelism: int = 2
    monitor_interval: str = "1 s"
    rollover_interval: str = "5 s"  # continuous: how long a part file collects rows
    # Continuous: how often the file sinks commit. Bounded: a job ends with a final checkpoint
    # anyway, so the default is long (one part file per subtask, no mid-run fsyncs).
    checkpoint_interval: str | None = None  # default: 10 min bounded, 5 s continuous
    replay: bool = True  # bounded local runs: arrival-order replay between waves
    config: Mapping[str, str] = field(default_factory=dict)  # extra Flink configuration
    # Submit to a Flink cluster (host:port; default CLASSPULSE_FLINK_JOBMANAGER) and return once
    # the job runs, instead of running it on a local mini-cluster and waiting.
    jobmanager: str | None = None
    jars: tuple[str, ...] = ()  # connector jars for the planner (default CLASSPULSE_FLINK_JARS)


@dataclass
class WaveResult:
    jobs: list[str]
    job_id: str
    seconds: float
    messages_in: int | None
    replays: list[ReplayFile] = field(default_factory=list)


@dataclass
class RunResult:
    env: str
    bounded: bool
    waves: list[WaveResult] = field(default_factory=list)
    accounting: Accounting | None = None
    seconds: float = 0.0
    startup_seconds: float = 0.0
    cleared: list[str] = field(default_factory=list)
    appended: list[str] = field(default_factory=list)

    @property
    def messages_read(self) -> int:
        """Messages of the source topics read by the first wave."""
        return (self.waves[0].messages_in or 0) if self.waves else 0


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
    if options.env == "local":
        overrides.setdefault("TOPICS_DIR", str(options.topics_dir or settings.topics_dir))
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


def table_paths(rendered: Mapping[str, str]) -> dict[str, Path]:
    """The ``'path'`` option of every rendered filesystem table."""
    paths = {}
    for name, ddl in rendered.items():
        match = _PATH_OPTION.search(ddl)
        if match:
            paths[name] = Path(match.group(1))
    return paths


def mode_options(options: RunOptions) -> tuple[dict[str, str], dict[str, str]]:
    """Connector options a mode adds to the tables the jobs read, and to those they write."""
    if options.env == "local" and not options.bounded:
        # a row-format file sink rolls a part file on time or size only; the file becomes
        # visible (committed) at the next checkpoint after it rolled
        return (
            {"source.monitor-interval": options.monitor_interval},
            {
                "sink.rolling-policy.rollover-interval": options.rollover_interval,
                "sink.rolling-policy.check-interval": "1 s",
            },
        )
    if options.env == "kafka" and options.bounded:
        return {"scan.bounded.mode": "latest-offset"}, {}
    return {}, {}


# Flink's file source skips files whose names start with '_' or '.' (its DefaultFileFilter, which
# 'source.path.regex-pattern' keeps applying); the contract reads every file but hidden ones.
STAGED_PREFIX = "f"


def needs_staging(directory: Path) -> bool:
    """A source topic directory holding complete files Flink's file source would skip."""
    return directory.is_dir() and any(
        entry.is_file() and entry.name.startswith("_") for entry in directory.iterdir()
    )


def stage_source(directory: Path, staging: Path) -> Path:
    """Link every complete file of ``directory`` into ``staging`` as ``f<name>``.

    One common prefix keeps the file-name order (the tie-break of snapshot versions) and makes
    ``_name`` files visible to Flink; symbolic links cost nothing and keep modification times.
    """
    clear_directory(staging)
    staging.mkdir(parents=True, exist_ok=True)
    for entry in sorted(directory.iterdir()):
        if entry.is_file() and not entry.name.startswith("."):
            (staging / f"{STAGED_PREFIX}{entry.name}").symlink_to(entry.resolve())
    return staging


def clear_directory(directory: Path) -> None:
    if directory.is_dir():
        for entry in directory.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def stop_job(client: Any, savepoint_dir: Path) -> None:
    """Stop a running job with a savepoint: the file sinks commit what was read, nothing is lost.

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


def wait_for_job(
    result: Any,
    metrics: JobMetrics,
    display: RunDisplay,
    started: float,
    stop: threading.Event | None = None,
    savepoint_dir: Path | None = None,
) -> tuple[int | None, float]:
    """Block until the job ends (or ``stop`` is set), updating the display; re-raise a failure."""
    client = result.get_job_client()
    last: int | None = None
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
        count = metrics.records_read()
        if count is not None:
            last = count
            display.update(count, time.perf_counter() - started)
        time.sleep(0.25)
    count = metrics.records_read()
    last = count if count is not None else last
    if not stopping:
        result.wait()  # raises with the root cause when the job failed
    return last, time.perf_counter() - started


def run_jobs(
    options: RunOptions,
    settings: Settings | None = None,
    session: FlinkSession | None = None,
    console: Any = None,
    on_wave: Callable[[WaveResult], None] | None = None,
    stop: threading.Event | None = None,
    on_submit: Callable[[str], None] | None = None,
    checkpoint_dir: Path | None = None,
    savepoint_dir: Path | None = None,
) -> RunResult:
    """Run the selected jobs; returns timings and (local runs) the accounting identities.

    A continuous run ends when ``stop`` is set or on Ctrl-C: the job stops with a savepoint, so
    the file sinks commit what was read.
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
            # local continuous runs; Kafka tables set scan.watermark.idle-timeout per table
            **(
                {"table.exec.source.idle-timeout": "5 s"}
                if options.env == "local" and not options.bounded
                else {
                    "table.exec.source.idle-timeout": str(
                        variables.lookup("WATERMARK_IDLE_TIMEOUT")
                    )
                }
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
    rendered = session.register_tables(catalog.tables, variables)
    result = RunResult(options.env, options.bounded)
    result.startup_seconds = time.perf_counter() - started

    read_tables = sorted(set().union(*(job.inputs for job in selected)))
    read_options, write_options = mode_options(options)
    for table in read_tables:
        session.set_table_options(table, read_options)
    for table in sorted(set().union(*(job.outputs for job in selected))):
        session.set_table_options(table, write_options)

    paths = table_paths(rendered) if options.env == "local" else {}
    for path in paths.values():  # a file source fails on a missing directory; empty is fine
        path.mkdir(parents=True, exist_ok=True)
    outputs = set().union(*(job.outputs for job in selected))
    others = set().union(*(job.outputs for job in catalog.jobs if job not in selected))
    if options.bounded and options.env == "local":
        for table in sorted(outputs):
            if table in others:
                result.appended.append(table)
            elif table in paths:
                clear_directory(paths[table])
                result.cleared.append(table)

    # Bounded local runs: a source topic with '_name' files is read through a staging directory
    # of links (continuous runs read the topic directory itself: there, '_name' files are not
    # read; production reads Kafka).
    staged: dict[str, Path] = {}
    if options.bounded and options.env == "local":
        for table in read_tables:
            source = table in paths and table not in outputs and table not in others
            if source and needs_staging(paths[table]):
                staged[table] = stage_source(
                    paths[table], flink_home / "sources" / paths[table].name
                )
                session.set_table_options(table, {"path": str(staged[table])})

    waves = plan_waves(selected) if options.bounded else [selected]
    written: set[str] = set()
    staging = flink_home / "replay" / uuid.uuid4().hex[:12]
    watermarked = {table.name for table in catalog.tables if table.has_watermark}
    try:
        with RunDisplay(console) as display:
            if not options.bounded and options.env == "local":
                skipped = sorted(
                    table
                    for table in read_tables
                    if table in paths and table not in outputs and needs_staging(paths[table])
                )
                if skipped:  # only bounded runs stage a source past Flink's file filter
                    display.note(
                        "[yellow]continuous run: files named _* are not read in "
                        + ", ".join(skipped)
                        + " (a bounded run reads them)"
                    )
            for index, wave in enumerate(waves):
                replays: list[ReplayFile] = []
                wave_inputs = set().union(*(job.inputs for job in wave))
                if options.bounded and options.env == "local" and options.replay and index:
                    for table in sorted(wave_inputs & written & watermarked):
                        replay = write_replay(paths[table], staging / table)
                        session.set_table_options(table, {"path": str(replay.path.parent)})
                        replays.append(replay)
                names = [job.name for job in wave]
                pipeline_name = f"classpulse flink: {', '.join(names)}"
                if session.options.jobmanager and not options.bounded:
                    running = running_jobs(session.rest_host, session.rest_port)
                    if pipeline_name in running:  # every `compose up` submits again
                        display.note(f"already running on {session.options.jobmanager}")
                        result.waves.append(WaveResult(names, running[pipeline_name], 0.0, None))
                        break
                for job in wave:
                    for view, statement in job.views:
                        session.create_view(view, render(statement, variables, str(job.path)))
                inserts = [
                    render(statement, variables, str(job.path))
                    for job in wave
                    for _, statement in job.inserts
                ]
                if options.env == "kafka":
                    prefix = str(variables.lookup("KAFKA_TRANSACTIONAL_ID_PREFIX"))
                    inserts = [
                        unique_transactional_ids(statement, prefix, job.name, number)
                        for job in wave
                        for number, statement in enumerate(
                            render(s, variables, str(job.path)) for _, s in job.inserts
                        )
                    ]
                session.table_env.get_config().set("pipeline.name", pipeline_name)
                total = None
                if options.env == "local" and options.bounded:
                    replayed = {replay.topic: replay.lines for replay in replays}
                    total = sum(
                        replayed[table] if table in replayed else count_lines(paths[table])
                        for table in wave_inputs
                        if table in paths and (table in replayed or table not in written)
                    )
                label = f"wave {index + 1}/{len(waves)}: " + (
                    f"{len(names)} jobs" if len(names) > 2 else ", ".join(names)
                )
                display.start_wave(label, total)
                wave_started = time.perf_counter()
                submitted = session.statement_set(inserts).execute()
                job_id = str(submitted.get_job_client().get_job_id())
                if on_submit is not None:
                    on_submit(job_id)
                if session.options.jobmanager and not options.bounded:  # the cluster runs it
                    display.note(f"submitted job {job_id} to {session.options.jobmanager}")
                    result.waves.append(WaveResult(names, job_id, 0.0, None))
                    break
                metrics = JobMetrics(session.rest_port, job_id, session.rest_host)
                try:
                    count, seconds = wait_for_job(
                        submitted,
                        metrics,
                        display,
                        wave_started,
                        stop,
                        savepoint_dir or flink_home / "savepoints",
                    )
                except KeyboardInterrupt:
                    display.note("[yellow]stopping the job with a savepoint (outputs committed)")
                    stop_job(submitted.get_job_client(), savepoint_dir or flink_home / "savepoints")
                    raise
                if options.bounded and total is not None:
                    count = total  # every input line was read; the last poll may lag behind
                display.finish_wave(count or 0, seconds)
                wave_result = WaveResult(names, job_id, seconds, count, replays)
                result.waves.append(wave_result)
                if on_wave is not None:
                    on_wave(wave_result)
                written |= set().union(*(job.outputs for job in wave))
                session.drop_views()
    finally:
        session.drop_views()
        for table in (watermarked & written) | set(staged):
            if table in paths:
                session.set_table_options(table, {"path": str(paths[table])})
        shutil.rmtree(staging, ignore_errors=True)

    if options.env == "local" and options.bounded:
        sources = {
            paths[table].name: paths[table]
            for table in read_tables
            if table in paths and table not in outputs and table not in others
        }
        marts = tuple(
            sorted(
                table
                for job in selected
                if "mart_accounting" in job.outputs
                for table in job.outputs
                if table not in {"mart_accounting", "late_events"}
            )
        )
        topics_dir = Path(str(variables.lookup("TOPICS_DIR")))
        result.accounting = account(topics_dir, sources, marts)
    result.seconds = time.perf_counter() - started
    return result
