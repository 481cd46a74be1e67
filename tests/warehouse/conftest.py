"""Fixtures for the warehouse server's client-compatibility suite.

Every test talks to a real embedded server over HTTP with a real client. Most share the
session's ``warehouse`` (each test in a database of its own); tests that stop, kill or
reconfigure a server start one of their own with ``own_warehouse``.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client
from kafka_helpers import free_port
from warehouse_helpers import ANALYST_PASSWORD, warehouse_settings

from classpulse.config import Settings, warehouse_environment
from classpulse.warehouse import daemon


@pytest.fixture(scope="session")
def analyst_password() -> str:
    return ANALYST_PASSWORD


@pytest.fixture(scope="session", name="free_port")
def free_port_function() -> Callable[[], int]:
    """tests/conftest.py's ``free_port``."""
    return free_port


@pytest.fixture(scope="session", name="warehouse_settings")
def warehouse_settings_function() -> Callable[..., Settings]:
    """tests/conftest.py's ``warehouse_settings``."""
    return warehouse_settings


@pytest.fixture
def client(warehouse: Settings) -> Iterator[Client]:
    """A clickhouse-connect client of the writer user, in a session of its own."""
    with clickhouse_connect.get_client(**warehouse.client_kwargs()) as connection:
        yield connection


@pytest.fixture
def database(warehouse: Settings) -> str:
    """A database of this test's own on the shared server."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = clickhouse_connect.get_client(**warehouse.client_kwargs())
    admin.command(f"CREATE DATABASE {name}")
    admin.close()
    return name


@pytest.fixture
def own_warehouse(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Settings]]:
    """Start servers of the test's own (own path and port); all are stopped at the end.

    ``start(analyst_password=...)`` returns the server's settings; pass ``settings`` to
    start again on the same path and port. The server process reads its users from the
    environment, so the variables are set for it (and put back afterwards).
    """
    started: list[Settings] = []

    def start(settings: Settings | None = None, analyst_password: str = ANALYST_PASSWORD):
        if settings is None:
            settings = replace(
                warehouse_settings(tmp_path_factory.mktemp("own") / "data"),
                analyst_password=analyst_password,
            )
        for name, value in warehouse_environment(settings).items():
            monkeypatch.setenv(name, value)
        daemon.start(settings)
        started.append(settings)
        return settings

    try:
        yield start
    finally:
        for settings in reversed(started):
            daemon.stop(settings)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names; the last value of a repeated header
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


class Curl:
    """Requests exactly as ``curl`` sends them (URL globbing off, so ``{x:UInt32}`` stays)."""

    def __init__(self, settings: Settings, scratch: Path) -> None:
        self.base = f"http://{settings.clickhouse_host}:{settings.clickhouse_port}"
        self._scratch = scratch

    def __call__(
        self,
        path: str = "/",
        *options: str,
        data: bytes | None = None,
        method: str | None = None,
    ) -> Reply:
        headers_file = self._scratch / f"headers-{uuid.uuid4().hex}"
        command = ["curl", "--silent", "--show-error", "--globoff", "--dump-header"]
        command += [str(headers_file), *options]
        if method is not None:
            command += ["--request", method]
        if data is not None:
            command += ["--data-binary", "@-"]
        command.append(self.base + path)
        completed = subprocess.run(command, input=data, capture_output=True, timeout=120)
        assert completed.returncode == 0, completed.stderr.decode()
        return _parse_reply(headers_file.read_bytes().decode("latin-1"), completed.stdout)


def _parse_reply(raw_headers: str, body: bytes) -> Reply:
    # With --dump-header, curl writes every response's head (a 100 Continue first).
    blocks = [block for block in raw_headers.split("\r\n\r\n") if block.strip()]
    lines = blocks[-1].split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(status, headers, body)


@pytest.fixture
def curl(warehouse: Settings, tmp_path: Path) -> Curl:
    return Curl(warehouse, tmp_path)


@pytest.fixture
def cli_environment(warehouse: Settings) -> Callable[[Settings], dict[str, str]]:
    """The process environment for a subprocess aimed at ``settings``' server."""

    def environment(settings: Settings = warehouse) -> dict[str, str]:
        return {**os.environ, **warehouse_environment(settings)}

    return environment
