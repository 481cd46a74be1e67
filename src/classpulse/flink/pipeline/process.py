"""The continuous pipeline's process: start, stop, kill, status, log, locally or on a cluster."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from classpulse.config import Settings, load_settings
from classpulse.flink.pipeline.files import (
    CHECKPOINT_INTERVAL,
    JOB_NAME_PREFIX,
    PipelineError,
    PipelineFiles,
    files_for,
    jobmanager,
    latest_restore_point,
    read_json,
    run_identity,
)
from classpulse.processes import alive, read_pid_file, tail_log


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
    state_file = read_json(files.state_file)
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
        state = read_json(files.state_file)
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
