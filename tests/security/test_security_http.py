"""Issue 9, items 4-9 and 12: the HTTP layer, through real requests on real sockets.

4. drive-by SQL from web pages (Origin, Host/DNS rebinding, no wildcard CORS);
5. authentication before the body is read, decompressed sizes capped;
6. truncated compressed INSERT bodies (and trailing garbage) store nothing;
7. strict framing: a malformed request is answered 400 and the connection closed, so no
   leftover bytes run as a second request;
8. the query size limit applies while the body is read; a gzip bomb INSERT stays small;
9. idle and slow connections are closed; the advertised keep-alive timeout holds;
12. protocol errors answered as ClickHouse answers; client query ids honoured.
"""

from __future__ import annotations

import gzip
import http.client
import socket
import threading
import uuid
from urllib.parse import quote

import pytest
from content_codings import COMPRESS
from security_support import (
    ALLOWED_ORIGIN,
    KEEP_ALIVE_TIMEOUT,
    MAX_FORM_SIZE,
    Http,
    raw_exchange,
    responses_in,
    server_peak_memory,
    wait_until,
)


def insert_request(table: str, body: bytes, headers: str = "", path_extra: str = "") -> bytes:
    query = quote(f"INSERT INTO {table} FORMAT CSV")
    return (
        f"POST /?query={query}{path_extra} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n"
    ).encode() + body


def smuggled_insert(table: str, value: int = 666) -> bytes:
    """A complete second request hidden where the first one's body would be."""
    query = quote(f"INSERT INTO {table} VALUES ({value})")
    return f"POST /?query={query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode()


# -- 4. web pages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Content-Type": "text/plain"},
        {"Origin": "null", "Content-Type": "text/plain"},
        {"Host": "evil.example:8123", "Content-Type": "text/plain"},  # DNS rebinding
        {"Host": "attacker.localtest.me"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_requests_a_web_page_can_make_are_refused(http_request, table, headers):
    reply = http_request(body=f"INSERT INTO {table} VALUES (1)".encode(), headers=headers)
    assert reply.status == 403, reply.text
    assert reply.code == "497"
    assert "access-control-allow-origin" not in reply.headers
    assert http_request.value(f"SELECT count() FROM {table}") == "0"


def test_no_wildcard_cors_and_preflights_only_for_allowed_origins(secured, http_request):
    connection = http.client.HTTPConnection("127.0.0.1", secured.port, timeout=60)
    connection.request("OPTIONS", "/", headers={"Origin": "http://evil.example"})
    refused = connection.getresponse()
    refused.read()
    assert refused.getheader("Access-Control-Allow-Origin") is None
    connection.close()
    for reply in (http_request("SELECT 1"), http_request(body=b"SELECT 1")):
        assert reply.status == 200
        assert "access-control-allow-origin" not in reply.headers
    connection = http.client.HTTPConnection("127.0.0.1", secured.port, timeout=60)
    connection.request("OPTIONS", "/", headers={"Origin": ALLOWED_ORIGIN})
    allowed = connection.getresponse()
    allowed.read()
    assert allowed.getheader("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    connection.close()
    reply = http_request(body=b"SELECT 1", headers={"Origin": ALLOWED_ORIGIN})
    assert reply.status == 200 and reply.text == "1\n"
    assert reply.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_loopback_host_names_are_served(http_request):
    for host in ("127.0.0.1", "localhost", "localhost:8123", "[::1]:8123", "127.0.0.2"):
        reply = http_request(body=b"SELECT 1", headers={"Host": host})
        assert reply.status == 200, (host, reply.text)


# -- 5. authentication before the body ------------------------------------------------


def multipart(field_data: bytes, boundary: str = "classpulse-boundary") -> tuple[bytes, str]:
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="ext"; filename="ext.tsv"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + field_data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_wrong_password_is_refused_before_the_body_is_decompressed(fresh_secured):
    secured, http_request = fresh_secured, Http(fresh_secured)
    data, content_type = multipart(b"1\n" * (96 << 20))  # 192 MiB of form data...
    bomb = gzip.compress(data, compresslevel=9)  # ...in a few hundred KiB
    assert len(bomb) < 1 << 20
    before = server_peak_memory(secured.pid)
    reply = http_request(
        "SELECT count() FROM ext",
        bomb,
        user="analyst",
        password="wrong",
        headers={"Content-Encoding": "gzip", "Content-Type": content_type},
        ext_structure="x UInt8",
    )
    assert reply.status == 403 and reply.code == "516", reply.text
    assert server_peak_memory(secured.pid) - before < 64 << 20


def test_decompressed_form_data_is_capped_for_authenticated_users(fresh_secured):
    secured, http_request = fresh_secured, Http(fresh_secured)
    data, content_type = multipart(b"1\n" * (48 << 20))
    bomb = gzip.compress(data, compresslevel=9)
    before = server_peak_memory(secured.pid)
    reply = http_request(
        "SELECT count() FROM ext",
        bomb,
        headers={"Content-Encoding": "gzip", "Content-Type": content_type},
        ext_structure="x UInt8",
    )
    assert reply.status == 413 and reply.code == "229", reply.text
    assert str(MAX_FORM_SIZE) in reply.text
    assert server_peak_memory(secured.pid) - before < 64 << 20


def test_credentials_in_a_form_are_not_accepted(http_request):
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="user"\r\n\r\nanalyst\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    reply = http_request(
        "SELECT 1", body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert reply.status == 400 and reply.code == "36", reply.text


# -- 6. truncated compressed bodies ----------------------------------------------------

ROWS = "".join(f"{i}\n" for i in range(1, 20001)).encode()


@pytest.mark.parametrize("coding", sorted(COMPRESS))
@pytest.mark.parametrize("cut", [1, 7, 200])
def test_a_truncated_compressed_insert_stores_nothing(http_request, table, coding, cut):
    body = COMPRESS[coding](ROWS)[:-cut]
    reply = http_request(
        f"INSERT INTO {table} FORMAT CSV", body, headers={"Content-Encoding": coding}
    )
    assert reply.status >= 400, reply.text
    assert reply.code == "271", reply.text
    assert http_request.value(f"SELECT count() FROM {table}") == "0"


@pytest.mark.parametrize("coding", sorted(COMPRESS))
def test_trailing_garbage_after_a_compressed_insert_stores_nothing(http_request, table, coding):
    body = COMPRESS[coding](ROWS) + b"\x00garbage that is not a stream"
    reply = http_request(
        f"INSERT INTO {table} FORMAT CSV", body, headers={"Content-Encoding": coding}
    )
    assert reply.status >= 400 and reply.code == "271", reply.text
    assert http_request.value(f"SELECT count() FROM {table}") == "0"


@pytest.mark.parametrize("coding", sorted(COMPRESS))
def test_a_whole_compressed_insert_is_stored(http_request, table, coding):
    body = COMPRESS[coding](ROWS)
    reply = http_request(
        f"INSERT INTO {table} FORMAT CSV", body, headers={"Content-Encoding": coding}
    )
    assert reply.status == 200, reply.text
    assert http_request.value(f"SELECT count(), sum(id) FROM {table}") == "20000\t200010000"


# -- 7. framing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, body",
    [
        ("Content-Length: -1\r\n", b""),
        ("Content-Length: abc\r\n", b""),
        ("Content-Length: 0x10\r\n", b""),
        ("Content-Length: 5\r\nContent-Length: 0\r\n", b""),
        ("Content-Length: +0\r\n", b""),
        ("Transfer-Encoding: xchunked\r\n", b""),
        ("Transfer-Encoding: chunked, identity\r\n", b""),
        ("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", b"0\r\n\r\n"),
        ("Transfer-Encoding: chunked\r\n", b"zz\r\n1\n\r\n0\r\n\r\n"),
        ("Transfer-Encoding: chunked\r\n", b"2 2\r\n1\n\r\n0\r\n\r\n"),
        ("Transfer-Encoding: chunked\r\n", b"2\r\n1\nXX0\r\n\r\n"),
        ("Transfer-Encoding: chunked\r\n", b"-2\r\n1\n\r\n0\r\n\r\n"),
        ("Transfer-Encoding: chunked\r\n", b"2\n1\n\r\n0\r\n\r\n"),
    ],
)
def test_malformed_framing_is_400_and_closes_the_connection(
    secured, http_request, table, headers, body
):
    data = insert_request(table, body, headers) + smuggled_insert(table)
    raw = raw_exchange(secured.port, data)
    statuses = responses_in(raw)
    assert len(statuses) == 1, raw[:2000]
    assert b" 400 " in statuses[0], raw[:2000]
    assert b"x-clickhouse-exception-code:" in raw.lower()
    assert b"connection: close" in raw.lower()
    assert http_request.value(f"SELECT count() FROM {table}") == "0"


def test_well_formed_pipelined_requests_still_work(secured, http_request, table):
    first = insert_request(table, b"2\r\n1\n\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n")
    raw = raw_exchange(
        secured.port,
        first
        + smuggled_insert(table, 2).replace(
            b"Content-Length: 0", b"Connection: close\r\nContent-Length: 0"
        ),
    )
    statuses = responses_in(raw)
    assert [b" 200 " in status for status in statuses] == [True, True], raw[:2000]
    assert http_request.value(f"SELECT sum(id) FROM {table}") == "3"


# -- 8. sizes while reading ---------------------------------------------------------------


def test_the_query_size_limit_applies_while_reading(secured):
    # Headers announce 200 MB; only 1 MiB is sent. The answer must come anyway: the
    # server stops at max_query_size instead of reading (and holding) the whole body.
    with socket.create_connection(("127.0.0.1", secured.port), timeout=60) as connection:
        connection.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 200000000\r\n\r\n"
            + b"SELECT 1 -- "
            + b"x" * (1 << 20)
        )
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = connection.recv(65536)
            assert chunk, "connection closed without an answer"
            raw += chunk
    assert raw.startswith(b"HTTP/1.1 400"), raw[:500]
    assert b"Max query size exceeded" in raw or b"x-clickhouse-exception-code: 62" in raw.lower()


def test_a_larger_max_query_size_is_honoured(http_request):
    long_query = b"SELECT 1 -- " + b"x" * 300_000
    assert http_request(body=long_query).code == "62"
    reply = http_request(body=long_query, max_query_size=1_000_000)
    assert reply.status == 200 and reply.text == "1\n"


def test_a_gzip_bomb_insert_is_decoded_in_small_pieces(fresh_secured):
    secured, http_request = fresh_secured, Http(fresh_secured)
    http_request.value("CREATE TABLE default.bomb_target (id Int64) ENGINE = MergeTree ORDER BY id")
    table = "default.bomb_target"
    bomb = gzip.compress(b"not a number\n" * (40 << 20), compresslevel=9)  # 520 MiB
    before = server_peak_memory(secured.pid)
    reply = http_request(
        f"INSERT INTO {table} FORMAT CSV", bomb, headers={"Content-Encoding": "gzip"}
    )
    assert reply.status >= 400, reply.text
    assert server_peak_memory(secured.pid) - before < 128 << 20
    assert http_request.value(f"SELECT count() FROM {table}") == "0"


# -- 9. timeouts -----------------------------------------------------------------------


def _closed_by_server(connection: socket.socket, send: bytes | None = None) -> bool:
    try:
        if send is not None:
            connection.sendall(send)
        connection.settimeout(0.2)
        return connection.recv(65536) == b""
    except TimeoutError:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_an_idle_connection_is_closed(secured):
    with socket.create_connection(("127.0.0.1", secured.port), timeout=60) as connection:
        wait_until(lambda: _closed_by_server(connection), deadline_s=60)


def test_a_slowloris_header_trickle_is_cut_off(secured):
    with socket.create_connection(("127.0.0.1", secured.port), timeout=60) as connection:
        connection.sendall(b"GET /?query=SELECT+1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        # One byte of an endless header every 0.2 s: always within the receive timeout,
        # never a complete request.
        wait_until(lambda: _closed_by_server(connection, b"X"), deadline_s=60, interval=0)


def test_the_advertised_keep_alive_timeout_is_enforced(secured):
    with socket.create_connection(("127.0.0.1", secured.port), timeout=60) as connection:
        connection.sendall(b"GET /?query=SELECT+1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = b""
        while b"1\n" not in head:
            head += connection.recv(65536)
        assert f"keep-alive: timeout={KEEP_ALIVE_TIMEOUT}".encode() in head.lower()
        wait_until(lambda: _closed_by_server(connection), deadline_s=60)


def test_idle_connections_do_not_pile_up(secured, http_request):
    idle = [socket.create_connection(("127.0.0.1", secured.port), timeout=60) for _ in range(20)]
    try:
        for connection in idle:
            wait_until(lambda c=connection: _closed_by_server(c), deadline_s=60)
        assert http_request.value("SELECT 1") == "1"
    finally:
        for connection in idle:
            connection.close()


# -- 12. protocol errors and query ids ------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"PUT / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", 501),
        (b"HELLO\r\n\r\n", 400),
        (b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 505),
        (b"GET /?query=SELECT+1 HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n", 431),
    ],
)
def test_protocol_errors_are_answered_as_clickhouse_does(secured, request_bytes, status):
    raw = raw_exchange(secured.port, request_bytes)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status}".encode()) or head.startswith(
        f"HTTP/1.0 {status}".encode()
    ), raw[:300]
    assert b"x-clickhouse-exception-code:" in head.lower()
    assert b"content-type: text/plain" in head.lower()
    assert body.startswith(b"Code: ") and b"DB::Exception" in body
    assert b"<html" not in body.lower() and b"Traceback" not in body


def test_bad_parameters_are_400_with_clickhouse_text(http_request):
    reply = http_request("SELECT 1", session_id="s-" + uuid.uuid4().hex, session_timeout="abc")
    assert reply.status == 400 and reply.code == "36", reply.text
    assert reply.text.startswith("Code: 36. DB::Exception: Invalid session_timeout")


def start_long_query(
    http_request, query_id: str, rows: int
) -> tuple[threading.Thread, dict[str, object]]:
    """A slow query under ``query_id`` in a thread of its own (its reply goes into the dict
    returned), once the server lists it as running."""
    done: dict[str, object] = {}

    def long_query():
        done["reply"] = http_request(
            body=f"SELECT sum(sleepEachRow(0.00004)) FROM numbers({rows}) FORMAT JSON".encode(),
            query_id=query_id,
        )

    worker = threading.Thread(target=long_query)
    worker.start()
    try:
        wait_until(
            lambda: (
                http_request.value(
                    "SELECT count() FROM system.processes WHERE "
                    f"Settings['log_comment'] = 'classpulse:default:{query_id}'"
                )
                == "1"
            )
        )
    except BaseException:
        worker.join(120)
        raise
    return worker, done


def test_a_running_query_id_cannot_be_reused(http_request, table):
    query_id = "unique-" + uuid.uuid4().hex
    worker, done = start_long_query(http_request, query_id, rows=300_000)
    try:
        second = http_request(body=f"INSERT INTO {table} VALUES (5)".encode(), query_id=query_id)
        assert second.code == "216", second.text
        assert second.headers["x-clickhouse-query-id"] == query_id
    finally:
        worker.join(120)
    assert done["reply"].status == 200
    assert http_request.value(f"SELECT count() FROM {table}") == "0"
    # Once it has finished, the id is free again.
    again = http_request(body=f"INSERT INTO {table} VALUES (6)".encode(), query_id=query_id)
    assert again.status == 200 and again.headers["x-clickhouse-query-id"] == query_id
    assert http_request.value(f"SELECT sum(id) FROM {table}") == "6"


def test_the_server_answers_after_all_of_the_above(http_request):
    assert http_request.value("SELECT 1") == "1"


def test_kill_query_finds_a_query_by_the_clients_query_id(http_request):
    query_id = "killable-" + uuid.uuid4().hex
    worker, done = start_long_query(http_request, query_id, rows=3_000_000)
    try:
        killed = http_request(body=f"KILL QUERY WHERE query_id = '{query_id}' SYNC".encode())
        assert killed.status == 200, killed.text
    finally:
        worker.join(120)
    assert done["reply"].code == "394", done["reply"].text  # QUERY_WAS_CANCELLED
