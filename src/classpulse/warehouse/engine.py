"""The on-disk chDB engine behind the embedded server, and its sessions.

chDB hosts one ClickHouse engine per process and data path. Any number of connections
to it may be open at once; each connection is a ClickHouse session of its own (current
database, ``SET`` settings, temporary tables) and connections run queries in parallel.

- A request without ``session_id`` gets a fresh connection, opened with the request's
  settings, and closed after the request: nothing leaks between requests.
- A request with ``session_id`` uses that session's long-lived connection. ClickHouse
  applies URL settings to the one query only, so the session applies them with ``SET``
  and puts back the values it had before at the next request that does not send them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chdb import state as chdb_state

from classpulse.warehouse.sqltext import quote_string

_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Values that can ride in a chDB connection string as they are.
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_.:+\-]*$")
_ERROR_CODE = re.compile(r"Code: (\d+)\. ")
log = logging.getLogger("classpulse.warehouse")


class ServerError(Exception):
    """An error reported to the client the way ClickHouse reports it."""

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.name = name
        self.message = message

    def render(self, version: str) -> str:
        return (
            f"Code: {self.code}. DB::Exception: {self.message}. ({self.name}) (version {version})\n"
        )


@dataclass
class EngineError(Exception):
    """An error raised by the engine, already in ClickHouse's words."""

    code: int
    text: str

    def __str__(self) -> str:
        return self.text

    def render(self, version: str) -> str:
        text = self.text.rstrip()
        if "(version " not in text:
            text += f" (version {version})"
        return text + "\n"


def engine_error(exc: BaseException) -> EngineError:
    """Turn a chDB exception into an :class:`EngineError` with its ClickHouse code."""
    text = str(exc)
    start = text.find("Code: ")
    if start > 0:
        text = text[start:]
    match = _ERROR_CODE.search(text)
    if match:
        return EngineError(int(match.group(1)), text)
    return EngineError(1002, f"Code: 1002. DB::Exception: {text}. (UNKNOWN_EXCEPTION)")


def validate_setting_name(name: str) -> None:
    if not _SETTING_NAME.match(name):
        raise ServerError(115, "UNKNOWN_SETTING", f"Setting {name} is neither a builtin setting")


def set_statement(settings: dict[str, str]) -> str:
    for name in settings:
        validate_setting_name(name)
    return "SET " + ", ".join(f"{name} = {quote_string(value)}" for name, value in settings.items())


class Engine:
    """Owns the chDB engine for one data path."""

    def __init__(self, path: Path) -> None:
        # Imported here: chDB fixes its time zone when it loads, after serve() set TZ.
        from chdb import state

        self._chdb: Any = state
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        # This connection keeps the engine alive for the server's whole life; the server
        # also uses it to cancel queries and create databases (one thread at a time).
        self._anchor = state.connect(str(path))
        self._control_lock = threading.Lock()
        row = self._anchor.query("SELECT version(), timezone()", "TabSeparated").bytes()
        version, timezone = row.decode().strip().split("\t")
        self.version = version
        self.timezone = timezone
        names = (
            self._anchor.query("SELECT name FROM system.formats", "TabSeparated")
            .bytes()
            .decode()
            .split()
        )
        self.formats = {name.lower(): name for name in names}
        self.input_formats = frozenset(
            self._anchor.query(
                "SELECT lower(name) FROM system.formats WHERE is_input", "TabSeparated"
            )
            .bytes()
            .decode()
            .split()
        )
        self.known_formats = frozenset(self.formats)
        self.setting_names = frozenset(
            self._anchor.query("SELECT name FROM system.settings", "TabSeparated")
            .bytes()
            .decode()
            .split()
        )

    def connect(
        self,
        settings: dict[str, str],
        database: str | None,
        locked: dict[str, str] | None = None,
    ) -> chdb_state.Connection:
        """A fresh connection (a new session) with ``settings`` applied.

        ``locked`` settings (a profile's: the analyst's limits and filters, readonly) are
        applied last, ``readonly`` after all others, so the engine itself refuses any
        later change to them.
        """
        plain: list[str] = []
        quoted: dict[str, str] = {}
        locked = dict(locked or {})
        readonly = locked.pop("readonly", None)
        for name, value in settings.items():
            validate_setting_name(name)
            # chDB ignores unknown names in a connection string; ClickHouse rejects them.
            if name not in self.setting_names and not name.startswith("custom_"):
                raise ServerError(
                    115,
                    "UNKNOWN_SETTING",
                    f"Setting {name} is neither a builtin setting nor started with the prefix "
                    "'custom_' registered for user-defined settings",
                )
            if _PLAIN_VALUE.match(value) and value != "":
                plain.append(f"{name}={value}")
            else:
                quoted[name] = value
        if database is not None:
            if not _SETTING_NAME.match(database) or database.startswith("_"):
                quoted_db = database
            else:
                quoted_db = None
                plain.append(f"database={database}")
        else:
            quoted_db = None
        target = str(self.path) + ("?" + "&".join(plain) if plain else "")
        try:
            connection = self._chdb.connect(target)
        except Exception as exc:  # invalid setting name or value
            raise engine_error(exc) from None
        try:
            if quoted:
                connection.query(set_statement(quoted))
            if quoted_db is not None:
                connection.query(f"USE `{quoted_db.replace('`', '``')}`")
            if locked:
                connection.query(set_statement(locked))
            if readonly is not None:
                connection.query(set_statement({"readonly": readonly}))
        except Exception as exc:
            connection.close()
            raise engine_error(exc) from None
        return connection

    def kill(self, marker: str) -> None:
        """Cancel the queries whose ``log_comment`` is ``marker`` (their client left)."""
        with self._control_lock:
            try:
                self._anchor.query(
                    f"KILL QUERY WHERE Settings['log_comment'] = {quote_string(marker)} ASYNC",
                    "TabSeparated",
                )
            except Exception:  # the query may have ended meanwhile
                log.debug("cancelling %s failed", marker, exc_info=True)

    def ensure_databases(self, names: list[str]) -> None:
        """Create the databases ``names`` if they are missing (empty until filled)."""
        with self._control_lock:
            for name in names:
                self._anchor.query(f"CREATE DATABASE IF NOT EXISTS `{name.replace('`', '``')}`")

    def close(self) -> None:
        self._anchor.close()


ANALYST_MARKER_PREFIX = "classpulse:analyst:"


def analyst_settings(
    databases: list[str],
    marker: str,
    max_memory_usage: int,
    max_execution_time: int,
    max_result_rows: int,
) -> dict[str, str]:
    """The analyst's profile: limits, and filters that the engine applies to every read
    of the system tables that list other users' queries and other databases.

    ``marker`` becomes the connection's ``log_comment``; the analyst sees (and can
    cancel) only queries whose ``log_comment`` starts with ``classpulse:analyst:``.
    """
    listed = "[" + ", ".join(quote_string(name) for name in databases) + "]"
    own = quote_string(ANALYST_MARKER_PREFIX)
    filters = {
        "system.processes": f"startsWith(Settings['log_comment'], {own})",
        "system.databases": f"has({listed}, name)",
        "system.tables": f"has({listed}, database)",
        "system.columns": f"has({listed}, database)",
    }
    rendered = (
        "{"
        + ", ".join(
            f"{quote_string(table)}: {quote_string(condition)}"
            for table, condition in filters.items()
        )
        + "}"
    )
    return {
        "log_comment": marker,
        "additional_table_filters": rendered,
        "max_memory_usage": str(max_memory_usage),
        "max_execution_time": str(max_execution_time),
        "max_result_rows": str(max_result_rows),
        "result_overflow_mode": "throw",
        "readonly": "1",
    }


@dataclass
class Session:
    """A client's named session: one connection, used by one request at a time."""

    key: tuple[str, str]
    connection: chdb_state.Connection
    timeout: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)
    # Settings applied from URL parameters, and what they were before.
    applied: dict[str, str] = field(default_factory=dict)
    originals: dict[str, str] = field(default_factory=dict)
    # The session's own database (set by USE) and the one its connection is on now;
    # a request's `database` parameter applies to that request only.
    own_database: str = "default"
    current_database: str = "default"

    def apply_request_settings(self, settings: dict[str, str]) -> None:
        """Make the session's settings be its own plus this request's, for one query."""
        restore = {name: self.originals[name] for name in self.applied if name not in settings}
        changes = {
            name: value for name, value in settings.items() if self.applied.get(name) != value
        }
        if not restore and not changes:
            return
        new_names = [name for name in changes if name not in self.originals]
        if new_names:
            for name in new_names:
                validate_setting_name(name)
            listed = ", ".join(quote_string(name) for name in new_names)
            rows = self._query(
                f"SELECT name, value FROM system.settings WHERE name IN ({listed})", "TabSeparated"
            )
            current = dict(line.split("\t", 1) for line in rows.splitlines() if line)
            for name in new_names:
                if name not in current:
                    raise ServerError(
                        115,
                        "UNKNOWN_SETTING",
                        f"Setting {name} is neither a builtin setting nor started with the prefix 'custom_' registered for user-defined settings",
                    )
                self.originals[name] = _unescape_tsv(current[name])
        statement = {**restore, **changes}
        try:
            self.connection.query(set_statement(statement))
        except Exception as exc:
            raise engine_error(exc) from None
        for name in restore:
            self.applied.pop(name, None)
            self.originals.pop(name, None)
        self.applied.update(changes)

    def recover(self) -> None:
        """Make the connection usable after a failed query.

        chDB 4.4 keeps the partial output of a query that failed part-way and hands it
        to the next query on the same connection. A session outlives its requests, so
        after an error it runs a probe until the probe gets its own answer back.
        """
        for _ in range(4):
            try:
                if self.connection.query("SELECT 1", "TabSeparated").bytes() == b"1\n":
                    return
            except Exception:
                continue

    def forget_request_settings(self) -> None:
        """After a ``SET`` by the client, the session's own values are what they set."""
        self.applied.clear()
        self.originals.clear()

    def use_database(self, requested: str | None) -> None:
        target = requested or self.own_database
        if target == self.current_database:
            return
        try:
            self.connection.query(f"USE `{target.replace('`', '``')}`")
        except Exception as exc:
            raise engine_error(exc) from None
        self.current_database = target

    def note_use(self) -> None:
        """The client ran USE: its choice is now the session's own database."""
        current = self._query("SELECT currentDatabase()", "TabSeparated").strip()
        self.own_database = self.current_database = current

    def _query(self, sql: str, fmt: str) -> str:
        try:
            return self.connection.query(sql, fmt).bytes().decode()
        except Exception as exc:
            raise engine_error(exc) from None


def _unescape_tsv(value: str) -> str:
    return value.replace("\\t", "\t").replace("\\n", "\n").replace("\\'", "'").replace("\\\\", "\\")


class SessionStore:
    """Named sessions per user, expired after their timeout."""

    DEFAULT_TIMEOUT = 60.0
    MAX_TIMEOUT = 3600.0

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions: dict[tuple[str, str], Session] = {}
        self._lock = threading.Lock()

    def acquire(
        self,
        user: str,
        session_id: str,
        timeout: float | None,
        check: bool,
        base_settings: dict[str, str],
        locked: dict[str, str] | None = None,
        database: str | None = None,
    ) -> Session:
        """The session, locked for this request; created unless ``check`` is set.

        A new session's connection gets ``base_settings``, then the profile's ``locked``
        settings, and starts on ``database`` (``default`` if None).
        """
        if timeout is not None and not (0 <= timeout <= self.MAX_TIMEOUT):
            raise ServerError(
                374,
                "INVALID_SESSION_TIMEOUT",
                f"Session timeout {timeout:g} exceeds the maximum of {self.MAX_TIMEOUT:g} seconds",
            )
        key = (user, session_id)
        self.expire()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                if check:
                    raise ServerError(372, "SESSION_NOT_FOUND", f"Session {session_id} not found")
                connection = self._engine.connect(base_settings, database, locked)
                session = Session(
                    key, connection, timeout if timeout is not None else self.DEFAULT_TIMEOUT
                )
                if database is not None:
                    session.own_database = session.current_database = database
                self._sessions[key] = session
        if not session.lock.acquire(blocking=False):
            raise ServerError(
                373, "SESSION_IS_LOCKED", f"Session {session_id} is locked by a concurrent client"
            )
        if timeout is not None:
            session.timeout = timeout
        return session

    def release(self, session: Session, close: bool = False) -> None:
        session.last_used = time.monotonic()
        if close:
            with self._lock:
                self._sessions.pop(session.key, None)
            session.connection.close()
        session.lock.release()

    def expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            stale = [
                s
                for s in self._sessions.values()
                if now - s.last_used > s.timeout and not s.lock.locked()
            ]
            for session in stale:
                del self._sessions[session.key]
        for session in stale:
            session.connection.close()

    def close_all(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            session.connection.close()

    def __len__(self) -> int:
        return len(self._sessions)
