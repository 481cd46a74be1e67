"""Fuzz tests (hypothesis) of the request parser, the body decoders and the SQL checks.

Bounded so `make test` stays quick; `make fuzz` runs them long
(CLASSPULSE_FUZZ_EXAMPLES=<n> sets the number of examples of each).

- decoders: any bytes decode or raise CorruptStream (nothing else, no hang); valid
  streams cut anywhere are refused; valid streams split anywhere decode exactly;
- the body parser (framing): any bytes parse or raise the server's own errors, and a
  well-formed chunked body is read to its exact end, not a byte further (no desync);
- the server over real sockets: any request gets a well-formed answer or a closed
  connection, never an internal error, and a framing error ends the connection;
- the SQL checks: a statement passed to the engine as a parameter comes back unchanged,
  and string literals in the engine's syntax tree are read back exactly.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from content_codings import COMPRESS
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from security_support import Http, fuzz_examples, raw_exchange, responses_in

from classpulse.warehouse.codecs import CorruptStream, decode_all
from classpulse.warehouse.engine import ServerError
from classpulse.warehouse.server import Body, Framing, ProtocolError
from classpulse.warehouse.sqltext import escape_parameter, unquote_literal
from classpulse.warehouse.statement import parse_tree

CODINGS = sorted(COMPRESS)


def examples(count: int) -> settings:
    """Hypothesis settings for ``count`` examples (scaled by fuzz_examples), no deadline."""
    return settings(
        max_examples=fuzz_examples(count),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


FAST = examples(60)
SLOW = examples(25)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(max(cut, 0), len(data)) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


# -- decoders ------------------------------------------------------------------------------


@FAST
@given(
    coding=st.sampled_from(CODINGS),
    data=st.binary(max_size=4096),
    cuts=st.lists(st.integers(0, 4096), max_size=6),
)
def test_any_bytes_decode_or_raise_corrupt_stream(coding, data, cuts):
    with contextlib.suppress(CorruptStream):
        decode_all(coding, split(data, cuts), limit=64 << 20)


@FAST
@given(
    coding=st.sampled_from(CODINGS),
    data=st.binary(max_size=20000),
    cuts=st.lists(st.integers(0, 30000), max_size=8),
)
def test_valid_streams_decode_exactly_however_split(coding, data, cuts):
    compressed = COMPRESS[coding](data)
    pieces = [compressed] if coding == "br" else split(compressed, cuts)
    assert decode_all(coding, pieces) == data


@FAST
@given(
    coding=st.sampled_from(CODINGS),
    data=st.binary(min_size=1, max_size=5000),
    cut=st.integers(1, 10**6),
)
def test_any_truncation_of_a_valid_stream_is_refused(coding, data, cut):
    compressed = COMPRESS[coding](data)
    prefix = compressed[: len(compressed) - 1 - cut % len(compressed)]
    assume(prefix)
    with pytest.raises(CorruptStream):
        decode_all(coding, [prefix])


@FAST
@given(
    coding=st.sampled_from(CODINGS),
    data=st.binary(max_size=2000),
    garbage=st.binary(min_size=1, max_size=64),
)
def test_garbage_after_a_valid_stream_is_refused(coding, data, garbage):
    compressed = COMPRESS[coding](data)
    try:
        decoded = decode_all(coding, [compressed, garbage])
    except CorruptStream:
        return
    # Only another whole stream may follow one (clients send one per block).
    assert decode_all(coding, [garbage]) == decoded[len(data) :]


# -- the body parser -------------------------------------------------------------------------


def read_body(raw: bytes, framing: Framing, encoding: str = "") -> tuple[bytes, int]:
    rfile = io.BufferedReader(io.BytesIO(raw))
    body = Body(rfile, framing, encoding)
    data = b"".join(body.chunks())
    return data, rfile.tell()


@FAST
@given(raw=st.binary(max_size=2048), length=st.integers(0, 4096), chunked=st.booleans())
def test_any_body_bytes_parse_or_raise_the_servers_errors(raw, length, chunked):
    with contextlib.suppress(ProtocolError, ServerError):
        read_body(raw, Framing(chunked, length))


@FAST
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=300), max_size=8),
    extensions=st.booleans(),
    trailers=st.lists(st.sampled_from([b"X-Trailer: 1", b"Checksum: abc"]), max_size=3),
    after=st.binary(max_size=64),
)
def test_a_chunked_body_is_read_to_its_exact_end(chunks, extensions, trailers, after):
    framed = b"".join(
        b"%x%s\r\n%s\r\n" % (len(chunk), b";ext=1" if extensions else b"", chunk)
        for chunk in chunks
    )
    framed += b"0\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n"
    data, position = read_body(framed + after, Framing(True, 0))
    assert data == b"".join(chunks)
    assert position == len(framed)  # the next request starts exactly here


@FAST
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=100), min_size=1, max_size=5),
    position=st.integers(0, 10**6),
    replacement=st.sampled_from([b"z", b"\n", b" ", b"-", b";", b"\r", b"G"]),
)
def test_a_corrupted_chunked_body_is_refused_or_read_exactly(chunks, position, replacement):
    framed = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"
    data_positions = set()
    offset = 0
    for chunk in chunks:
        head = len(b"%x\r\n" % len(chunk))
        data_positions.update(range(offset + head, offset + head + len(chunk)))
        offset += head + len(chunk) + 2
    index = position % len(framed)
    mutated = framed[:index] + replacement + framed[index + 1 :]
    try:
        data, end = read_body(mutated, Framing(True, 0))
    except (ProtocolError, ServerError):
        return
    # Accepted: only a change inside chunk data (or one that keeps the frame) is.
    assert end <= len(mutated)
    assert index in data_positions or mutated == framed or data == b"".join(chunks)


@FAST
@given(coding=st.sampled_from(CODINGS), data=st.binary(max_size=3000), cut=st.integers(0, 10**6))
def test_a_compressed_body_in_a_frame_is_whole_or_refused(coding, data, cut):
    compressed = COMPRESS[coding](data)
    kept = compressed[: cut % (len(compressed) + 1)]
    try:
        decoded, _ = read_body(kept, Framing(False, len(kept)), coding)
    except ServerError as error:
        assert error.code == 271
        return
    assert kept in (compressed, b"") or decoded == data


# -- the server over sockets ----------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_table(secured):
    http = Http(secured)
    http.value("CREATE DATABASE IF NOT EXISTS sandbox")
    http.value("CREATE TABLE IF NOT EXISTS sandbox.fuzz (line String) ENGINE = Memory")
    yield
    assert http.value("SELECT 1") == "1"  # still serving after all of it


METHODS = [b"GET", b"POST", b"HEAD", b"OPTIONS", b"PUT", b"G E T", b""]
FRAMING_HEADERS = [
    b"Content-Length: 0",
    b"Content-Length: 5",
    b"Content-Length: -1",
    b"Content-Length: abc",
    b"Content-Length: 99999999999999999999",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: xchunked",
    b"Transfer-Encoding: gzip, chunked",
    b"Content-Encoding: gzip",
    b"Content-Encoding: br",
    b"Content-Encoding: nonsense",
    b"Content-Type: multipart/form-data; boundary=x",
    b"Expect: 100-continue",
    b"Origin: http://evil.example",
    b"Host: evil.example",
    b"X-ClickHouse-User: analyst",
]


@pytest.mark.usefixtures("fuzz_table")
@SLOW
@given(
    method=st.sampled_from(METHODS),
    target=st.sampled_from(
        [
            b"/",
            b"/?query=SELECT+1",
            b"/?query=INSERT+INTO+sandbox.fuzz+FORMAT+CSV",
            b"/ping",
            b"/%zz?x",
            b"*",
        ]
    ),
    headers=st.lists(st.sampled_from(FRAMING_HEADERS) | st.binary(max_size=40), max_size=5),
    body=st.binary(max_size=300)
    | st.sampled_from([b"0\r\n\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"zz\r\n"]),
)
def test_any_request_gets_an_answer_or_a_close_never_an_internal_error(
    secured, method, target, headers, body
):
    request = method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    request += b"".join(
        header.replace(b"\r", b"").replace(b"\n", b"") + b"\r\n" for header in headers
    )
    request += b"\r\n" + body
    received = raw_exchange(secured.port, request, timeout=30, half_close=True)
    for status in responses_in(received):
        assert status[9:12].isdigit(), received[:300]
    assert b"STD_EXCEPTION" not in received and b"Traceback" not in received, received[:1000]
    framing_errors = [i for i, s in enumerate(responses_in(received)) if b" 400 " in s]
    if framing_errors:
        # Nothing after a refused request: the connection ended there.
        assert framing_errors[0] == len(responses_in(received)) - 1, received[:2000]


@pytest.mark.usefixtures("fuzz_table")
def test_the_server_is_healthy_after_fuzzing(http_request):
    assert http_request.value("SELECT 1") == "1"


# -- the SQL checks ----------------------------------------------------------------------------


@SLOW
@given(text=st.text(max_size=200))
def test_a_statement_passed_as_a_parameter_comes_back_unchanged(http_request, text):
    reply = http_request(body=b"SELECT {q:String} FORMAT RawBLOB", param_q=escape_parameter(text))
    assert reply.status == 200, reply.text
    assert reply.body.decode() == text


@SLOW
@given(value=st.text(max_size=100))
def test_string_literals_in_the_engines_tree_read_back_exactly(http_request, value):
    reply = http_request(
        body=b"EXPLAIN AST SELECT {v:String} FORMAT TabSeparatedRaw",
        param_v=escape_parameter(value),
    )
    assert reply.status == 200, reply.text
    tree = parse_tree(reply.text)
    literals = [node for node, _ in tree.walk() if node.kind == "Literal"]
    assert len(literals) == 1
    assert unquote_literal(literals[0].text) in (value, None)  # None: refused, never misread


def test_quote_helpers_are_consistent():
    assert unquote_literal("'a\\nb\\'c\\\\'") == "a\nb'c\\"
    assert unquote_literal("'unterminated") is None
    assert unquote_literal("'two' 'literals'") is None
