"""Run the embedded warehouse server in the background: start, stop, status, logs.

The server writes its pid, log and lock next to its data (``<path>/server.pid``,
``<path>/server.log``, ``<path>/server.lock``), so each data path has exactly one server
and every command finds it from the path alone.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from classpulse.config import Settings
from classpulse.processes import (
    DaemonFiles,
    port_free,
    read_pid_file,
    spawn_logged,
    stop_daemon,
    tail_log,
    wait_ready,
)


class WarehouseError(RuntimeError):
    """A problem starting or reaching the warehouse, with what to do about it."""


class ServerFiles(DaemonFiles):
    def __init__(self, path: Path) -> None:
        super().__init__(path, "server")


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    url: str
    answering: bool
    version: str | None = None
    uptime_s: float | None = None


def read_pid(files: ServerFiles) -> int | None:
    return read_pid_file(files.pid_file)


def ping(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/ping", timeout=timeout) as response:
            return response.read() == b"Ok.\n"
    except (urllib.error.URLError, OSError):
        return False


def _client_host(bind: str) -> str:
    return "127.0.0.1" if bind in ("0.0.0.0", "") else ("::1" if bind == "::" else bind)


def start(
    settings: Settings,
    wait_s: float = 60.0,
    on_wait: Callable[[float], None] | None = None,
) -> int:
    """Start the server in the background and wait until ``/ping`` answers; return its pid."""
    files = ServerFiles(settings.warehouse_path)
    existing = read_pid(files)
    if existing is not None:
        raise WarehouseError(
            f"a warehouse server (pid {existing}) is already running on {files.path}; "
            "`classpulse warehouse status` shows it, `classpulse warehouse stop` stops it"
        )
    host, port = settings.warehouse_bind, settings.clickhouse_port
    if not port_free(host, port):
        raise WarehouseError(
            f"port {port} on {host} is already in use (another ClickHouse or warehouse "
            "server?). Stop it, or set CLASSPULSE_CLICKHOUSE_PORT to a free port."
        )
    files.path.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "classpulse.warehouse.server",
        "--path",
        str(files.path),
        "--host",
        host,
        "--port",
        str(port),
    ]
    process = spawn_logged(command, files, env=os.environ.copy())

    def exited(code: int) -> WarehouseError:
        return WarehouseError(
            f"the warehouse server exited with code {code} during start-up:\n" + tail(files, 15)
        )

    def answering() -> bool:
        return ping(_client_host(host), port, timeout=0.5)

    if wait_ready(process, files, answering, wait_s, on_wait, 0.1, exited):
        return process.pid
    process.terminate()
    raise WarehouseError(
        f"the warehouse server did not answer /ping within {wait_s:.0f} s; log:\n" + tail(files, 15)
    )


def stop(settings: Settings, wait_s: float = 30.0) -> int | None:
    """Stop the server (SIGTERM, then SIGKILL after ``wait_s``); return the pid stopped."""
    files = ServerFiles(settings.warehouse_path)
    return stop_daemon(files, read_pid(files), wait_s)


def status(settings: Settings) -> Status:
    files = ServerFiles(settings.warehouse_path)
    pid = read_pid(files)
    host = _client_host(settings.warehouse_bind)
    url = f"http://{host}:{settings.clickhouse_port}"
    answering = ping(host, settings.clickhouse_port)
    version = uptime = None
    if answering:
        try:
            query = urllib.request.Request(
                url + "/?query=SELECT%20version(),%20uptime()",
                headers={
                    "X-ClickHouse-User": settings.clickhouse_user,
                    "X-ClickHouse-Key": settings.clickhouse_password,
                },
            )
            with urllib.request.urlopen(query, timeout=2) as response:
                version, uptime_text = response.read().decode().strip().split("\t")
                uptime = float(uptime_text)
        except (urllib.error.URLError, OSError, ValueError):
            pass
    return Status(pid is not None, pid, url, answering, version, uptime)


def tail(files: ServerFiles, lines: int) -> str:
    return tail_log(files.log_file, lines)


def follow(files: ServerFiles) -> None:  # pragma: no cover - interactive
    with open(files.log_file, errors="replace") as handle:
        handle.seek(0, os.SEEK_END)
        while True:
            line = handle.readline()
            if line:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                time.sleep(0.3)
