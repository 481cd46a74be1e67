"""The embedded warehouse server: ClickHouse's HTTP interface in front of chDB.

One process owns the on-disk chDB engine (chDB allows one process per data path) and
serves it over ClickHouse's HTTP protocol, so every client — clickhouse-connect,
dbt-clickhouse, SQLAlchemy, Great Expectations, curl, an analyst's IDE — talks to it
exactly as to a ClickHouse server.

What it implements of the HTTP interface:
- ``/ping`` (and ``GET /``), queries by GET (read-only) and POST, the query in the
  ``query`` parameter, the body, or both (then the body follows the parameter);
- ``database``, ``default_format``, ``FORMAT`` clauses, ``query_id``, any setting as a URL
  parameter, ``param_<name>`` server-side parameters, ``session_id`` /
  ``session_timeout`` / ``session_check`` / ``close_session``;
- INSERT data streamed from the body in any input format, chunked or not, with any of
  the content codings ClickHouse accepts; compressed responses with
  ``enable_http_compression=1``; external tables from multipart bodies;
- errors with ClickHouse's status codes, ``X-ClickHouse-Exception-Code`` and message,
  and the tagged exception block when an error happens after the response started;
- users ``default`` (password optional on loopback only) and a read-only analyst user
  whose sessions the engine itself holds at ``readonly=1``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import hmac
import ipaddress
import json
import logging
import os
import secrets
import select
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from classpulse.warehouse import sqltext
from classpulse.warehouse.access import (
    AccessPolicy,
    Scope,
    check_settings,
    denied,
    unquote_literal,
)
from classpulse.warehouse.codecs import (
    CorruptStream,
    UnsupportedEncoding,
    choose_response_encoding,
    codec,
)
from classpulse.warehouse.engine import (
    ANALYST_MARKER_PREFIX,
    Engine,
    EngineError,
    ServerError,
    Session,
    SessionStore,
    analyst_settings,
    engine_error,
    set_statement,
)

log = logging.getLogger("classpulse.warehouse")

# URL parameters that are part of the HTTP protocol, not settings.
RESERVED_PARAMS = frozenset(
    {
        "query",
        "database",
        "default_format",
        "query_id",
        "session_id",
        "session_timeout",
        "session_check",
        "close_session",
        "user",
        "password",
        "quota_key",
        "compress",
        "decompress",
        "buffer_size",
        "wait_end_of_query",
        "client_protocol_version",
        "role",
        "stacktrace",
    }
)

# Output formats whose output is the plain concatenation of per-block outputs, so a
# result can be streamed block by block. Other formats are produced whole.
STREAMABLE_FORMATS = frozenset(
    {
        "native",
        "tabseparated",
        "tsv",
        "tabseparatedraw",
        "tsvraw",
        "rowbinary",
        "jsoneachrow",
        "jsoncompacteachrow",
        "jsonlines",
        "ndjson",
        "jsonstringseachrow",
        "csv",
        "lineasstring",
    }
)

# chDB streams SELECTs only; SHOW/DESCRIBE/EXPLAIN are produced whole.
STREAMING_KEYWORDS = frozenset({"SELECT", "WITH", ""})
# Statements with a result set; the others answer without X-ClickHouse-Format, which is
# how clients tell a command's summary from an empty result.
RESULT_KEYWORDS = frozenset(
    {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS", "CHECK", ""}
)

CONTENT_TYPES = {
    "tabseparated": "text/tab-separated-values; charset=UTF-8",
    "tsv": "text/tab-separated-values; charset=UTF-8",
    "csv": "text/csv; charset=UTF-8; header=absent",
    "csvwithnames": "text/csv; charset=UTF-8; header=present",
    "xml": "application/xml; charset=UTF-8",
}

BINARY_FORMATS = ("native", "rowbinary", "parquet", "arrow", "orc", "avro", "protobuf", "msgpack")

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
MAX_INSERT_CHUNK = 1 << 20


@dataclass(frozen=True)
class Profile:
    """An authenticated user and the settings the engine holds them to."""

    name: str
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def readonly(self) -> bool:
        return "readonly" in self.settings


class Users:
    """``default`` (the pipeline) and the read-only analyst."""

    def __init__(self, default_password: str, analyst_user: str, analyst_password: str) -> None:
        self._default_password = default_password
        self._analyst_user = analyst_user
        self._analyst_password = analyst_password

    @property
    def analyst_enabled(self) -> bool:
        return bool(self._analyst_password)

    def authenticate(self, name: str, password: str, client_host: str) -> Profile:
        if name == "default":
            if self._default_password:
                accepted = _same(password, self._default_password)
            else:  # no password: loopback clients only
                accepted = password == "" and _is_loopback(client_host)
            if accepted:
                return Profile("default")
        elif (
            name == self._analyst_user
            and self._analyst_password
            and _same(password, self._analyst_password)
        ):
            return Profile(name, {"readonly": "1"})
        raise ServerError(
            516,
            "AUTHENTICATION_FAILED",
            f"{name}: Authentication failed: password is incorrect, or there is no user with such name",
        )


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host in LOOPBACK_HOSTS


@dataclass(frozen=True)
class ServerOptions:
    """The server's guards; every value comes from a CLASSPULSE_* setting (config.py)."""

    user_files: Path | None = None
    allowed_origins: frozenset[str] = frozenset()
    allowed_hosts: frozenset[str] = frozenset()
    keep_alive_timeout: float = 30.0
    receive_timeout: float = 30.0
    max_form_size: int = 256 << 20
    analyst_databases: tuple[str, ...] = ("ads", "rt")
    analyst_max_memory_usage: int = 2_000_000_000
    analyst_max_execution_time: int = 300
    analyst_max_result_rows: int = 1_000_000

    @classmethod
    def from_settings(cls, settings) -> ServerOptions:
        return cls(
            user_files=settings.warehouse_user_files,
            allowed_origins=frozenset(settings.warehouse_allowed_origins),
            allowed_hosts=frozenset(name.lower() for name in settings.warehouse_allowed_hosts),
            keep_alive_timeout=settings.warehouse_keep_alive_timeout,
            receive_timeout=settings.warehouse_receive_timeout,
            max_form_size=settings.warehouse_max_form_size,
            analyst_databases=tuple(settings.analyst_databases),
            analyst_max_memory_usage=settings.analyst_max_memory_usage,
            analyst_max_execution_time=settings.analyst_max_execution_time,
            analyst_max_result_rows=settings.analyst_max_result_rows,
        )


class ConnectionMonitor:
    """One thread that watches the connections, so no request needs a thread of its own:

    - a connection must deliver a request's headers within the keep-alive timeout of
      becoming idle (slow or idle clients are cut off, not kept forever);
    - while a query runs, a client that closed its connection gets its query cancelled.
    """

    INTERVAL = 0.2

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._deadlines: dict[socket.socket, float] = {}
        self._watched: dict[int, tuple[socket.socket, str]] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="connection-monitor", daemon=True)
        self._thread.start()

    def arm(self, connection: socket.socket, seconds: float) -> None:
        with self._lock:
            self._deadlines[connection] = time.monotonic() + seconds

    def disarm(self, connection: socket.socket) -> None:
        with self._lock:
            self._deadlines.pop(connection, None)

    def watch(self, connection: socket.socket, marker: str) -> int:
        key = id(marker) ^ id(connection) ^ time.monotonic_ns()
        with self._lock:
            self._watched[key] = (connection, marker)
        return key

    def unwatch(self, key: int) -> None:
        with self._lock:
            self._watched.pop(key, None)

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self.INTERVAL):
            now = time.monotonic()
            with self._lock:
                expired = [conn for conn, deadline in self._deadlines.items() if deadline < now]
                for conn in expired:
                    del self._deadlines[conn]
                watched = list(self._watched.items())
            for conn in expired:
                log.debug("closing a connection that sent no complete request in time")
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            for key, (conn, marker) in watched:
                if _client_gone(conn):
                    log.info("client went away: cancelling its query (%s)", marker)
                    self._engine.kill(marker)
                    self.unwatch(key)


def _client_gone(connection: socket.socket) -> bool:
    """True if the peer closed the connection (pipelined bytes waiting do not count)."""
    try:
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        events = poller.poll(0)
    except (OSError, ValueError):
        return True
    if not events:
        return False
    if events[0][1] & (select.POLLERR | select.POLLHUP):
        return True
    try:
        # Readable: either bytes (a pipelined request) or the end of the stream.
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError, TimeoutError):
        return False
    except OSError:
        return True


class RunningQueries:
    """Query ids of running queries: a client's query_id is unique while it runs."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def claim(self, query_id: str):
        with self._lock:
            if query_id in self._ids:
                raise ServerError(
                    216,
                    "QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING",
                    f"Query with id = {query_id} is already running",
                )
            self._ids.add(query_id)
        try:
            yield
        finally:
            with self._lock:
                self._ids.discard(query_id)


class WarehouseServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        engine: Engine,
        users: Users,
        options: ServerOptions | None = None,
    ) -> None:
        self.engine = engine
        self.users = users
        self.options = options or ServerOptions()
        self.policy = AccessPolicy(self.options.user_files)
        self.sessions = SessionStore(engine)
        self.monitor = ConnectionMonitor(engine)
        self.running = RunningQueries()
        self.display_name = socket.gethostname()
        self.started_at = time.time()
        self.bind_host = address[0]
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, WarehouseHandler)

    def host_allowed(self, header: str) -> bool:
        """Is ``header`` (a Host header) a name this server answers to?

        On a loopback address only loopback names (and the configured hosts) are: a web
        page whose domain was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name.
        """
        name = header.strip().lower()
        if name.startswith("["):
            name = name[1 : name.find("]")] if "]" in name else name
        elif name.count(":") == 1:
            name = name.split(":", 1)[0]
        name = name.rstrip(".")
        if name in self.options.allowed_hosts or name == self.bind_host.lower():
            return True
        if name == "localhost" or name.endswith(".localhost") or _is_loopback_address(name):
            return True
        return not _is_loopback(self.bind_host) and not self.options.allowed_hosts


def _is_loopback_address(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class ProtocolError(ServerError):
    """A request that breaks HTTP's framing rules: answered 400, connection closed."""

    status = 400

    def __init__(
        self, message: str, code: int = 27, name: str = "CANNOT_PARSE_INPUT_ASSERTION_FAILED"
    ) -> None:
        super().__init__(code, name, message)


@dataclass(frozen=True)
class Framing:
    """How the request body is delimited: chunked, or ``length`` bytes."""

    chunked: bool
    length: int


def request_framing(headers) -> Framing:
    """The body's framing from the headers, strictly (RFC 9112 section 6).

    Anything a proxy and this server could read differently is refused: a
    Transfer-Encoding other than exactly ``chunked``, Content-Length that is not one
    decimal number, both headers at once, or either one repeated with another value.
    """
    encodings = headers.get_all("Transfer-Encoding") or []
    lengths = headers.get_all("Content-Length") or []
    if encodings:
        if lengths:
            raise ProtocolError(
                "Both Transfer-Encoding and Content-Length in one request; send one of them"
            )
        codings = [part.strip().lower() for value in encodings for part in value.split(",")]
        if codings != ["chunked"]:
            raise ProtocolError(
                f"Unsupported Transfer-Encoding {', '.join(encodings)!r}: only 'chunked' is "
                "accepted (use Content-Encoding for compression)"
            )
        return Framing(True, 0)
    if not lengths:
        return Framing(False, 0)
    values = {value.strip() for value in lengths}
    if len(values) != 1:
        raise ProtocolError("Several different Content-Length headers in one request")
    (value,) = values
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ProtocolError(f"Invalid Content-Length {value!r}: it must be a decimal number")
    return Framing(False, int(value))


MAX_CHUNK_LINE = 4096
MAX_TRAILERS = 64
# Bytes of an unread body that are read and dropped after an error, so the client gets
# the answer; a larger remainder closes the connection instead.
DRAIN_LIMIT = 16 << 20


class Body:
    """The request body as a stream of decoded byte chunks.

    The framing is parsed strictly (a malformed chunk is a :class:`ProtocolError`), the
    content coding is decoded in bounded pieces and must end exactly where the body does
    (a truncated or trailing-garbage body is an error), and ``read_all``/``peek`` stop
    at their limit while reading, so no body is held whole beyond it.
    """

    def __init__(self, rfile, framing: Framing, encoding: str) -> None:
        self._rfile = rfile
        self._chunked = framing.chunked
        self._remaining = framing.length
        self._decoder = codec(encoding) if encoding else None
        self._done = not self._chunked and self._remaining == 0
        self._prefix = b""
        self._decoded_all = self._decoder is None and self._done
        self._chunk_left = 0  # bytes left in the current chunk
        self._chunk_open = False  # a chunk's data was read; its CRLF is next

    @classmethod
    def consumed(cls) -> Body:
        """A body that was already read (multipart forms are parsed whole)."""
        body = cls.__new__(cls)
        body._rfile, body._chunked, body._remaining = None, False, 0
        body._decoder, body._done, body._prefix = None, True, b""
        body._decoded_all = True
        body._chunk_left, body._chunk_open = 0, False
        return body

    @property
    def empty(self) -> bool:
        return self._done and not self._prefix

    @property
    def complete(self) -> bool:
        """True once the whole body has been read off the socket."""
        return self._done

    def keep(self, data: bytes) -> None:
        """Make ``data`` the next bytes that ``chunks`` yields."""
        self._prefix = data

    def raw_chunks(self) -> Iterator[bytes]:
        """The body's bytes as they come off the socket (framing removed).

        The position is kept in the object, so a reader may stop and another go on.
        """
        while True:
            piece = self._next_raw()
            if piece is None:
                return
            yield piece

    def _next_raw(self) -> bytes | None:
        if self._done:
            return None
        if not self._chunked:
            data = self._rfile.read1(min(self._remaining, MAX_INSERT_CHUNK))
            if not data:
                raise ProtocolError(
                    "The request body ended before Content-Length bytes were received",
                    33,
                    "CANNOT_READ_ALL_DATA",
                )
            self._remaining -= len(data)
            self._done = self._remaining == 0
            return data
        if self._chunk_left == 0:
            if self._chunk_open and self._rfile.read(2) != b"\r\n":
                raise ProtocolError("Malformed chunked body: chunk data must end with CRLF")
            self._chunk_open = False
            size = self._chunk_size()
            if size == 0:
                self._trailers()
                self._done = True
                return None
            self._chunk_left = size
            self._chunk_open = True
        data = self._rfile.read1(min(self._chunk_left, MAX_INSERT_CHUNK))
        if not data:
            raise ProtocolError("Unexpected end of chunked body")
        self._chunk_left -= len(data)
        return data

    def _chunk_size(self) -> int:
        line = self._rfile.readline(MAX_CHUNK_LINE + 1)
        if not line.endswith(b"\r\n") or len(line) > MAX_CHUNK_LINE:
            raise ProtocolError(
                "Malformed chunked body: a chunk size line must end with CRLF"
                if line
                else "Unexpected end of chunked body"
            )
        size_text = line[:-2].split(b";", 1)[0].rstrip(b" \t")
        if (
            not size_text
            or len(size_text) > 15
            or not all(c in b"0123456789abcdefABCDEF" for c in size_text)
        ):
            raise ProtocolError(f"Malformed chunked body: invalid chunk size {size_text[:32]!r}")
        return int(size_text, 16)

    def _trailers(self) -> None:
        for _ in range(MAX_TRAILERS):
            trailer = self._rfile.readline(MAX_CHUNK_LINE + 1)
            if trailer == b"\r\n":
                return
            if not trailer.endswith(b"\r\n") or len(trailer) > MAX_CHUNK_LINE:
                raise ProtocolError("Malformed chunked body: bad trailer section")
        raise ProtocolError("Malformed chunked body: too many trailers")

    def chunks(self) -> Iterator[bytes]:
        """Decoded chunks, after anything already peeked."""
        if self._prefix:
            prefix, self._prefix = self._prefix, b""
            yield prefix
        if self._decoded_all:
            return
        for raw in self.raw_chunks():
            yield from self._decode(raw)
        self._finish_decoding()

    def _decode(self, raw: bytes) -> Iterator[bytes]:
        if self._decoder is None:
            yield raw
            return
        try:
            yield from self._decoder.feed(raw)
        except CorruptStream as exc:
            raise ServerError(
                271, "CANNOT_DECOMPRESS", f"Cannot decompress request body: {exc}"
            ) from None

    def _finish_decoding(self) -> None:
        if self._decoded_all:
            return
        self._decoded_all = True
        if self._decoder is None:
            return
        try:
            self._decoder.finish()
        except CorruptStream as exc:
            raise ServerError(
                271, "CANNOT_DECOMPRESS", f"Cannot decompress request body: {exc}"
            ) from None

    def peek(self, size: int) -> bytes:
        """At least ``size`` decoded bytes (fewer at the end), kept for ``chunks``.

        Reads stop as soon as ``size`` bytes are there: at most ``size`` plus one decoded
        piece is ever held.
        """
        buffered = [self._prefix] if self._prefix else []
        have = len(self._prefix)
        if not self._decoded_all:
            iterator = self.raw_chunks()
            while have < size:
                raw = next(iterator, None)
                if raw is None:
                    self._finish_decoding()
                    break
                for data in self._decode(raw):
                    buffered.append(data)
                    have += len(data)
        self._prefix = b"".join(buffered)
        return self._prefix

    def read_all(self, limit: int, too_large: ServerError) -> bytes:
        """The whole decoded body; ``too_large`` is raised as soon as it passes ``limit``
        bytes (nothing more is read: the connection is then closed)."""
        parts = []
        size = 0
        for data in self.chunks():
            size += len(data)
            if size > limit:
                raise too_large
            parts.append(data)
        return b"".join(parts)

    def drain(self, limit: int = DRAIN_LIMIT) -> bool:
        """Read and drop up to ``limit`` raw bytes of what is left; True if that was all."""
        if self._done:
            return True
        dropped = 0
        try:
            for raw in self.raw_chunks():
                dropped += len(raw)
                if dropped > limit:
                    return False
        except Exception:
            return False
        return True


@dataclass(frozen=True)
class Statement:
    """What to run: ``text`` for scanning, ``query`` for the engine (bytes when the
    body is not UTF-8, e.g. binary parameters), and the INSERT split when data streams.
    """

    text: str
    query: str | bytes
    insert: sqltext.InsertSplit | None
    data_prefix: bytes


def _statement_from_bytes(raw: bytes) -> Statement:
    try:
        text = raw.decode("utf-8")
        query: str | bytes = text
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        query = raw
    if not text.strip():
        raise ServerError(62, "SYNTAX_ERROR", "Empty query")
    return Statement(text, query, None, b"")


@dataclass
class Request:
    method: str
    params: dict[str, str]
    query: str | None
    body: Body
    profile: Profile
    external: dict[str, bytes] = field(default_factory=dict)


class WarehouseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ClassPulse-Warehouse"
    disable_nagle_algorithm = True  # small responses must not wait for delayed ACKs
    wbufsize = 64 * 1024  # headers and a small body leave in one segment
    server: WarehouseServer

    # -- connection ----------------------------------------------------------------------

    def setup(self) -> None:
        # Every read and write on the socket times out (idle, slow or vanished clients).
        self.timeout = self.server.options.receive_timeout
        self._cors_origin: str | None = None
        super().setup()

    def handle_one_request(self) -> None:
        # The request line and headers must arrive within the keep-alive timeout of the
        # connection becoming idle, however slowly they trickle in.
        self.server.monitor.arm(self.connection, self.server.options.keep_alive_timeout)
        try:
            super().handle_one_request()
        finally:
            self.server.monitor.disarm(self.connection)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by the HTTP layer (bad request line, oversized headers,
        unknown method), answered as ClickHouse answers errors, and the connection closed."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # no request line could be read
            self.request_version = self.protocol_version
        reason = message or self.responses.get(code, ("Error",))[0]
        error_code, name = _PROTOCOL_ERRORS.get(code, (36, "BAD_ARGUMENTS"))
        version = self.server.engine.version
        text = ServerError(error_code, name, reason).render(version).encode("utf-8", "replace")
        self.send_response(code, message)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("X-ClickHouse-Server-Display-Name", self.server.display_name)
        self.send_header("X-ClickHouse-Exception-Code", str(error_code))
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(text)

    def end_headers(self) -> None:
        if self._cors_origin is not None:
            self.send_header("Access-Control-Allow-Origin", self._cors_origin)
            self.send_header("Vary", "Origin")
        super().end_headers()

    # -- routing -------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_OPTIONS(self) -> None:
        # A CORS preflight: answered for the configured origins only (no wildcard).
        self.server.monitor.disarm(self.connection)
        try:
            framing = request_framing(self.headers)
            self._check_browser_request()
        except ServerError as exc:
            self.close_connection = True
            self._fail(exc, "", None)
            return
        Body(self.rfile, framing, "").drain(limit=MAX_CHUNK_LINE) or self._close()
        extra = {}
        if self._cors_origin is not None:
            extra = {
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, "
                "X-ClickHouse-User, X-ClickHouse-Key, X-ClickHouse-Format, "
                "X-ClickHouse-Database, X-ClickHouse-Quota",
                "Access-Control-Max-Age": "600",
            }
        self._send_plain(204, b"", extra=extra)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s - %s", self.address_string(), format % args)

    def _close(self) -> None:
        self.close_connection = True

    def _check_browser_request(self) -> None:
        """Refuse what a web page could make a browser send here (drive-by SQL, DNS
        rebinding): a Host that is not this server's, an Origin that is not allowed."""
        host = self.headers.get("Host")
        if host is not None and not self.server.host_allowed(host):
            raise denied(
                f"Host {host!r} is not a name of this server (DNS rebinding?); to reach it "
                "under that name add it to CLASSPULSE_WAREHOUSE_ALLOWED_HOSTS"
            )
        origin = self.headers.get("Origin")
        if origin is not None:
            if origin not in self.server.options.allowed_origins:
                raise denied(
                    f"requests from web pages are refused (Origin {origin!r}); to allow a page, "
                    "add its origin to CLASSPULSE_WAREHOUSE_ALLOWED_ORIGINS"
                )
            self._cors_origin = origin
        elif self.headers.get("Sec-Fetch-Site", "none").lower() in ("cross-site", "same-site"):
            raise denied("requests from other web sites are refused")

    def _dispatch(self, method: str) -> None:
        self.server.monitor.disarm(self.connection)
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        query_id = params.get("query_id") or str(uuid.uuid4())
        try:
            framing = request_framing(self.headers)
            self._check_browser_request()
        except ServerError as exc:
            # The body's extent is unknown or the client is not welcome: nothing more
            # is read from this connection.
            self.close_connection = True
            self._fail(exc, query_id, None)
            return
        path = url.path.rstrip("/") or "/"
        if path in ("/ping", "/replicas_status") or (
            path == "/" and method in ("GET", "HEAD") and "query" not in params
        ):
            self._drain_body(framing)
            self._send_plain(200, b"Ok.\n")
            return
        if path not in ("/", "/query"):
            self._drain_body(framing)
            self._send_plain(
                404,
                f"There is no handle {url.path}\n\nUse / or /ping for health checks.\n".encode(),
            )
            return
        started = time.monotonic_ns()
        body: Body | None = None
        try:
            # Who is asking is settled before a byte of the body is read or decoded.
            profile = self._authenticate(params)
            body = Body(self.rfile, framing, self.headers.get("Content-Encoding", ""))
            request = self._parse(method, params, body, profile)
            with self.server.running.claim(query_id):
                self._execute(request, query_id, started)
        except (ServerError, EngineError) as exc:
            self._fail(exc, query_id, body if body is not None else Body(self.rfile, framing, ""))
        except UnsupportedEncoding as exc:
            self._fail(
                ServerError(
                    89, "UNKNOWN_COMPRESSION_METHOD", f"Unknown HTTP content encoding: {exc}"
                ),
                query_id,
                Body(self.rfile, framing, ""),
            )
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # our own bug: the client gets a ClickHouse-shaped error
            log.exception("query %s failed", query_id)
            self.close_connection = True
            internal = ServerError(
                1001,
                "STD_EXCEPTION",
                f"Internal error of the embedded server ({type(exc).__name__}); the server "
                "log has the details. Please report it",
            )
            self._fail(internal, query_id, None)

    def _drain_body(self, framing: Framing) -> None:
        if not Body(self.rfile, framing, "").drain():
            self.close_connection = True

    # -- parsing -------------------------------------------------------------------------

    def _parse(self, method: str, params: dict[str, str], body: Body, profile: Profile) -> Request:
        external: dict[str, bytes] = {}
        query = params.pop("query", None)
        content_type = self.headers.get("Content-Type", "")
        if method == "POST" and content_type.lower().startswith("multipart/form-data"):
            limit = self.server.options.max_form_size
            payload = body.read_all(
                limit,
                ServerError(
                    229,
                    "QUERY_IS_TOO_LARGE",
                    f"The multipart body is larger than {limit} bytes (decompressed); send "
                    "large data as INSERT ... FORMAT with the data in the body, or raise "
                    "CLASSPULSE_WAREHOUSE_MAX_FORM_SIZE",
                ),
            )
            fields, files = _parse_multipart(content_type, payload)
            body = Body.consumed()
            for name, value in fields.items():
                if name in ("user", "password"):
                    raise ServerError(
                        36,
                        "BAD_ARGUMENTS",
                        "Credentials are not accepted in a multipart form; send them in the "
                        "URL, the Authorization header or X-ClickHouse-User/Key",
                    )
                if name == "query":
                    query = value
                else:
                    params[name] = value
            external = files
        return Request(method, params, query, body, profile, external)

    def _authenticate(self, params: dict[str, str]) -> Profile:
        user = params.pop("user", None)
        password = params.pop("password", None)
        header_user = self.headers.get("X-ClickHouse-User")
        header_key = self.headers.get("X-ClickHouse-Key")
        authorization = self.headers.get("Authorization", "")
        if header_user is not None:
            user = header_user
            password = header_key or ""
        elif authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except ValueError:
                raise ServerError(
                    516, "AUTHENTICATION_FAILED", "Malformed Basic authorization header"
                ) from None
            user, _, password = decoded.partition(":")
        return self.server.users.authenticate(
            user or "default", password or "", self.client_address[0]
        )

    # -- execution -----------------------------------------------------------------------

    def _execute(self, request: Request, query_id: str, started: int) -> None:
        server = self.server
        engine = server.engine
        params = request.params
        settings = {
            name: value
            for name, value in params.items()
            if name not in RESERVED_PARAMS
            and not name.startswith("param_")
            and not _is_external_param(name, request.external)
        }
        query_params = {
            name[6:]: value for name, value in params.items() if name.startswith("param_")
        }
        database = params.get("database") or self.headers.get("X-ClickHouse-Database") or None
        for unsupported in ("compress", "decompress"):
            if params.get(unsupported, "0") not in ("0", "false", ""):
                raise ServerError(
                    48,
                    "NOT_IMPLEMENTED",
                    f"'{unsupported}=1' (ClickHouse's native block compression) is not supported "
                    "by the embedded server; use HTTP compression (Content-Encoding / "
                    "enable_http_compression=1)",
                )
        compress_response = settings.get("enable_http_compression", "0") in ("1", "true")
        wait_end = params.get("wait_end_of_query", "0") in ("1", "true")
        session_id = params.get("session_id")
        session: Session | None = None
        options = server.options
        analyst = request.profile.readonly
        scope = Scope(analyst, frozenset(options.analyst_databases))
        if analyst:
            if database is not None and database not in scope.databases:
                raise denied(
                    f"the analyst cannot use database {database}; the analyst's databases are "
                    + ", ".join(options.analyst_databases)
                )
            database = database or options.analyst_databases[0]
        # The query's mark in system.processes (log_comment): what the analyst's view is
        # filtered on, and what cancels the query when its client leaves.
        owner = ANALYST_MARKER_PREFIX if analyst else f"classpulse:{request.profile.name}:"
        marker = owner + (f"session:{session_id}" if session_id else query_id)
        locked: dict[str, str] = {}
        if analyst:
            locked = analyst_settings(
                list(options.analyst_databases),
                marker,
                options.analyst_max_memory_usage,
                options.analyst_max_execution_time,
                options.analyst_max_result_rows,
            )
        elif "log_comment" not in settings and not session_id:
            settings["log_comment"] = marker

        check_settings(settings)
        statement = self._statement(request, settings)
        head_text, insert = statement.text, statement.insert
        log.debug(
            "query %s session=%s user=%s: %.200s",
            query_id,
            session_id,
            request.profile.name,
            head_text,
        )
        keyword = sqltext.leading_keyword(head_text)
        if request.method == "GET" and not request.profile.readonly:
            if session_id is None:
                settings["readonly"] = "2"
            elif not sqltext.is_read_statement(head_text):
                raise ServerError(
                    164,
                    "READONLY",
                    "Cannot execute query in readonly mode. For queries over HTTP, method POST is required",
                )
        if request.profile.readonly:
            # The engine holds this user at readonly=1; a request cannot change that.
            settings.pop("readonly", None)

        if session_id:
            timeout = _session_timeout(params.get("session_timeout"))
            session = server.sessions.acquire(
                request.profile.name,
                session_id,
                timeout,
                params.get("session_check", "0") in ("1", "true"),
                {} if analyst else {"log_comment": marker},
                locked,
                database if analyst else None,
            )
            connection = session.connection
        else:
            connection = engine.connect({} if analyst else settings, database, locked)
            if analyst and settings:
                # The engine, held at readonly=1, refuses the change as ClickHouse does.
                try:
                    connection.query(set_statement(settings))
                except Exception as exc:
                    connection.close()
                    raise engine_error(exc) from None
        created_tables: list[str] = []
        failed = True
        watch: int | None = None
        try:
            if session is not None:
                session.use_database(database)
                session.apply_request_settings(
                    {k: v for k, v in settings.items() if k not in locked}
                )
                if analyst and session.current_database not in scope.databases:
                    raise denied(
                        f"the analyst's session is on database {session.current_database}, "
                        "which the analyst cannot use"
                    )
            tree = server.policy.check(
                connection,
                f"{insert.statement} FORMAT {insert.format_name}"
                if insert is not None
                else statement.query,
                query_params,
                scope,
                # an INSERT's head with its data apart: the same few texts, batch after batch
                reuse_parse=insert is not None,
            )
            if insert is None and tree.kind == "KillQueryQuery":
                # The engine cannot take a client's query id; the server marks each query
                # with it (log_comment), so KILL QUERY WHERE query_id = '...' finds it.
                by_client_id = kill_by_client_query_id(tree)
                if by_client_id is not None:
                    kill, kill_params = by_client_id
                    statement = Statement(kill, kill, None, b"")
                    query_params = {**query_params, **kill_params}
            created_tables = self._load_external(connection, request, params, scope)
            if insert is None:
                # The whole request is in: a client that closes its end now has left.
                watch = server.monitor.watch(self.connection, marker)
            fmt_clause = (
                sqltext.format_clause(head_text, engine.known_formats) if insert is None else None
            )
            output_format = _canonical_format(
                engine,
                fmt_clause
                or self.headers.get("X-ClickHouse-Format")
                or params.get("default_format")
                or "TabSeparated",
            )
            if insert is not None:
                summary = self._insert(connection, insert, statement.data_prefix, request.body)
                self._send_result(b"", None, query_id, summary, started, compress_response)
            elif (
                keyword in STREAMING_KEYWORDS
                and output_format.lower() in STREAMABLE_FORMATS
                and not wait_end
            ):
                self._stream(
                    connection,
                    statement.query,
                    output_format,
                    query_params,
                    query_id,
                    started,
                    compress_response,
                )
            else:
                try:
                    result = connection.query(statement.query, output_format, params=query_params)
                except Exception as exc:
                    raise engine_error(exc) from None
                data = result.bytes()
                summary = {
                    "read_rows": result.rows_read(),
                    "read_bytes": result.bytes_read(),
                    "written_rows": _written_rows(result),
                    "written_bytes": _written_bytes(result),
                    "result_rows": result.rows_read() if data else 0,
                    "result_bytes": len(data),
                }
                produces_result = bool(data) or keyword in RESULT_KEYWORDS
                self._send_result(
                    data,
                    output_format if produces_result else None,
                    query_id,
                    summary,
                    started,
                    compress_response,
                )
            failed = False
            if session is not None:
                if keyword == "SET":
                    session.forget_request_settings()
                elif keyword == "USE":
                    session.note_use()
        finally:
            if watch is not None:
                server.monitor.unwatch(watch)
            for table in created_tables:
                try:
                    connection.query(f"DROP TEMPORARY TABLE IF EXISTS `{table}`")
                except Exception:
                    log.warning("could not drop external table %s", table)
            if session is not None:
                if failed:
                    session.recover()
                server.sessions.release(session, close=params.get("close_session") in ("1", "true"))
            else:
                connection.close()

    def _statement(self, request: Request, settings: dict[str, str]) -> Statement:
        """Split the request into the statement and, for INSERTs with data, the data.

        As in ClickHouse, a ``query`` parameter and a body are one text joined by a
        newline. Data that must stream (a body after ``INSERT ... FORMAT x``) goes to the
        engine's streaming insert; anything that fits the peek goes through the query
        path, where server-side parameters work.
        """
        formats = self.server.engine.known_formats
        body = request.body
        query = request.query
        limit = _max_query_size(settings, self.server.options)
        too_large = ServerError(
            62,
            "SYNTAX_ERROR",
            f"Max query size exceeded: the query is longer than max_query_size ({limit} bytes). "
            "Send data as INSERT ... FORMAT <format> followed by the data, or raise "
            "max_query_size in the URL",
        )
        if query is not None:
            split = sqltext.split_insert(query, formats)
            if split is not None and not body.empty:
                inline = query[split.data_offset :]
                prefix = inline.encode() + b"\n" if inline else b""
                return Statement(query, query, split, prefix)
            if body.empty:
                return Statement(query, query, None, b"")
            rest = body.read_all(max(0, limit - len(query)), too_large)
            return _statement_from_bytes(query.encode() + b"\n" + rest)
        head = body.peek(256 * 1024)
        split = sqltext.split_insert(head.decode("latin-1"), formats)
        if split is not None and not (split.format_name == "Values" and body.complete):
            # latin-1 maps bytes 1:1, so the split's offsets are byte offsets.
            statement = head[: len(split.statement)].decode("utf-8", errors="replace")
            split = sqltext.InsertSplit(statement, split.format_name, split.data_offset)
            body.keep(head[split.data_offset :])
            return Statement(statement, statement, split, b"")
        return _statement_from_bytes(body.read_all(limit, too_large))

    def _insert(
        self, connection, split: sqltext.InsertSplit, prefix: bytes, body: Body
    ) -> dict[str, int]:
        if split.selects:
            raise ServerError(
                48,
                "NOT_IMPLEMENTED",
                "INSERT ... SELECT ... FROM input() with data in the request is not supported by "
                "the embedded server (chDB cannot stream it); insert the data into a staging "
                "table with INSERT ... FORMAT, then INSERT ... SELECT from it",
            )
        statement = split.statement
        fmt = _canonical_format(self.server.engine, split.format_name)
        try:
            inserter = connection.send_insert(statement, fmt)
        except Exception as exc:
            raise engine_error(exc) from None
        try:
            if prefix:
                inserter.append(prefix)
            for chunk in body.chunks():
                inserter.append(chunk)
            result = inserter.finish()
        except Exception as exc:
            with contextlib.suppress(Exception):
                inserter.cancel()
            if isinstance(exc, ServerError):
                raise
            raise engine_error(exc) from None
        return {"written_rows": result.rows_written, "written_bytes": result.bytes_written}

    def _load_external(
        self, connection, request: Request, params: dict[str, str], scope: Scope
    ) -> list[str]:
        created = []
        for name, data in request.external.items():
            if not name.isidentifier() or not name.isascii():
                raise ServerError(
                    36,
                    "BAD_ARGUMENTS",
                    f"Invalid external table name {name!r}: use letters, digits and _",
                )
            structure = params.get(f"{name}_structure")
            types = params.get(f"{name}_types")
            if structure is None and types is not None:
                structure = ", ".join(
                    f"_{index} {kind.strip()}" for index, kind in enumerate(types.split(","), 1)
                )
            if structure is None:
                raise ServerError(
                    36,
                    "BAD_ARGUMENTS",
                    f"Neither structure nor types have not been provided for external table {name}. Use fields {name}_structure or {name}_types to do so.",
                )
            fmt = params.get(f"{name}_format", "TabSeparated")
            create = f"CREATE TEMPORARY TABLE `{name}` ({structure})"
            self.server.policy.check(connection, create, {}, scope)
            try:
                connection.query(create)
                created.append(name)
                inserter = connection.send_insert(f"INSERT INTO `{name}`", fmt)
                if data:
                    inserter.append(data)
                inserter.finish()
            except Exception as exc:
                raise engine_error(exc) from None
        return created

    # -- responses -----------------------------------------------------------------------

    def _base_headers(self, query_id: str, fmt: str) -> dict[str, str]:
        lower = fmt.lower()
        if lower in CONTENT_TYPES:
            content_type = CONTENT_TYPES[lower]
        elif lower.startswith("json"):
            content_type = "application/json; charset=UTF-8"
        elif lower.startswith(BINARY_FORMATS):
            content_type = "application/octet-stream"
        else:
            content_type = "text/plain; charset=UTF-8"
        return {
            "Content-Type": content_type,
            "X-ClickHouse-Server-Display-Name": self.server.display_name,
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Format": fmt,
            "X-ClickHouse-Timezone": self.server.engine.timezone,
            "Keep-Alive": f"timeout={self.server.options.keep_alive_timeout:g}",
        }

    def _summary_header(self, summary: dict[str, int], started: int) -> str:
        full = {
            "read_rows": 0,
            "read_bytes": 0,
            "written_rows": 0,
            "written_bytes": 0,
            "total_rows_to_read": 0,
            "result_rows": 0,
            "result_bytes": 0,
        }
        full.update(summary)
        full["elapsed_ns"] = time.monotonic_ns() - started
        return json.dumps({key: str(value) for key, value in full.items()}, separators=(",", ":"))

    def _encoder(self, compress: bool):
        if not compress:
            return None, None
        name = choose_response_encoding(self.headers.get("Accept-Encoding", ""))
        if name is None:
            return None, None
        return name, codec(name)

    def _send_result(
        self,
        data: bytes,
        fmt: str | None,
        query_id: str,
        summary: dict[str, int],
        started: int,
        compress: bool,
    ) -> None:
        headers = self._base_headers(query_id, fmt or "TabSeparated")
        if fmt is None:
            del headers["X-ClickHouse-Format"]
        encoding, encoder = self._encoder(compress)
        if encoder is not None:
            data = encoder.compress(data) + encoder.flush()
            headers["Content-Encoding"] = encoding
        headers["X-ClickHouse-Summary"] = self._summary_header(summary, started)
        self._write_head(200, headers, len(data))
        if self.command != "HEAD":
            self.wfile.write(data)

    def _stream(
        self,
        connection,
        sql: str | bytes,
        fmt: str,
        query_params: dict[str, str],
        query_id: str,
        started: int,
        compress: bool,
    ) -> None:
        try:
            stream = connection.send_query(sql, fmt, params=query_params)
        except Exception as exc:
            raise engine_error(exc) from None
        try:
            first = stream.fetch()
        except Exception as exc:
            log.debug("query %s failed at its first block", query_id)
            _cancel_stream(connection, stream)
            raise engine_error(exc) from None
        rows = first.rows_read() if first is not None else 0
        chunks = [first.bytes()] if first is not None else []
        headers = self._base_headers(query_id, fmt)
        encoding, encoder = self._encoder(compress)
        if encoder is not None:
            headers["Content-Encoding"] = encoding
        tag = secrets.token_hex(8)
        headers["X-ClickHouse-Exception-Tag"] = tag
        headers["X-ClickHouse-Summary"] = self._summary_header(
            {"read_rows": rows, "result_rows": rows}, started
        )
        finished = False
        try:
            self._write_head(200, headers, None)
            for chunk in chunks:
                self._write_chunk(encoder.compress(chunk) if encoder else chunk)
            while not finished:
                try:
                    item = stream.fetch()
                except Exception as exc:
                    log.debug("query %s failed while streaming", query_id)
                    finished = True  # the engine ended the query
                    self._write_chunk(self._exception_block(exc, tag, encoder))
                    break
                if item is None:
                    finished = True
                    break
                data = item.bytes()
                if data:
                    self._write_chunk(encoder.compress(data) if encoder else data)
            if encoder is not None:
                self._write_chunk(encoder.flush())
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away
            log.debug("query %s: client went away", query_id)
            self.close_connection = True
        finally:
            if not finished:
                _cancel_stream(connection, stream)

    def _exception_block(self, exc: BaseException, tag: str, encoder) -> bytes:
        """ClickHouse's tagged exception block for an error after the response began."""
        message = engine_error(exc).render(self.server.engine.version).encode()
        block = (
            b"__exception__\r\n"
            + tag.encode()
            + b"\r\n"
            + message
            + f"{len(message)} {tag}".encode()
            + b"\r\n__exception__\r\n"
        )
        return encoder.compress(block) if encoder else block

    def _write_chunk(self, data: bytes) -> None:
        if data and self.command != "HEAD":
            self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))

    def _write_head(self, status: int, headers: dict[str, str], length: int | None) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _send_plain(self, status: int, data: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _fail(self, exc: ServerError | EngineError, query_id: str, body: Body | None) -> None:
        if isinstance(exc, ProtocolError) or body is None:
            self.close_connection = True
        elif not body.drain():
            # The rest of the body is large, malformed or slow: the connection is closed
            # rather than read on (the answer still goes out first).
            self.close_connection = True
        version = self.server.engine.version
        text = exc.render(version).encode()
        status = getattr(exc, "status", None) or http_status(exc.code)
        if status >= 500:
            log.warning("query %s: %s", query_id, text.decode(errors="replace").strip())
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("X-ClickHouse-Server-Display-Name", self.server.display_name)
        self.send_header("X-ClickHouse-Query-Id", query_id)
        self.send_header("X-ClickHouse-Exception-Code", str(exc.code))
        self.send_header("X-ClickHouse-Timezone", self.server.engine.timezone)
        self.send_header("Content-Length", str(len(text)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(text)


def kill_by_client_query_id(tree) -> tuple[str, dict[str, str]] | None:
    """``KILL QUERY WHERE query_id = 'x'`` for the query a client started with id x.

    Returns the statement to run instead (also matching the engine's own id x) and its
    bound parameters, or None when the KILL has another condition.
    """
    if not tree.children:
        return None
    where = tree.children[0]
    if where.kind != "Function" or where.name != "equals":
        return None
    arguments = where.arguments()
    if len(arguments) != 2:
        return None
    names = {node.kind: node for node in arguments}
    identifier, literal = names.get("Identifier"), names.get("Literal")
    if identifier is None or literal is None or identifier.name != "query_id":
        return None
    query_id = unquote_literal(literal.text)
    if query_id is None:
        return None
    mode = tree.text.split()[-1] if tree.text.split() else "ASYNC"
    if mode not in ("SYNC", "ASYNC", "TEST"):
        mode = "ASYNC"
    # The ids ride as bound parameters (their names are the server's own).
    bound = {
        "classpulse_kill_id": query_id,
        "classpulse_kill_mark": "classpulse:default:" + query_id,
        "classpulse_kill_analyst_mark": ANALYST_MARKER_PREFIX + query_id,
    }
    statement = (
        "KILL QUERY WHERE query_id = {classpulse_kill_id:String} OR Settings['log_comment'] "
        "IN ({classpulse_kill_mark:String}, {classpulse_kill_analyst_mark:String}) " + mode
    )
    return statement, {name: sqltext.escape_parameter(value) for name, value in bound.items()}


def _session_timeout(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ServerError(
            36, "BAD_ARGUMENTS", f"Invalid session_timeout {text!r}: it must be a number of seconds"
        ) from None


def _max_query_size(settings: dict[str, str], options: ServerOptions) -> int:
    """The query text limit: max_query_size (ClickHouse's 256 KiB unless the request
    raises it), never more than the server's in-memory body limit."""
    text = settings.get("max_query_size", "262144")
    try:
        value = int(text)
    except ValueError:
        raise ServerError(
            36, "BAD_ARGUMENTS", f"Invalid max_query_size {text!r}: it must be a number of bytes"
        ) from None
    return max(1, min(value, options.max_form_size))


def _cancel_stream(connection, stream) -> None:
    """Stop a streaming query so the connection (a session's, maybe) is clean again."""
    try:
        connection._conn.streaming_cancel_query(stream._result)
    except Exception:
        log.debug("cancelling a stream failed", exc_info=True)


def _written_rows(result) -> int:
    value = getattr(result, "rows_written", 0)
    return value() if callable(value) else int(value or 0)


def _written_bytes(result) -> int:
    value = getattr(result, "bytes_written", 0)
    return value() if callable(value) else int(value or 0)


def _canonical_format(engine: Engine, name: str) -> str:
    canonical = engine.formats.get(name.lower())
    if canonical is None:
        raise ServerError(73, "UNKNOWN_FORMAT", f"Unknown format {name}")
    return canonical


def _is_external_param(name: str, external: dict[str, bytes]) -> bool:
    for table in external:
        if name in (f"{table}_structure", f"{table}_types", f"{table}_format"):
            return True
    return False


def _parse_multipart(content_type: str, payload: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + payload
    )
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[str(name)] = data
        else:
            fields[str(name)] = data.decode("utf-8", errors="replace")
    return fields, files


# HTTP-layer errors (http.server's send_error) as ClickHouse error codes.
_PROTOCOL_ERRORS = {
    400: (36, "BAD_ARGUMENTS"),
    408: (209, "SOCKET_TIMEOUT"),
    414: (36, "BAD_ARGUMENTS"),
    431: (36, "BAD_ARGUMENTS"),
    501: (48, "NOT_IMPLEMENTED"),
    505: (48, "NOT_IMPLEMENTED"),
}

# ClickHouse's mapping from exception codes to HTTP statuses (Server/HTTP).
_STATUS_BY_CODE = {
    194: 401,
    **dict.fromkeys((192, 193, 516, 512, 497), 403),
    **dict.fromkeys(
        (
            36,
            427,
            6,
            25,
            26,
            38,
            41,
            72,
            441,
            675,
            676,
            27,
            376,
            15,
            44,
            37,
            123,
            8,
            167,
            168,
            223,
            62,
            117,
            53,
            321,
        ),
        400,
    ),
    **dict.fromkeys((60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511), 404),
    229: 413,
    48: 501,
    209: 503,
    76: 503,
    381: 411,
    159: 408,
    439: 503,
    779: 415,
}


def http_status(code: int) -> int:
    return _STATUS_BY_CODE.get(code, 500)


# -- process entry point --------------------------------------------------------------


class PathLock:
    """An exclusive lock on a data path: one server per path."""

    def __init__(self, path: Path) -> None:
        self.file = path / "server.lock"
        self._handle = None

    def acquire(self) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.file, "a+")  # noqa: SIM115 - held for the process lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip()
            handle.close()
            raise RuntimeError(
                f"another warehouse server (pid {owner or '?'}) already owns {self.file.parent}; "
                "stop it with `classpulse warehouse stop` or use another CLASSPULSE_WAREHOUSE_PATH"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle


def serve(
    path: Path,
    host: str,
    port: int,
    users: Users,
    timezone: str = "UTC",
    options: ServerOptions | None = None,
) -> None:
    """Run the server in the foreground until SIGTERM/SIGINT.

    ``timezone`` is the server's time zone (what ``timezone()`` and the
    X-ClickHouse-Timezone header report), as ClickHouse's ``<timezone>`` setting.
    The process works in the user_files directory, so relative paths in file functions
    mean files there.
    """
    options = options or ServerOptions()
    path = path.resolve()
    if options.user_files is not None:
        options.user_files.mkdir(parents=True, exist_ok=True)
        os.chdir(options.user_files)
    os.environ["TZ"] = timezone
    time.tzset()
    if not _is_loopback(host) and not users._default_password:
        raise SystemExit(
            f"refusing to listen on {host}: a non-loopback address requires passwords. "
            "Set CLASSPULSE_CLICKHOUSE_PASSWORD (and CLASSPULSE_ANALYST_PASSWORD for analysts)."
        )
    lock = PathLock(path)
    lock.acquire()
    engine = Engine(path)
    try:
        if users.analyst_enabled:
            engine.ensure_databases(list(options.analyst_databases))
        httpd = WarehouseServer((host, port), engine, users, options)
    except OSError as exc:
        engine.close()
        raise SystemExit(
            f"cannot listen on {host}:{port}: {exc.strerror}. Another server may be using the "
            "port; set CLASSPULSE_CLICKHOUSE_PORT to a free port."
        ) from None

    def shutdown(signum: int, _frame: object) -> None:
        log.info("signal %d: shutting down", signum)
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    expiry = threading.Thread(target=_expire_sessions, args=(httpd,), daemon=True)
    expiry.start()
    log.info("ClickHouse %s (chDB) on %s serving http://%s:%d", engine.version, path, host, port)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.monitor.stop()
        httpd.server_close()
        httpd.sessions.close_all()
        engine.close()
        log.info("stopped")


def _expire_sessions(httpd: WarehouseServer) -> None:
    while True:
        time.sleep(5)
        try:
            httpd.sessions.expire()
        except Exception:
            log.exception("session expiry failed")


def main(argv: list[str] | None = None) -> None:
    from classpulse.config import load_settings

    settings = load_settings()
    parser = argparse.ArgumentParser(
        prog="python -m classpulse.warehouse.server",
        description="Serve the on-disk chDB engine over ClickHouse's HTTP interface (foreground).",
    )
    parser.add_argument("--path", type=Path, default=settings.warehouse_path)
    parser.add_argument("--host", default=settings.warehouse_bind)
    parser.add_argument("--port", type=int, default=settings.clickhouse_port)
    parser.add_argument("--timezone", default=settings.warehouse_timezone)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("CLASSPULSE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    users = Users(settings.clickhouse_password, settings.analyst_user, settings.analyst_password)
    try:
        serve(
            args.path,
            args.host,
            args.port,
            users,
            args.timezone,
            ServerOptions.from_settings(settings),
        )
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


if __name__ == "__main__":
    main()
