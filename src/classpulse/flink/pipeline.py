"""The streaming pipeline's public entry points: start, stop, status, lag, run_bounded.

One Flink job (one STATEMENT SET: cleaning, rejected messages, late events, accounting and the
five marts) reads the Kafka source topics and writes every output topic exactly once
(checkpoints + Kafka transactions; readers are read_committed). The SQL is the same in both
modes; only the connector options the runner adds differ:

* continuous (``start``): a long-running process (``python -m classpulse.flink.daemon``) owns a
  local mini-cluster; pid, log and state live under ``<home>/flink/stream/``. Checkpoints go to
  ``<home>/flink/stream/checkpoints`` and are retained on cancellation; ``start`` resumes from
  the newest checkpoint or savepoint (``execution.savepoint.path``) with the transactional-id
  prefix and consumer group of the run it resumes, and a fresh start gets new ones. ``stop``
  stops with a savepoint (SIGTERM to the process), or kills it after ``timeout`` (the next start
  resumes from the last checkpoint). With ``CLASSPULSE_FLINK_JOBMANAGER`` the job is submitted
  to that cluster instead and managed through its REST API.
* bounded (``run_bounded``): ``scan.bounded.mode = latest-offset`` on every source, in two
  stages (cleaning, then the marts that read the cleaning topics): a bounded source fixes its
  stopping offsets when it starts, so a mart reading a topic written by the same job would stop
  before the cleaning wrote anything.

``lag`` is consumer lag by offsets: end offset minus the offset the pipeline's consumer group
committed (Flink commits on every completed checkpoint), per topic the job reads.

Signatures here are stable; other modules (status, bench, DAGs) build on them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from classpulse.config import Settings, load_settings
from classpulse.processes import alive, read_pid_file, tail_log

JOBMANAGER_VARIABLE = "CLASSPULSE_FLINK_JOBMANAGER"
JOB_NAME_PREFIX = "classpulse flink"
CHECKPOINT_INTERVAL = "5 s"


class PipelineError(RuntimeError):
    """The pipeline cannot be started, stopped or inspected, with what to do about it."""


@dataclass(frozen=True)
class PipelineFiles:
    root: Path

    @property
    def pid_file(self) -> Path:
        return self.root / "pipeline.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "pipeline.log"

    @property
    def state_file(self) -> Path:  # written by the daemon: job id, REST port, run identity
        return self.root / "pipeline.json"

    @property
    def run_file(self) -> Path:  # the run identity a restore keeps (prefix, group)
        return self.root / "run.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def savepoints(self) -> Path:
        return self.root / "savepoints"


def files_for(settings: Settings) -> PipelineFiles:
    return PipelineFiles(settings.home / "flink" / "stream")


@dataclass
class PipelineStatus:
    running: bool
    mode: str  # "local" | "cluster"
    pid: int | None = None
    job_id: str | None = None
    state: str | None = None  # Flink job state (RUNNING, ...) when known
    restored_from: str | None = None
    last_checkpoint: str | None = None
    run_id: str | None = None
    log: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TopicLag:
    topic: str
    end: int
    committed: int

    @property
    def lag(self) -> int:
        return max(0, self.end - self.committed)


@dataclass
class Lag:
    group: str
    topics: list[TopicLag] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(topic.lag for topic in self.topics)

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "total": self.total,
            "topics": {topic.topic: topic.lag for topic in self.topics},
        }


def jobmanager() -> str | None:
    return os.environ.get(JOBMANAGER_VARIABLE) or None


# ---------------------------------------------------------------------------------------------
# topics


def pipeline_topics(settings: Settings | None = None) -> tuple[list[str], list[str], list[str]]:
    """(source topics, intermediate topics, output-only topics) of the Kafka connector set."""
    from classpulse.flink.runner import load_catalog

    settings = settings or load_settings()
    catalog = load_catalog(settings.root, "kafka")
    inputs = set().union(*(job.inputs for job in catalog.jobs))
    outputs = set().union(*(job.outputs for job in catalog.jobs))
    # a table without a topic is no topic (the dim_* warehouse lookups)
    topics = {table.name: table.topic for table in catalog.tables if table.topic is not None}

    def names(tables: set[str]) -> list[str]:
        return sorted(topics[name] for name in tables if name in topics)

    return names(inputs - outputs), names(inputs & outputs), names(outputs - inputs)


def create_topics(settings: Settings) -> list[str]:
    """Create every topic the pipeline reads or writes (missing ones only)."""
    from classpulse.kafka.admin import create_topics as create

    sources, middle, outputs = pipeline_topics(settings)
    names = [*sources, *middle, *outputs]
    create(settings, names)
    return names


# ---------------------------------------------------------------------------------------------
# run identity and restore point


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, value: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, indent=2, sort_keys=True))
    temporary.replace(path)


def latest_restore_point(files: PipelineFiles) -> Path | None:
    """The newest completed checkpoint or savepoint (a directory holding ``_metadata``)."""
    candidates = [
        *files.checkpoints.glob("*/chk-*/_metadata"),
        *files.savepoints.glob("*/_metadata"),
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda path: path.stat().st_mtime).parent


def run_identity(files: PipelineFiles, fresh: bool, group: str | None = None) -> dict[str, str]:
    """The run id, transactional-id prefix and consumer group: kept on restore, new otherwise.

    A restored job must keep its prefix: the Kafka sink aborts the lingering transactions of a
    killed run by their ids, and commits the ones its checkpoint holds.
    """
    current = _read_json(files.run_file)
    if fresh or not current:
        run_id = time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6]
        current = {
            "run_id": run_id,
            "transactional_id_prefix": f"classpulse-flink-{run_id}",
            "group_id": group or "classpulse-flink",
        }
        _write_json(files.run_file, current)
    return current


# ---------------------------------------------------------------------------------------------
# local process


def _pid(files: PipelineFiles) -> int | None:
    return read_pid_file(files.pid_file)


def _rest(address: str, path: str, method: str = "GET", body: Any = None) -> Any:
    from urllib.request import Request, urlopen

    data = None if body is None else json.dumps(body).encode()
    request = Request(f"http://{address}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urlopen(request, timeout=10) as response:
        text = response.read()
    return json.loads(text) if text else {}


def _job_details(address: str, job_id: str) -> tuple[str | None, str | None]:
    try:
        state = _rest(address, f"/jobs/{job_id}").get("state")
        latest = _rest(address, f"/jobs/{job_id}/checkpoints").get("latest", {})
        completed = (latest or {}).get("completed") or {}
        return state, completed.get("external_path")
    except (OSError, ValueError):
        return None, None


def status(settings: Settings | None = None) -> PipelineStatus:
    """Is the continuous job running, which Flink job, its last checkpoint."""
    settings = settings or load_settings()
    address = jobmanager()
    if address is not None:
        try:
            jobs = _rest(address, "/jobs/overview").get("jobs", [])
        except OSError as exc:
            raise PipelineError(f"Flink at {address} does not answer: {exc}") from None
        running = [
            job
            for job in jobs
            if job.get("state") == "RUNNING"
            and str(job.get("name", "")).startswith(JOB_NAME_PREFIX)
        ]
        if not running:
            return PipelineStatus(False, "cluster")
        job_id = running[0]["jid"]
        state, checkpoint = _job_details(address, job_id)
        return PipelineStatus(
            True, "cluster", job_id=job_id, state=state, last_checkpoint=checkpoint
        )
    files = files_for(settings)
    pid = _pid(files)
    state_file = _read_json(files.state_file)
    result = PipelineStatus(
        pid is not None,
        "local",
        pid=pid,
        log=str(files.log_file),
        run_id=state_file.get("run_id"),
        restored_from=state_file.get("restored_from"),
    )
    if pid is not None and state_file.get("pid") == pid and state_file.get("job_id"):
        result.job_id = state_file["job_id"]
        result.state, result.last_checkpoint = _job_details(
            f"127.0.0.1:{state_file['rest_port']}", result.job_id
        )
    return result


def start(
    settings: Settings | None = None,
    *,
    fresh: bool = False,
    group: str | None = None,
    parallelism: int = 2,
    checkpoint_interval: str = CHECKPOINT_INTERVAL,
    variables: Mapping[str, str] | None = None,
    wait: float = 300.0,
    jobs: Sequence[str] = (),
) -> PipelineStatus:
    """Start the continuous job (resuming from the newest checkpoint unless ``fresh``).

    Returns once the Flink job is RUNNING (local: the mini-cluster process reported its job id);
    a job already running is left alone. ``jobs`` (default: all) selects some of the SQL jobs
    (tests: fewer operators to plan); a restore needs the same selection as the run it resumes.
    """
    settings = settings or load_settings()
    if jobmanager() is not None:
        return _start_on_cluster(settings, variables or {})
    files = files_for(settings)
    current = status(settings)
    if current.running:
        return current
    files.root.mkdir(parents=True, exist_ok=True)
    if fresh:
        import shutil

        shutil.rmtree(files.checkpoints, ignore_errors=True)
        shutil.rmtree(files.savepoints, ignore_errors=True)
    restore = None if fresh else latest_restore_point(files)
    identity = run_identity(files, fresh or restore is None, group)
    spec = {
        "root": str(files.root),
        "restore": str(restore) if restore else None,
        "identity": identity,
        "parallelism": parallelism,
        "checkpoint_interval": checkpoint_interval,
        "variables": dict(variables or {}),
        "jobs": list(jobs),
    }
    files.state_file.unlink(missing_ok=True)
    with open(files.log_file, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "classpulse.flink.daemon", json.dumps(spec)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=os.environ.copy(),
            start_new_session=True,
        )
    files.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PipelineError(
                f"the Flink pipeline exited ({process.returncode}) while starting; "
                f"see {files.log_file}:\n{tail(files, 30)}"
            )
        state = _read_json(files.state_file)
        if state.get("pid") == process.pid and state.get("job_id"):
            return status(settings)
        time.sleep(0.5)
    raise PipelineError(
        f"the Flink pipeline did not report a running job within {wait:.0f} s "
        f"(pid {process.pid}, still starting?); see {files.log_file}"
    )


def stop(
    settings: Settings | None = None, *, savepoint: bool = True, timeout: float = 180.0
) -> PipelineStatus:
    """Stop the continuous job: with a savepoint (SIGTERM), else or after ``timeout`` a kill.

    Either way the next ``start`` resumes: from the savepoint, or from the last checkpoint.
    """
    settings = settings or load_settings()
    address = jobmanager()
    if address is not None:
        current = status(settings)
        if current.running and current.job_id:
            try:
                _rest(address, f"/jobs/{current.job_id}/stop", "POST", {"drain": False})
            except OSError:
                _rest(address, f"/jobs/{current.job_id}?mode=cancel", "PATCH")
        return status(settings)
    files = files_for(settings)
    pid = _pid(files)
    if pid is None:
        return status(settings)
    if savepoint:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.25)
    _kill_group(pid)  # the JVM it started too (one process group)
    files.pid_file.unlink(missing_ok=True)
    return status(settings)


def kill(settings: Settings | None = None) -> int | None:
    """``kill -9`` the local pipeline process (tests: a crash); returns its pid."""
    settings = settings or load_settings()
    files = files_for(settings)
    pid = _pid(files)
    if pid is not None:
        _kill_group(pid)
    return pid


def _kill_group(pid: int) -> None:
    """SIGKILL the pipeline's process group (Python and its JVM) and wait for the leader."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.1)
    _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(files: PipelineFiles, lines: int = 50) -> str:
    return tail_log(files.log_file, lines, missing="")


def _start_on_cluster(settings: Settings, variables: Mapping[str, str]) -> PipelineStatus:
    from classpulse.flink.runner import RunOptions, run_jobs

    current = status(settings)
    if current.running:
        return current
    run_jobs(RunOptions(env="kafka", bounded=False, variables=variables), settings)
    return status(settings)


# ---------------------------------------------------------------------------------------------
# lag


def lag(settings: Settings | None = None, group: str | None = None) -> Lag:
    """Consumer lag by offsets of the pipeline's group on every topic the job reads."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.admin import describe_topics
    from classpulse.kafka.client import client_config

    settings = settings or load_settings()
    if group is None:
        group = _read_json(files_for(settings).run_file).get("group_id") or "classpulse-flink"
    sources, middle, _ = pipeline_topics(settings)
    names = [*sources, *middle]
    infos = describe_topics(settings, names)
    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{"group.id": group, "enable.auto.commit": False},
        )
    )
    try:
        partitions = [
            TopicPartition(info.name, part.partition) for info in infos for part in info.partitions
        ]
        deadline = time.monotonic() + 60
        while True:
            try:  # the group coordinator moves (a broker restart, a new group): retry
                found = consumer.committed(partitions, timeout=30)
                break
            except Exception as exc:
                error = exc.args[0] if exc.args else None
                retriable = (
                    getattr(error, "retriable", lambda: False)()
                    or "coordinator" in str(exc).lower()
                )
                if not retriable or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        committed = {(tp.topic, tp.partition): tp.offset for tp in found}
    finally:
        consumer.close()
    result = Lag(group)
    for info in infos:
        end = sum(part.end for part in info.partitions)
        done = 0
        for part in info.partitions:
            position = max(committed.get((info.name, part.partition), -1), part.start)
            if info.name in middle and position < part.end:
                # a topic written in transactions: aborted records and commit markers occupy
                # offsets the pipeline's reader skips without committing past them; what counts
                # is whether a read_committed reader finds a record there
                position = part.end - _readable(settings, info.name, part.partition, position)
            done += position
        result.topics.append(TopicLag(info.name, end, done))
    return result


def _readable(
    settings: Settings, topic: str, partition: int, offset: int, cap: int = 10_000
) -> int:
    """Records a read_committed reader gets from ``offset`` to the partition's end (at most
    ``cap``; beyond it the offsets left are returned)."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.client import client_config

    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{
                "group.id": f"classpulse-lag-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
            },
        )
    )
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        count = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                if message.error().code() == -191:  # _PARTITION_EOF
                    return count
                continue
            count += 1
            if count >= cap:
                break
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        return max(count, high - offset) if count >= cap else high - offset
    finally:
        consumer.close()


def wait_caught_up(
    settings: Settings | None = None,
    *,
    group: str | None = None,
    timeout: float = 600.0,
    slack: int = 0,
) -> Lag:
    """Poll ``lag`` until every source topic is consumed (and intermediate topics within
    ``slack`` offsets per partition, for their transaction markers); raise after ``timeout``."""
    settings = settings or load_settings()
    sources, _, _ = pipeline_topics(settings)
    deadline = time.monotonic() + timeout
    while True:
        current = lag(settings, group)
        behind = {
            topic.topic: topic.lag
            for topic in current.topics
            if topic.lag > (0 if topic.topic in sources else slack)
        }
        if not behind:
            return current
        if jobmanager() is None and files_for(settings).pid_file.exists():
            state = status(settings)
            if not state.running:
                raise PipelineError(
                    f"the pipeline process ended while catching up; behind: {behind}\n"
                    + tail(files_for(settings), 30)
                )
        if time.monotonic() > deadline:
            raise PipelineError(
                f"the pipeline did not catch up within {timeout:.0f} s; behind: {behind}"
            )
        time.sleep(1.0)


# ---------------------------------------------------------------------------------------------
# bounded


def run_bounded(
    settings: Settings | None = None,
    *,
    jobs: Sequence[str] = (),
    group: str | None = None,
    variables: Mapping[str, str] | None = None,
    parallelism: int = 2,
    console: Any = None,
    session: Any = None,
    config: Mapping[str, str] | None = None,
    checkpoint_at_end_of_input: bool = False,
) -> Any:
    """Read every source topic up to its end offset at start and stop (``latest-offset``).

    Returns the runner's ``RunResult``. Offsets are committed to ``group`` (default: a new one
    per run, so a bounded run reads every topic from its start). ``config``: extra Flink
    configuration for this run (e.g. ``table.exec.mini-batch.enabled``).
    """
    from classpulse.flink.runner import RunOptions, run_jobs

    settings = settings or load_settings()
    group = group or f"classpulse-bounded-{uuid.uuid4().hex[:8]}"
    run_id = uuid.uuid4().hex[:8]
    merged = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KAFKA_GROUP_ID": group,
        "KAFKA_TRANSACTIONAL_ID_PREFIX": f"classpulse-bounded-{run_id}",
        **dict(variables or {}),
    }
    options = RunOptions(
        env="kafka",
        bounded=True,
        jobs=tuple(jobs),
        variables=merged,
        parallelism=parallelism,
        jars=kafka_jars(),
        checkpoint_interval="10 s",
        config=dict(config or {}),
        checkpoint_at_end_of_input=checkpoint_at_end_of_input,
    )
    return run_jobs(options, settings, session=session, console=console)


def kafka_jars() -> tuple[str, ...]:
    """The connector jars a local session needs (CLASSPULSE_FLINK_JARS, else .cache/jvm)."""
    configured = tuple(
        jar for jar in os.environ.get("CLASSPULSE_FLINK_JARS", "").split(";") if jar.strip()
    )
    if configured:
        return configured
    from classpulse.jvm import flink_kafka_connector_jar

    return (flink_kafka_connector_jar().as_uri(),)
