"""The local daemons' process chores, written once: the broker (:mod:`classpulse.kafka.broker`),
the warehouse server (:mod:`classpulse.warehouse.daemon`) and the streaming pipeline
(:mod:`classpulse.flink.pipeline`) each keep a pid file and a log file next to their data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DaemonFiles:
    """A daemon's pid, log and lock files: ``<path>/<stem>.pid|.log|.lock``."""

    path: Path
    stem: str

    def _named(self, suffix: str) -> Path:
        return self.path / f"{self.stem}.{suffix}"

    @property
    def pid_file(self) -> Path:
        return self._named("pid")

    @property
    def log_file(self) -> Path:
        return self._named("log")

    @property
    def lock_file(self) -> Path:
        return self._named("lock")


def alive(pid: int) -> bool:
    """The process runs (one we may not signal counts; a zombie child of ours does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def read_pid_file(path: Path, is_ours: Callable[[int], bool] | None = None) -> int | None:
    """The running process a pid file names, or None (no file, garbage, gone, or not ours)."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) and (is_ours is None or is_ours(pid)) else None


def terminate(pid: int, wait_s: float) -> None:
    """SIGTERM, then SIGKILL after ``wait_s``; returns once the process is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.05)


def port_free(host: str, port: int) -> bool:
    """Nothing listens on ``host:port`` (a bind succeeds); ``[::1]`` may be bracketed."""
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((bare, port))
        except OSError:
            return False
    return True


def tail_log(path: Path, lines: int, missing: str = "(no log yet)") -> str:
    """The last ``lines`` lines of a log file, or ``missing`` when it cannot be read."""
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return missing
    return "\n".join(content[-lines:])


def spawn_logged(
    command: Sequence[str],
    files: DaemonFiles,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, output appended to the log, pid in the pid file."""
    log = open(files.log_file, "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=cwd,
        env=env,
    )
    log.close()
    files.pid_file.write_text(str(process.pid))
    return process


def wait_ready(
    process: subprocess.Popen[bytes],
    files: DaemonFiles,
    ready: Callable[[], bool],
    wait_s: float,
    on_wait: Callable[[float], None] | None,
    interval: float,
    exited: Callable[[int], Exception],
) -> bool:
    """Poll ``ready`` until it holds (True) or ``wait_s`` passes (False); when the process
    exits first, its pid file goes and ``exited(return code)`` is raised."""
    started = time.monotonic()
    while time.monotonic() - started < wait_s:
        if process.poll() is not None:
            files.pid_file.unlink(missing_ok=True)
            raise exited(process.returncode)
        if ready():
            return True
        if on_wait is not None:
            on_wait(time.monotonic() - started)
        time.sleep(interval)
    return False


def stop_daemon(files: DaemonFiles, pid: int | None, wait_s: float) -> int | None:
    """Terminate the daemon ``pid`` (None: none runs) and drop its pid file; the pid stopped."""
    if pid is not None:
        terminate(pid, wait_s)
    files.pid_file.unlink(missing_ok=True)
    return pid


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
