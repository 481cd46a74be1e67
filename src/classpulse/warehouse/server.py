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
from classpulse.warehouse.codecs import UnsupportedEncoding, choose_response_encoding, codec
from classpulse.warehouse.engine import (
    Engine,
    EngineError,
    ServerError,
    Session,
    SessionStore,
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


class WarehouseServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], engine: Engine, users: Users) -> None:
        self.engine = engine
        self.users = users
        self.sessions = SessionStore(engine)
        self.display_name = socket.gethostname()
        self.started_at = time.time()
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, WarehouseHandler)


class Body:
    """The request body as a stream of decoded byte chunks."""

    def __init__(self, handler: BaseHTTPRequestHandler, encoding: str) -> None:
        self._rfile = handler.rfile
        headers = handler.headers
        self._chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        length = headers.get("Content-Length")
        self._remaining = int(length) if length and not self._chunked else 0
        self._decoder = codec(encoding) if encoding else None
        self._done = not self._chunked and self._remaining == 0
        self._prefix = b""

    @classmethod
    def consumed(cls) -> Body:
        """A body that was already read (multipart forms are parsed whole)."""
        body = cls.__new__(cls)
        body._rfile, body._chunked, body._remaining = None, False, 0
        body._decoder, body._done, body._prefix = None, True, b""
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
        if self._done:
            return
        if self._chunked:
            while True:
                size_line = self._rfile.readline(65537)
                if not size_line:
                    raise ServerError(33, "CANNOT_READ_ALL_DATA", "Unexpected end of chunked body")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self._rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                data = self._rfile.read(size)
                self._rfile.readline(3)
                if len(data) < size:
                    raise ServerError(33, "CANNOT_READ_ALL_DATA", "Unexpected end of chunked body")
                yield data
        else:
            while self._remaining > 0:
                data = self._rfile.read(min(self._remaining, MAX_INSERT_CHUNK))
                if not data:
                    raise ServerError(33, "CANNOT_READ_ALL_DATA", "Unexpected end of request body")
                self._remaining -= len(data)
                yield data
        self._done = True

    def chunks(self) -> Iterator[bytes]:
        """Decoded chunks, after anything already peeked."""
        if self._prefix:
            prefix, self._prefix = self._prefix, b""
            yield prefix
        if self._done:
            return
        for raw in self.raw_chunks():
            data = self._decode(raw)
            if data:
                yield data

    def _decode(self, raw: bytes) -> bytes:
        if self._decoder is None:
            return raw
        try:
            return self._decoder.decompress(raw)
        except Exception as exc:
            raise ServerError(
                271, "CANNOT_DECOMPRESS", f"Cannot decompress request body: {exc}"
            ) from None

    def peek(self, size: int) -> bytes:
        """At least ``size`` decoded bytes (fewer at the end), kept for ``chunks``."""
        buffered = [self._prefix] if self._prefix else []
        have = len(self._prefix)
        if not self._done:
            iterator = self.raw_chunks()
            while have < size:
                raw = next(iterator, None)
                if raw is None:
                    break
                data = self._decode(raw)
                buffered.append(data)
                have += len(data)
        self._prefix = b"".join(buffered)
        return self._prefix

    def read_all(self) -> bytes:
        return b"".join(self.chunks())

    def drain(self) -> None:
        try:
            for _ in self.raw_chunks():
                pass
        except Exception:
            pass


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

    # -- routing -------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_OPTIONS(self) -> None:
        self._send_plain(204, b"", extra={"Access-Control-Allow-Origin": "*"})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s - %s", self.address_string(), format % args)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        path = url.path.rstrip("/") or "/"
        if path in ("/ping", "/replicas_status") or (
            path == "/" and method in ("GET", "HEAD") and "query" not in params
        ):
            self._drain_body()
            self._send_plain(200, b"Ok.\n")
            return
        if path not in ("/", "/query"):
            self._drain_body()
            self._send_plain(
                404,
                f"There is no handle {url.path}\n\nUse / or /ping for health checks.\n".encode(),
            )
            return
        query_id = params.get("query_id") or str(uuid.uuid4())
        started = time.monotonic_ns()
        body: Body | None = None
        try:
            body = Body(self, self.headers.get("Content-Encoding", ""))
            request = self._parse(method, params, body)
            self._execute(request, query_id, started)
        except (ServerError, EngineError) as exc:
            self._fail(exc, query_id, body)
        except UnsupportedEncoding as exc:
            self._fail(
                ServerError(
                    89, "UNKNOWN_COMPRESSION_METHOD", f"Unknown HTTP content encoding: {exc}"
                ),
                query_id,
                body,
            )
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception as exc:  # an engine error we did not classify, or our own bug
            log.exception("query %s failed", query_id)
            self._fail(engine_error(exc), query_id, body)

    def _drain_body(self) -> None:
        try:
            Body(self, "").drain()
        except Exception:
            self.close_connection = True

    # -- parsing -------------------------------------------------------------------------

    def _parse(self, method: str, params: dict[str, str], body: Body) -> Request:
        external: dict[str, bytes] = {}
        query = params.pop("query", None)
        content_type = self.headers.get("Content-Type", "")
        if method == "POST" and content_type.lower().startswith("multipart/form-data"):
            fields, files = _parse_multipart(content_type, body.read_all())
            body = Body.consumed()
            for name, value in fields.items():
                if name == "query":
                    query = value
                else:
                    params[name] = value
            external = files
        profile = self._authenticate(params)
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

        statement = self._statement(request)
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
            timeout = params.get("session_timeout")
            session = server.sessions.acquire(
                request.profile.name,
                session_id,
                float(timeout) if timeout else None,
                params.get("session_check", "0") in ("1", "true"),
                request.profile.settings,
            )
            connection = session.connection
        else:
            connection = engine.connect(
                request.profile.settings if request.profile.readonly else settings, database
            )
            if request.profile.readonly and settings:
                # The engine, held at readonly=1, refuses the change as ClickHouse does.
                try:
                    connection.query(set_statement(settings))
                except Exception as exc:
                    connection.close()
                    raise engine_error(exc) from None
        created_tables: list[str] = []
        failed = True
        try:
            if session is not None:
                session.use_database(database)
                session.apply_request_settings(
                    {k: v for k, v in settings.items() if k not in request.profile.settings}
                )
            created_tables = self._load_external(connection, request, params)
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

    def _statement(self, request: Request) -> Statement:
        """Split the request into the statement and, for INSERTs with data, the data.

        As in ClickHouse, a ``query`` parameter and a body are one text joined by a
        newline. Data that must stream (a body after ``INSERT ... FORMAT x``) goes to the
        engine's streaming insert; anything that fits the peek goes through the query
        path, where server-side parameters work.
        """
        formats = self.server.engine.known_formats
        body = request.body
        query = request.query
        if query is not None:
            split = sqltext.split_insert(query, formats)
            if split is not None and not body.empty:
                inline = query[split.data_offset :]
                prefix = inline.encode() + b"\n" if inline else b""
                return Statement(query, query, split, prefix)
            if body.empty:
                return Statement(query, query, None, b"")
            return _statement_from_bytes(query.encode() + b"\n" + body.read_all())
        head = body.peek(256 * 1024)
        split = sqltext.split_insert(head.decode("latin-1"), formats)
        if split is not None and not (split.format_name == "Values" and body.complete):
            # latin-1 maps bytes 1:1, so the split's offsets are byte offsets.
            statement = head[: len(split.statement)].decode("utf-8", errors="replace")
            split = sqltext.InsertSplit(statement, split.format_name, split.data_offset)
            body.keep(head[split.data_offset :])
            return Statement(statement, statement, split, b"")
        return _statement_from_bytes(body.read_all())

    def _insert(
        self, connection, split: sqltext.InsertSplit, prefix: bytes, body: Body
    ) -> dict[str, int]:
        if split.selects:
            body.drain()
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
            body.drain()
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
            body.drain()
            if isinstance(exc, ServerError):
                raise
            raise engine_error(exc) from None
        return {"written_rows": result.rows_written, "written_bytes": result.bytes_written}

    def _load_external(self, connection, request: Request, params: dict[str, str]) -> list[str]:
        created = []
        for name, data in request.external.items():
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
            try:
                connection.query(f"CREATE TEMPORARY TABLE `{name}` ({structure})")
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
            "Keep-Alive": "timeout=30",
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
        if body is not None:
            body.drain()
        version = self.server.engine.version
        text = exc.render(version).encode()
        status = http_status(exc.code)
        if status >= 500:
            log.warning("query %s: %s", query_id, text.decode(errors="replace").strip())
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("X-ClickHouse-Server-Display-Name", self.server.display_name)
        self.send_header("X-ClickHouse-Query-Id", query_id)
        self.send_header("X-ClickHouse-Exception-Code", str(exc.code))
        self.send_header("X-ClickHouse-Timezone", self.server.engine.timezone)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(text)


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


def serve(path: Path, host: str, port: int, users: Users, timezone: str = "UTC") -> None:
    """Run the server in the foreground until SIGTERM/SIGINT.

    ``timezone`` is the server's time zone (what ``timezone()`` and the
    X-ClickHouse-Timezone header report), as ClickHouse's ``<timezone>`` setting.
    """
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
        httpd = WarehouseServer((host, port), engine, users)
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
        serve(args.path, args.host, args.port, users, args.timezone)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


if __name__ == "__main__":
    main()
