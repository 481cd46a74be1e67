"""ClickHouse's HTTP interface as curl speaks it: queries, inserts, codings, headers, errors."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import uuid
from urllib.parse import urlencode

import pytest
from content_codings import COMPRESS, DECOMPRESS


def url(sql: str | None = None, **params: object) -> str:
    """``/?query=...&name=value`` with everything percent-encoded."""
    if sql is not None:
        params = {"query": sql, **params}
    return "/?" + urlencode({name: str(value) for name, value in params.items()})


def assert_error(reply, status: int, code: int) -> None:
    assert reply.status == status, reply.text
    assert reply.headers["x-clickhouse-exception-code"] == str(code)
    assert reply.text.startswith(f"Code: {code}. DB::Exception:"), reply.text


def make_table(curl, database: str, name: str = "items") -> str:
    table = f"{database}.{name}"
    reply = curl(
        "/",
        data=f"CREATE TABLE {table} (id UInt32, label String, score Nullable(Float64), "
        "tags Array(String)) ENGINE = MergeTree ORDER BY id".encode(),
    )
    assert reply.status == 200, reply.text
    return table


def table_tsv(curl, table: str) -> str:
    reply = curl(url(f"SELECT * FROM {table} ORDER BY id FORMAT TSV"))
    assert reply.status == 200, reply.text
    return reply.text


# -- health and plain queries ---------------------------------------------------------


def test_ping_and_root(curl):
    for path in ("/ping", "/"):
        reply = curl(path)
        assert (reply.status, reply.body) == (200, b"Ok.\n")


def test_unknown_handler_is_404(curl):
    assert curl("/no/such/handler").status == 404


def test_get_query(curl):
    reply = curl(url("SELECT 1"))
    assert (reply.status, reply.body) == (200, b"1\n")
    assert reply.headers["x-clickhouse-format"] == "TabSeparated"
    assert reply.headers["content-type"].startswith("text/tab-separated-values")


def test_post_body_query(curl):
    reply = curl("/", data=b"SELECT number * 2 FROM numbers(3)")
    assert (reply.status, reply.body) == (200, b"0\n2\n4\n")


def test_query_parameter_followed_by_body(curl):
    # ClickHouse joins the parameter and the body into one query.
    reply = curl(url("SELECT number FROM numbers(5) WHERE"), data=b"number > 2")
    assert reply.body == b"3\n4\n"


def test_multi_statements_are_rejected(curl):
    assert_error(curl("/", data=b"SELECT 1; SELECT 2"), 400, 62)


def test_empty_query_is_a_syntax_error(curl):
    assert_error(curl("/", method="POST"), 400, 62)


# -- inserts --------------------------------------------------------------------------


def test_insert_csv_body_with_query_parameter(curl, database):
    table = make_table(curl, database)
    reply = curl(
        url(f"INSERT INTO {table} FORMAT CSV"),
        data=b'1,"a",0.5,"[\'x\']"\n2,"it\'s ""b""",\\N,"[]"\n',
    )
    assert reply.status == 200, reply.text
    assert reply.body == b""
    summary = json.loads(reply.headers["x-clickhouse-summary"])
    assert summary["written_rows"] == "2"
    assert table_tsv(curl, table) == "1\ta\t0.5\t['x']\n2\tit\\'s \"b\"\t\\N\t[]\n"


def test_insert_with_inline_data_in_the_body(curl, database):
    table = make_table(curl, database)
    json_body = (
        f"INSERT INTO {table} FORMAT JSONEachRow\n"
        '{"id": 1, "label": "课堂", "score": 1.5, "tags": ["a"]}\n'
        '{"id": 2, "label": "b", "score": null, "tags": []}\n'
    )
    reply = curl("/", data=json_body.encode())
    assert reply.status == 200, reply.text
    assert json.loads(reply.headers["x-clickhouse-summary"])["written_rows"] == "2"
    reply = curl(
        "/",
        data=f"INSERT INTO {table} VALUES (3, 'c', 2.5, ['x', 'y']), (4, 'd', NULL, [])".encode(),
    )
    assert reply.status == 200, reply.text
    assert json.loads(reply.headers["x-clickhouse-summary"])["written_rows"] == "2"
    assert table_tsv(curl, table) == (
        "1\t课堂\t1.5\t['a']\n2\tb\t\\N\t[]\n3\tc\t2.5\t['x','y']\n4\td\t\\N\t[]\n"
    )


def test_insert_values_from_query_parameter_and_body(curl, database):
    table = make_table(curl, database)
    reply = curl(url(f"INSERT INTO {table} VALUES"), data=b"(1, 'a', 1, []), (2, 'b', 2, ['z'])")
    assert reply.status == 200, reply.text
    assert table_tsv(curl, table) == "1\ta\t1\t[]\n2\tb\t2\t['z']\n"


def test_insert_format_data_right_after_the_format_name(curl, database):
    # ClickHouse skips spaces, then one optional CR LF / LF; everything after is data.
    table = make_table(curl, database)
    body = f"INSERT INTO {table} FORMAT TSV   \r\n1\ta\t\\N\t[]\n".encode()
    reply = curl("/", data=body)
    assert reply.status == 200, reply.text
    assert table_tsv(curl, table) == "1\ta\t\\N\t[]\n"


def test_chunked_body(curl, database):
    table = make_table(curl, database)
    rows = "".join(f"{i},label {i},{i / 2},\"['t{i}']\"\n" for i in range(20000)).encode()
    reply = curl(
        url(f"INSERT INTO {table} FORMAT CSV"), "-H", "Transfer-Encoding: chunked", data=rows
    )
    assert reply.status == 200, reply.text
    assert json.loads(reply.headers["x-clickhouse-summary"])["written_rows"] == "20000"
    reply = curl(url(f"SELECT count(), sum(id), sum(length(tags)) FROM {table}"))
    assert reply.text == f"20000\t{sum(range(20000))}\t20000\n"


def test_large_chunked_insert_streams(curl, database):
    table = make_table(curl, database)
    payload = curl(
        url(
            "SELECT number AS id, toString(number) AS label, number / 3 AS score, "
            "[toString(number % 10)] AS tags FROM numbers(1000000) FORMAT TSV"
        )
    ).body
    reply = curl(
        url(f"INSERT INTO {table} FORMAT TSV"), "-H", "Transfer-Encoding: chunked", data=payload
    )
    assert reply.status == 200, reply.text
    assert json.loads(reply.headers["x-clickhouse-summary"])["written_rows"] == "1000000"
    assert curl(url(f"SELECT count(), sum(id) FROM {table}")).text == (
        f"1000000\t{sum(range(1000000))}\n"
    )


def test_insert_select_from_input_is_refused_clearly_not_dropped(curl, database):
    # chDB cannot stream a body into input(): the server says so instead of losing it.
    table = make_table(curl, database)
    sql = (
        f"INSERT INTO {table} SELECT id * 10, upper(label), NULL, [] "
        "FROM input('id UInt32, label String') FORMAT CSV"
    )
    reply = curl(url(sql), data=b"1,a\n2,b\n")
    assert_error(reply, 501, 48)
    assert "staging table" in reply.text
    assert table_tsv(curl, table) == ""


@pytest.mark.parametrize("coding", sorted(COMPRESS))
def test_compressed_request_body(curl, database, coding):
    table = make_table(curl, database)
    rows = "".join(f'{i},"row {i}",{i},"[]"\n' for i in range(5000)).encode()
    reply = curl(
        url(f"INSERT INTO {table} FORMAT CSV"),
        "-H",
        f"Content-Encoding: {coding}",
        data=COMPRESS[coding](rows),
    )
    assert reply.status == 200, reply.text
    assert curl(url(f"SELECT count(), sum(id) FROM {table}")).text == f"5000\t{sum(range(5000))}\n"


def test_gzip_body_of_several_members_and_a_query(curl, database):
    table = make_table(curl, database)
    body = gzip.compress(f"INSERT INTO {table} FORMAT CSV\n1,a,1,[]\n".encode()) + gzip.compress(
        b"2,b,2,[]\n"
    )
    reply = curl("/", "-H", "Content-Encoding: gzip", data=body)
    assert reply.status == 200, reply.text
    assert table_tsv(curl, table) == "1\ta\t1\t[]\n2\tb\t2\t[]\n"
    reply = curl("/", "-H", "Content-Encoding: gzip", data=gzip.compress(b"SELECT 40 + 2"))
    assert reply.body == b"42\n"


def test_unknown_content_encoding_is_an_error(curl):
    reply = curl("/", "-H", "Content-Encoding: snappy-ish", data=b"SELECT 1")
    assert reply.status >= 400
    assert reply.text.startswith("Code: ")


@pytest.mark.parametrize("coding", sorted(DECOMPRESS))
def test_compressed_response(curl, coding):
    expected = "".join(f"{i}\n" for i in range(100000)).encode()
    for fmt in ("TSV", "JSON"):  # a streamed and a whole result
        reply = curl(
            url(f"SELECT number FROM numbers(100000) FORMAT {fmt}", enable_http_compression=1),
            "-H",
            f"Accept-Encoding: {coding}",
        )
        assert reply.status == 200
        assert reply.headers["content-encoding"] == coding
        data = DECOMPRESS[coding](reply.body)
        if fmt == "TSV":
            assert data == expected
        else:
            assert json.loads(data)["rows"] == 100000


def test_response_is_plain_without_enable_http_compression(curl):
    reply = curl(url("SELECT 1"), "-H", "Accept-Encoding: gzip")
    assert "content-encoding" not in reply.headers
    assert reply.body == b"1\n"


def test_compressed_error_response_is_still_readable(curl):
    reply = curl(
        url("SELECT * FROM no_such_table", enable_http_compression=1),
        "-H",
        "Accept-Encoding: gzip",
    )
    body = (
        gzip.decompress(reply.body)
        if reply.headers.get("content-encoding") == "gzip"
        else reply.body
    )
    assert reply.status == 404
    assert body.startswith(b"Code: 60. DB::Exception:")


# -- formats, databases, parameters ---------------------------------------------------


def test_default_format_and_format_clause(curl):
    reply = curl(url("SELECT 1 AS x, 'a' AS s", default_format="JSONEachRow"))
    assert reply.body == b'{"x":1,"s":"a"}\n'
    assert reply.headers["x-clickhouse-format"] == "JSONEachRow"
    assert reply.headers["content-type"].startswith("application/json")
    reply = curl(url("SELECT 1 AS x FORMAT CSVWithNames", default_format="JSONEachRow"))
    assert reply.body == b'"x"\n1\n'
    assert reply.headers["x-clickhouse-format"] == "CSVWithNames"
    # FORMAT inside a string, a comment or a function is not a clause.
    reply = curl("/", data=b"SELECT 'FORMAT JSON' AS s, format('{}', 'x') AS f -- FORMAT CSV")
    assert reply.body == b"FORMAT JSON\tx\n"
    assert reply.headers["x-clickhouse-format"] == "TabSeparated"


def test_x_clickhouse_format_request_header_sets_the_default_format(curl):
    reply = curl(url("SELECT 1 AS x"), "-H", "X-ClickHouse-Format: JSONEachRow")
    assert reply.body == b'{"x":1}\n'


def test_database_parameter_and_header(curl, database):
    make_table(curl, database)
    assert curl(url("SELECT currentDatabase(), count() FROM items", database=database)).text == (
        f"{database}\t0\n"
    )
    reply = curl(url("SELECT currentDatabase()"), "-H", f"X-ClickHouse-Database: {database}")
    assert reply.text == f"{database}\n"
    assert_error(curl(url("SELECT 1", database="no_such_database")), 404, 81)


def test_server_side_parameters_from_the_url(curl):
    reply = curl(
        url(
            "SELECT {x:UInt32} + 1, {s:String}, {a:Array(UInt8)}",
            param_x=41,
            param_s="it's",
            param_a="[1,2]",
        )
    )
    assert reply.text == "42\tit\\'s\t[1,2]\n"
    assert_error(curl(url("SELECT {x:UInt32}", param_x="not a number")), 500, 457)


def test_settings_from_the_url_apply_to_the_query(curl):
    assert curl(url("SELECT getSetting('max_block_size')", max_block_size=777)).text == "777\n"
    assert curl(url("SELECT getSetting('max_block_size')")).text != "777\n"
    reply = curl(
        url("SELECT number FROM numbers(10)", max_result_rows=5, result_overflow_mode="throw")
    )
    assert reply.headers["x-clickhouse-exception-code"] == "396"


def test_url_settings_apply_to_inserts(curl, database):
    table = make_table(curl, database)
    row = b'{"id": 1, "label": "a", "score": 1, "tags": [], "extra": 5}\n'
    reply = curl(
        url(f"INSERT INTO {table} FORMAT JSONEachRow", input_format_skip_unknown_fields=0), data=row
    )
    assert_error(reply, 400, 117)
    reply = curl(
        url(f"INSERT INTO {table} FORMAT JSONEachRow", input_format_skip_unknown_fields=1), data=row
    )
    assert reply.status == 200, reply.text
    assert table_tsv(curl, table) == "1\ta\t1\t[]\n"


def test_unknown_url_setting_is_rejected(curl):
    assert_error(curl(url("SELECT 1", no_such_setting=1)), 404, 115)


# -- users ----------------------------------------------------------------------------


def test_user_from_headers_basic_auth_and_url(curl, analyst_password):
    as_headers = curl(
        url("SELECT getSetting('readonly')"),
        "-H",
        "X-ClickHouse-User: analyst",
        "-H",
        f"X-ClickHouse-Key: {analyst_password}",
    )
    assert (as_headers.status, as_headers.text) == (200, "1\n")
    as_basic = curl(url("SELECT getSetting('readonly')"), "--user", f"analyst:{analyst_password}")
    assert (as_basic.status, as_basic.text) == (200, "1\n")
    token = base64.b64encode(f"analyst:{analyst_password}".encode()).decode()
    as_header = curl(url("SELECT 1"), "-H", f"Authorization: Basic {token}")
    assert as_header.status == 200
    as_params = curl(
        url("SELECT getSetting('readonly')", user="analyst", password=analyst_password)
    )
    assert (as_params.status, as_params.text) == (200, "1\n")
    writer = curl("/", "-H", "X-ClickHouse-User: default", data=b"SELECT getSetting('readonly')")
    assert (writer.status, writer.text) == (200, "0\n")


@pytest.mark.parametrize(
    "options",
    [
        ("--user", "analyst:wrong"),
        ("-H", "X-ClickHouse-User: analyst", "-H", "X-ClickHouse-Key: wrong"),
        ("-H", "X-ClickHouse-User: nobody"),
        ("--user", "default:not-the-password"),
    ],
)
def test_wrong_credentials_are_403(curl, options):
    assert_error(curl(url("SELECT 1"), *options), 403, 516)


# -- errors and headers ---------------------------------------------------------------


def test_error_statuses_codes_and_bodies(curl):
    assert_error(curl(url("SELECT * FROM default.no_such_table")), 404, 60)
    assert_error(curl(url("SELEC 1")), 400, 62)
    assert_error(curl(url("SELECT no_such_function()")), 404, 46)
    assert_error(curl(url("SELECT 1", default_format="NoSuchFormat")), 404, 73)
    reply = curl(url("SELECT * FROM default.no_such_table"))
    assert "(UNKNOWN_TABLE)" in reply.text
    assert reply.headers["x-clickhouse-query-id"]


def test_get_is_read_only(curl, database):
    assert_error(curl(url(f"CREATE TABLE {database}.by_get (x UInt8) ENGINE = Memory")), 500, 164)
    make_table(curl, database)
    assert_error(curl(url(f"INSERT INTO {database}.items (id) VALUES (1)")), 500, 164)
    # ...but GET may still change settings for its own query (readonly=2).
    assert curl(url("SELECT getSetting('max_threads')", max_threads=1)).text == "1\n"
    assert curl(url("SHOW DATABASES")).status == 200
    assert curl(url(f"SELECT count() FROM {database}.items")).text == "0\n"


def test_response_headers(curl, database):
    query_id = "http-test-" + uuid.uuid4().hex
    reply = curl(url("SELECT number FROM numbers(3)", query_id=query_id))
    assert reply.headers["x-clickhouse-query-id"] == query_id
    assert reply.headers["x-clickhouse-format"] == "TabSeparated"
    assert reply.headers["x-clickhouse-timezone"]
    assert reply.headers["x-clickhouse-server-display-name"]
    summary = json.loads(reply.headers["x-clickhouse-summary"])
    assert {"read_rows", "written_rows", "elapsed_ns"} <= set(summary)
    timezone = curl(url("SELECT timezone()")).text.strip()
    assert reply.headers["x-clickhouse-timezone"] == timezone

    table = make_table(curl, database)
    reply = curl(
        url(f"INSERT INTO {table} FORMAT TSV", query_id=query_id + "-insert"),
        data=b"1\ta\t\\N\t[]\n",
    )
    assert reply.headers["x-clickhouse-query-id"] == query_id + "-insert"
    summary = json.loads(reply.headers["x-clickhouse-summary"])
    assert summary["written_rows"] == "1"
    assert int(summary["written_bytes"]) > 0
    # A statement with no result set answers without X-ClickHouse-Format (clients tell a
    # command's summary from an empty result by it).
    assert "x-clickhouse-format" not in reply.headers
    reply = curl("/", data=f"CREATE TABLE {database}.other (x UInt8) ENGINE = Memory".encode())
    assert reply.status == 200
    assert "x-clickhouse-format" not in reply.headers
    reply = curl("/", data=f"INSERT INTO {database}.other SELECT number FROM numbers(5)".encode())
    assert json.loads(reply.headers["x-clickhouse-summary"])["written_rows"] == "5"


def test_error_after_the_response_started_is_tagged(curl):
    reply = curl(
        url("SELECT throwIf(number = 1500000) FROM numbers(3000000)", max_block_size=10000)
    )
    assert reply.status == 200  # the head went out before the error
    tag = reply.headers["x-clickhouse-exception-tag"]
    assert reply.body.startswith(b"0\n")
    tail = reply.body[-2000:].decode()
    assert f"__exception__\r\n{tag}\r\n" in tail
    assert "Code: 395. DB::Exception:" in tail
    assert tail.endswith(f" {tag}\r\n__exception__\r\n")


def test_wait_end_of_query_turns_late_errors_into_statuses(curl):
    reply = curl(
        url(
            "SELECT throwIf(number = 1500000) FROM numbers(3000000)",
            max_block_size=10000,
            wait_end_of_query=1,
        )
    )
    assert_error(reply, 500, 395)


# -- formats through the body ---------------------------------------------------------

ROUND_TRIP_FORMATS = [
    "Parquet",
    "Arrow",
    "ArrowStream",
    "ORC",
    "Avro",
    "RowBinary",
    "RowBinaryWithNamesAndTypes",
    "Native",
    "TSV",
    "TSVWithNames",
    "CSV",
    "CSVWithNames",
    "JSONEachRow",
    "JSONCompactEachRow",
    "Values",
]


@pytest.mark.parametrize("fmt", ROUND_TRIP_FORMATS)
def test_insert_formats_through_the_body(curl, database, fmt):
    source = make_table(curl, database, "source")
    target = make_table(curl, database, "target")
    curl(
        "/",
        data=f"INSERT INTO {source} SELECT number, concat('v', toString(number), ' it''s 课堂'), "
        f"if(number % 3 = 0, NULL, number / 7), arrayMap(x -> toString(x), range(number % 4)) "
        f"FROM numbers(2000)".encode(),
    )
    payload = curl(url(f"SELECT * FROM {source} ORDER BY id FORMAT {fmt}")).body
    assert payload
    reply = curl(url(f"INSERT INTO {target} FORMAT {fmt}"), data=payload)
    assert reply.status == 200, reply.text
    assert json.loads(reply.headers["x-clickhouse-summary"])["written_rows"] == "2000"
    assert table_tsv(curl, target) == table_tsv(curl, source)


def test_external_table_from_a_multipart_body(curl):
    boundary = "classpulse" + uuid.uuid4().hex
    form = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="lookup"; filename="lookup"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
        "1\tone\n2\ttwo\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    reply = curl(
        url(
            "SELECT count(), sum(id), groupArray(name) FROM lookup",
            lookup_structure="id UInt32, name String",
        ),
        "-H",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        data=form,
    )
    assert reply.status == 200, reply.text
    assert reply.text == "2\t3\t['one','two']\n"


# -- sessions over HTTP ---------------------------------------------------------------


def test_session_keeps_settings_and_temporary_tables(curl):
    session = "s-" + uuid.uuid4().hex
    assert curl(url("SET max_block_size = 1111", session_id=session), method="POST").status == 200
    assert (
        curl(url("CREATE TEMPORARY TABLE tmp (x UInt8)", session_id=session), method="POST").status
        == 200
    )
    assert (
        curl(url(None, session_id=session), data=b"INSERT INTO tmp VALUES (1), (2)").status == 200
    )
    assert (
        curl(url("SELECT getSetting('max_block_size'), sum(x) FROM tmp", session_id=session)).text
        == "1111\t3\n"
    )
    # a URL setting is for one query; then the session's own value is back
    assert (
        curl(url("SELECT getSetting('max_block_size')", session_id=session, max_block_size=5)).text
        == "5\n"
    )
    assert curl(url("SELECT getSetting('max_block_size')", session_id=session)).text == "1111\n"
    # another session sees neither
    assert_error(curl(url("SELECT * FROM tmp", session_id=session + "-other")), 404, 60)
    # close_session ends it
    assert curl(url("SELECT 1", session_id=session, close_session=1)).status == 200
    assert_error(curl(url("SELECT 1", session_id=session, session_check=1)), 500, 372)


def test_use_in_a_session_sticks_and_database_applies_per_request(curl, database):
    session = "use-" + uuid.uuid4().hex
    make_table(curl, database)
    assert curl(url(None, session_id=session), data=f"USE {database}".encode()).status == 200
    assert curl(url("SELECT currentDatabase(), count() FROM items", session_id=session)).text == (
        f"{database}\t0\n"
    )
    assert curl(url("SELECT currentDatabase()", session_id=session, database="system")).text == (
        "system\n"
    )
    assert curl(url("SELECT currentDatabase()", session_id=session)).text == f"{database}\n"


def test_session_check_on_a_missing_session(curl):
    assert_error(
        curl(url("SELECT 1", session_id="never-" + uuid.uuid4().hex, session_check=1)), 500, 372
    )


def test_session_times_out(curl):
    session = "short-" + uuid.uuid4().hex
    assert curl(url("SELECT 1", session_id=session, session_timeout=1)).status == 200
    assert curl(url("SELECT 1", session_id=session, session_check=1)).status == 200
    time.sleep(2.5)
    assert_error(curl(url("SELECT 1", session_id=session, session_check=1)), 500, 372)


def test_a_session_serves_one_query_at_a_time(curl):
    session = "busy-" + uuid.uuid4().hex
    results = {}

    def slow() -> None:
        results["slow"] = curl(url("SELECT sleep(2)", session_id=session))

    worker = threading.Thread(target=slow)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            running = curl(
                url("SELECT count() FROM system.processes WHERE query LIKE 'SELECT sleep(2)%'")
            )
            if running.text.strip() not in ("", "0"):
                break
            time.sleep(0.05)
        assert_error(curl(url("SELECT 1", session_id=session)), 500, 373)
    finally:
        worker.join()
    assert results["slow"].status == 200
    assert curl(url("SELECT 1", session_id=session)).text == "1\n"
