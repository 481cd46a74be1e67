"""A warehouse server of the security tests' own, configured tight.

Every test talks to the real embedded server over real sockets. The server runs with a
user_files directory of its own, one allowed browser origin, short keep-alive and receive
timeouts, a small form limit and small analyst limits, so refusals are cheap to provoke.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from security_support import (
    ALLOWED_ORIGIN,
    ANALYST_DATABASES,
    ANALYST_MAX_EXECUTION_TIME,
    ANALYST_MAX_MEMORY_USAGE,
    ANALYST_MAX_RESULT_ROWS,
    KEEP_ALIVE_TIMEOUT,
    MAX_FORM_SIZE,
    RECEIVE_TIMEOUT,
    Http,
    Secured,
)
from warehouse_helpers import running_warehouse, warehouse_settings


@contextmanager
def tight_server(base: Path) -> Iterator[Secured]:
    """A tight server on a path and port of its own (see the module docstring), stopped after."""
    user_files = base / "user_files"
    scratch = base / "outside"
    scratch.mkdir()
    settings = replace(warehouse_settings(base / "data"), warehouse_user_files=user_files)
    environment = {
        "CLASSPULSE_WAREHOUSE_USER_FILES": str(user_files),
        "CLASSPULSE_WAREHOUSE_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
        "CLASSPULSE_WAREHOUSE_KEEP_ALIVE_TIMEOUT": str(KEEP_ALIVE_TIMEOUT),
        "CLASSPULSE_WAREHOUSE_RECEIVE_TIMEOUT": str(RECEIVE_TIMEOUT),
        "CLASSPULSE_WAREHOUSE_MAX_FORM_SIZE": str(MAX_FORM_SIZE),
        "CLASSPULSE_ANALYST_DATABASES": ANALYST_DATABASES,
        "CLASSPULSE_ANALYST_MAX_RESULT_ROWS": str(ANALYST_MAX_RESULT_ROWS),
        "CLASSPULSE_ANALYST_MAX_MEMORY_USAGE": str(ANALYST_MAX_MEMORY_USAGE),
        "CLASSPULSE_ANALYST_MAX_EXECUTION_TIME": str(ANALYST_MAX_EXECUTION_TIME),
    }
    with running_warehouse(settings, environment) as pid:
        yield Secured(settings, user_files, scratch, pid)


# Module scope: the environment it sets must not outlive the module (later tests start
# servers of their own and read CLASSPULSE_* from the environment).
@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    with tight_server(tmp_path_factory.mktemp("secured")) as server:
        yield server


@pytest.fixture
def fresh_secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """A server of the test's own, for measuring its peak memory from a clean start."""
    with tight_server(tmp_path_factory.mktemp("fresh")) as server:
        yield server


@pytest.fixture
def http_request(secured: Secured) -> Http:
    return Http(secured)


@pytest.fixture
def table(http_request: Http) -> str:
    """An empty table of this test's own: what must stay empty when a request is refused."""
    name = f"sandbox.t_{uuid.uuid4().hex[:12]}"
    http_request.value("CREATE DATABASE IF NOT EXISTS sandbox")
    http_request.value(f"CREATE TABLE {name} (id Int64) ENGINE = MergeTree ORDER BY id")
    return name
