"""Helpers of the security tests: raw HTTP, polling, the server's peak memory."""

from __future__ import annotations

import http.client
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from warehouse_helpers import ANALYST_PASSWORD

from classpulse.config import Settings

ALLOWED_ORIGIN = "http://dashboard.example"
KEEP_ALIVE_TIMEOUT = 2
RECEIVE_TIMEOUT = 3
MAX_FORM_SIZE = 4 << 20
ANALYST_MAX_RESULT_ROWS = 1000
ANALYST_MAX_MEMORY_USAGE = 1_500_000_000
ANALYST_MAX_EXECUTION_TIME = 120
ANALYST_DATABASES = "ads,rt,sandbox"


@dataclass(frozen=True)
class Secured:
    """The running server: its settings, user_files directory, and process id."""

    settings: Settings
    user_files: Path
    scratch: Path  # a directory outside user_files (files the tests must not reach)
    pid: int

    @property
    def port(self) -> int:
        return self.settings.clickhouse_port


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    @property
    def code(self) -> str | None:
        return self.headers.get("x-clickhouse-exception-code")


class Http:
    """Requests to the secured server with http.client (one connection per request)."""

    def __init__(self, secured: Secured) -> None:
        self.secured = secured

    def __call__(
        self,
        query: str | None = None,
        body: bytes | None = None,
        *,
        user: str = "default",
        password: str = "",
        method: str | None = None,
        headers: dict[str, str] | None = None,
        **params: object,
    ) -> Reply:
        if query is not None:
            params["query"] = query
        path = "/" + ("?" + urlencode(params) if params else "")
        all_headers = {"X-ClickHouse-User": user, "X-ClickHouse-Key": password}
        all_headers.update(headers or {})
        connection = http.client.HTTPConnection("127.0.0.1", self.secured.port, timeout=120)
        try:
            connection.request(
                method or ("POST" if body is not None else "GET"), path, body, all_headers
            )
            response = connection.getresponse()
            data = response.read()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            connection.close()

    def analyst(self, query: str | None = None, body: bytes | None = None, **kwargs) -> Reply:
        return self(query, body, user="analyst", password=ANALYST_PASSWORD, **kwargs)

    def value(self, query: str) -> str:
        """A query's result as the pipeline user sees it (the test's own look)."""
        reply = self(body=query.encode())
        assert reply.status == 200, reply.text
        return reply.text.strip()


def raw_exchange(
    port: int, data: bytes, timeout: float = 60.0, *, half_close: bool = False
) -> bytes:
    """Send ``data`` on a fresh connection (then close its sending side if ``half_close``) and
    read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        received = []
        while True:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received.append(chunk)
        return b"".join(received)


def responses_in(raw: bytes) -> list[bytes]:
    """The status lines of the HTTP responses in a raw byte stream."""
    return [line for line in raw.split(b"\r\n") if line.startswith(b"HTTP/1.")]


def server_peak_memory(pid: int) -> int:
    """The server process's peak resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def wait_until(condition, deadline_s: float = 60.0, interval: float = 0.2):
    """Poll ``condition`` until it returns a truthy value (a generous deadline, no timing
    assertion: a condition that never holds fails the test)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {deadline_s:.0f} s")


def fuzz_examples(default: int) -> int:
    """Hypothesis example count: small for `make test`, CLASSPULSE_FUZZ_EXAMPLES for `make fuzz`."""
    return int(os.environ.get("CLASSPULSE_FUZZ_EXAMPLES", default))
