"""Issue 9, items 1-3, 10 and 11: what SQL may reach, through real HTTP requests.

1. file functions are confined to user_files (none for the analyst);
2. INTO OUTFILE (and FROM INFILE) is refused for every user, over POST and GET;
3. the analyst sees and cancels only the analyst's own queries;
10. the analyst reads only the configured databases;
11. the analyst's limits, and queries cancelled when their client disconnects.

Each refusal is checked for what did not happen: nothing read (the file's content is not
in the answer), nothing written, nothing cancelled, nothing stored.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from urllib.parse import urlencode

import pytest
from security_support import (
    ANALYST_MAX_EXECUTION_TIME,
    ANALYST_MAX_MEMORY_USAGE,
    ANALYST_MAX_RESULT_ROWS,
    ANALYST_PASSWORD,
    Http,
    wait_until,
)

SECRET = "s3cret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def outside_file(secured) -> str:
    """A file outside user_files whose content must never reach a client."""
    path = secured.scratch / "private.txt"
    path.write_text(SECRET + "\n")
    return str(path)


@pytest.fixture(scope="module")
def inside_file(secured) -> str:
    """A file inside user_files, which the pipeline user may read."""
    secured.user_files.mkdir(parents=True, exist_ok=True)
    path = secured.user_files / "inside.csv"
    path.write_text("1\n2\n3\n")
    return "inside.csv"


def assert_refused(reply, code: str, *, secret: str = SECRET) -> None:
    assert reply.status >= 400, reply.text
    assert reply.code == code, reply.text
    assert secret not in reply.text


# -- 1. file functions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT file({path})",
        "SELECT * FROM file({path}, 'LineAsString')",
        "SELECT * FROM file({path}, 'LineAsString', 'line String')",
        "SELECT * FROM fileCluster('default', {path}, 'LineAsString')",
        "SELECT length(file({path})) AS n",
        "WITH (SELECT file({path})) AS f SELECT f",
        "SELECT * FROM (SELECT * FROM file({path}, 'RawBLOB'))",
    ],
)
@pytest.mark.parametrize("user", ["default", "analyst"])
def test_file_functions_cannot_read_outside_user_files(http_request, outside_file, query, user):
    sql = query.format(path="'" + outside_file + "'")
    reply = http_request(
        body=sql.encode(), user=user, password=ANALYST_PASSWORD if user == "analyst" else ""
    )
    assert_refused(reply, "497")


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "/proc/self/environ",
        "../outside/private.txt",
        "../../../../../../etc/passwd",
        "inside/../../outside/private.txt",
        "{inside.csv,../outside/private.txt}",
        "../outside/*",
    ],
)
def test_paths_that_leave_user_files_are_refused_for_the_pipeline_user(http_request, path):
    reply = http_request(body=f"SELECT * FROM file('{path}', 'RawBLOB')".encode())
    assert_refused(reply, "497")
    assert "root:" not in reply.text and "CLASSPULSE" not in reply.text


def test_a_path_in_a_query_parameter_is_checked_after_substitution(http_request, outside_file):
    reply = http_request(body=b"SELECT file({p:String})", param_p=outside_file)
    assert_refused(reply, "497")


def test_the_engines_own_metadata_is_out_of_reach(http_request, secured):
    metadata = secured.settings.warehouse_path / "metadata"
    reply = http_request(body=f"SELECT * FROM file('{metadata}/*.sql', 'RawBLOB')".encode())
    assert_refused(reply, "497")
    assert "ATTACH" not in reply.text


def test_a_symlink_inside_user_files_does_not_lead_out(http_request, secured, outside_file):
    link = secured.user_files / f"link-{uuid.uuid4().hex}.txt"
    secured.user_files.mkdir(parents=True, exist_ok=True)
    os.symlink(outside_file, link)
    reply = http_request(body=f"SELECT file('{link.name}')".encode())
    assert_refused(reply, "497")


def test_file_engine_tables_outside_user_files_are_refused(http_request, outside_file, table):
    name = table + "_file"
    reply = http_request(
        body=f"CREATE TABLE {name} (line String) ENGINE = File(LineAsString, '{outside_file}')".encode()
    )
    assert_refused(reply, "497")
    assert http_request.value(f"EXISTS TABLE {name}") == "0"


def test_dictionary_file_sources_outside_user_files_are_refused(http_request, outside_file):
    name = "sandbox.d_" + uuid.uuid4().hex[:8]
    reply = http_request(
        body=(
            f"CREATE DICTIONARY {name} (line String) PRIMARY KEY line "
            f"SOURCE(FILE(path '{outside_file}' format 'LineAsString')) LAYOUT(HASHED()) LIFETIME(0)"
        ).encode()
    )
    assert_refused(reply, "497")
    assert http_request.value(f"EXISTS DICTIONARY {name}") == "0"


READ_IT = "file('{path}')"  # in SQL text: quotes doubled where it sits in a string


@pytest.mark.parametrize(
    "query, params",
    [
        (
            "CREATE DICTIONARY sandbox.by_query (line String) PRIMARY KEY line SOURCE(CLICKHOUSE("
            "QUERY 'SELECT {read} AS line')) LAYOUT(HASHED()) LIFETIME(0)",
            {},
        ),
        ("SELECT * FROM system.one SETTINGS additional_result_filter = 'length({read}) > 0'", {}),
        (
            "SELECT * FROM system.one",
            {"additional_table_filters": "{{'system.one': 'length({read}) > 0'}}"},
        ),
        ("SELECT * FROM system.one", {"additional_result_filter": "length({read}) > 0"}),
    ],
)
def test_sql_hidden_in_strings_and_settings_is_refused(http_request, outside_file, query, params):
    inner = READ_IT.format(path=outside_file).replace("'", "''")
    outer = READ_IT.format(path=outside_file)
    params = {
        name: value.format(read=inner if name == "additional_table_filters" else outer)
        for name, value in params.items()
    }
    reply = http_request(body=query.format(read=inner).encode(), **params)
    assert_refused(reply, "497")
    assert http_request.value("EXISTS DICTIONARY sandbox.by_query") == "0"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM executable('id', 'TSV', 'x String')",
        "SELECT * FROM python('x')",
        "SELECT * FROM sqlite('/etc/passwd', 't')",
        "BACKUP DATABASE sandbox TO File('/tmp/classpulse-backup')",
        "ATTACH TABLE sandbox.stolen FROM '/etc' (x String) ENGINE = MergeTree ORDER BY x",
    ],
)
def test_programs_backups_and_attach_are_out_of_reach(http_request, query):
    reply = http_request(body=query.encode())
    assert_refused(reply, "497")


def test_the_pipeline_user_reads_and_writes_inside_user_files(http_request, inside_file, secured):
    assert http_request.value(f"SELECT sum(x) FROM file('{inside_file}', 'CSV', 'x Int64')") == "6"
    absolute = secured.user_files / inside_file
    assert http_request.value(f"SELECT count() FROM file('{absolute}', 'CSV', 'x Int64')") == "3"
    written = f"out-{uuid.uuid4().hex}.csv"
    http_request.value(f"INSERT INTO FUNCTION file('{written}', 'CSV', 'x Int64') VALUES (7)")
    assert (secured.user_files / written).read_text() == "7\n"


def test_the_analyst_has_no_file_access_even_inside_user_files(http_request, inside_file):
    reply = http_request.analyst(
        body=f"SELECT * FROM file('{inside_file}', 'CSV', 'x Int64')".encode()
    )
    assert_refused(reply, "497")
    assert "6" not in reply.text.split("DB::Exception")[0]


# -- 2. INTO OUTFILE / FROM INFILE ----------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("user", ["default", "analyst"])
@pytest.mark.parametrize(
    "clause",
    ["INTO OUTFILE {path}", "INTO OUTFILE {path} APPEND", "INTO OUTFILE {path} TRUNCATE"],
)
def test_into_outfile_is_refused_and_writes_nothing(http_request, secured, method, user, clause):
    target = secured.scratch / f"written-{uuid.uuid4().hex}"
    target.write_text("original\n")
    sql = f"SELECT 'overwritten' {clause.format(path=repr(str(target)))}"
    password = ANALYST_PASSWORD if user == "analyst" else ""
    if method == "GET":
        reply = http_request(sql, user=user, password=password)
    else:
        reply = http_request(body=sql.encode(), user=user, password=password)
    assert_refused(reply, "358")
    assert target.read_text() == "original\n"


@pytest.mark.parametrize(
    "query",
    [
        "SHOW TABLES INTO OUTFILE {path}",
        "DESCRIBE TABLE system.one INTO OUTFILE {path}",
        "EXPLAIN SELECT 1 INTO OUTFILE {path}",
        "SELECT 1 UNION ALL SELECT 2 INTO OUTFILE {path}",
        "CREATE TABLE IF NOT EXISTS sandbox.outfile_probe (x Int8) ENGINE = Memory INTO OUTFILE {path}",
        "DROP TABLE IF EXISTS sandbox.no_such_table INTO OUTFILE {path}",
        # however it is written: the engine's syntax tree decides
        "SELECT 1 /* INTO */ INTO /* c */ OUTFILE {path}",
        "SELECT 1 INTO -- c\n OUTFILE {path}",
        "select 1 into outfile {path}",
        "SeLeCt 1 InTo OuTfIlE {path} AppEnD",
        "SELECT * FROM (SELECT 1 AS `into`) INTO OUTFILE {path}",
        "SELECT (SELECT 'INTO OUTFILE') INTO OUTFILE {path}",
        "EXPLAIN AST SELECT 1 INTO OUTFILE {path}",
        "EXPLAIN SYNTAX SELECT * FROM (SELECT 1) INTO OUTFILE {path}",
        "WITH a AS (SELECT 1) SELECT * FROM a INTO OUTFILE {path}",
        # statements the engine has no JSON tree of: its lexer's words decide
        "EXISTS TABLE system.one INTO /* c */ OUTFILE {path}",
        "SHOW CREATE TABLE system.one into outfile {path}",
    ],
)
def test_into_outfile_is_refused_on_every_kind_of_statement(http_request, secured, query):
    target = secured.scratch / f"created-{uuid.uuid4().hex}"
    reply = http_request(body=query.format(path=repr(str(target))).encode())
    assert_refused(reply, "358")
    assert not target.exists()


def test_insert_from_infile_is_refused_and_stores_nothing(http_request, outside_file, table):
    reply = http_request(
        body=f"INSERT INTO {table} FROM INFILE '{outside_file}' FORMAT CSV".encode()
    )
    assert_refused(reply, "497")
    assert http_request.value(f"SELECT count() FROM {table}") == "0"


# The engine's syntax tree decides, not the words: comments, case, nesting and quoting
# neither hide a clause nor invent one.
@pytest.mark.parametrize(
    "query, expected",
    [
        ("SELECT 'INTO OUTFILE /tmp/x' AS w", "INTO OUTFILE /tmp/x"),
        ("SELECT 1 AS `INTO OUTFILE`", "1"),
        ("SELECT 'x' AS `into`, 'y' AS outfile", "x\ty"),
        ("SELECT 'FROM INFILE' /* INTO OUTFILE 'a' */", "FROM INFILE"),
        (
            "SELECT 'additional_result_filter' AS additional_table_filters",
            "additional_result_filter",
        ),
        ("SELECT 2 SETTINGS max_threads = 1", "2"),
        ("EXISTS TABLE system.one /* INTO OUTFILE 'x' */", "1"),
    ],
)
def test_the_words_in_strings_names_and_comments_are_not_clauses(http_request, query, expected):
    assert http_request.value(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM system.one SETTINGS `additional_result_filter` = 'length({read}) > 0'",
        "SELECT * FROM system.one SETTINGS max_threads = 1, /* c */ additional_result_filter"
        " = 'length({read}) > 0'",
        "SELECT * FROM (SELECT * FROM system.one SETTINGS additional_result_filter ="
        " 'length({read}) > 0')",
        "WITH a AS (SELECT * FROM system.one SETTINGS additional_result_filter ="
        " 'length({read}) > 0') SELECT * FROM a",
        "SELECT * FROM system.one WHERE dummy IN (SELECT 0 SETTINGS additional_result_filter ="
        " 'length({read}) > 0')",
        "SET additional_result_filter = 'length({read}) > 0'",
        "EXPLAIN SELECT * FROM system.one SETTINGS additional_result_filter = 'length({read}) > 0'",
    ],
)
def test_expression_settings_are_found_wherever_they_sit(http_request, outside_file, query):
    read = READ_IT.format(path=outside_file).replace("'", "''")
    reply = http_request(body=query.format(read=read).encode())
    assert_refused(reply, "497")


@pytest.mark.parametrize(
    "clause",
    ["from infile {path}", "FROM /* c */ INFILE {path}", "FROM -- c\n INFILE {path}"],
)
def test_from_infile_is_found_however_it_is_written(http_request, outside_file, table, clause):
    query = f"INSERT INTO {table} {clause.format(path=repr(outside_file))} FORMAT CSV"
    reply = http_request(body=query.encode())
    assert_refused(reply, "497")
    assert http_request.value(f"SELECT count() FROM {table}") == "0"


# -- 10. the analyst's databases ----------------------------------------------------------


@pytest.fixture(scope="module")
def personal_data(secured) -> str:
    """A raw table with personal data (ods), and the marts the analyst may read."""
    http = Http(secured)
    for database in ("ods", "ads", "rt"):
        http.value(f"CREATE DATABASE IF NOT EXISTS {database}")
    http.value(
        "CREATE TABLE IF NOT EXISTS ods.students (name String) ENGINE = MergeTree ORDER BY name"
    )
    http.value(f"INSERT INTO ods.students VALUES ('{SECRET}')")
    http.value("CREATE TABLE IF NOT EXISTS ads.daily (n Int64) ENGINE = MergeTree ORDER BY n")
    http.value("INSERT INTO ads.daily VALUES (41)")
    http.value("CREATE TABLE IF NOT EXISTS rt.daily (n Int64) ENGINE = MergeTree ORDER BY n")
    http.value("INSERT INTO rt.daily VALUES (42)")
    return "ods.students"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM ods.students",
        "SELECT * FROM (SELECT * FROM ods.students)",
        "SELECT * FROM ads.daily WHERE toString(n) IN (SELECT name FROM ods.students)",
        "SELECT 1 FROM system.one WHERE 'x' IN ods.students",
        "SELECT * FROM view(SELECT * FROM ods.students)",
        "SELECT * FROM merge('ods', '.*')",
        "SELECT * FROM remote('127.0.0.1', ods.students)",
        "SELECT * FROM ads.daily AS a JOIN ods.students AS s ON 1 = 1",
        "DESCRIBE TABLE ods.students",
        "SHOW CREATE TABLE ods.students",
        "SHOW TABLES FROM ods",
        "EXISTS TABLE ods.students",
        "USE ods",
        "SELECT * FROM system.query_log",
        "SELECT dictGet('ods.dictionary', 'name', 1)",
        "SELECT joinGet('ods.students', 'name', 1)",
    ],
)
def test_the_analyst_cannot_read_outside_the_analyst_databases(http_request, personal_data, query):
    reply = http_request.analyst(body=query.encode())
    assert_refused(reply, "497")


def test_identifier_parameters_are_checked_after_substitution(http_request, personal_data):
    reply = http_request.analyst(body=b"SELECT * FROM {t:Identifier}", param_t=personal_data)
    assert_refused(reply, "497")


def test_the_database_parameter_cannot_leave_the_analyst_databases(http_request, personal_data):
    reply = http_request.analyst(body=b"SELECT * FROM students", database="ods")
    assert_refused(reply, "497")
    reply = http_request.analyst(
        body=b"SELECT * FROM students", headers={"X-ClickHouse-Database": "ods"}
    )
    assert_refused(reply, "497")


def test_a_session_cannot_use_its_way_out(http_request, personal_data):
    session = "analyst-" + uuid.uuid4().hex
    assert_refused(http_request.analyst(body=b"USE ods", session_id=session), "497")
    reply = http_request.analyst(body=b"SELECT * FROM students", session_id=session)
    assert reply.status >= 400 and SECRET not in reply.text


def test_system_tables_list_only_the_analyst_databases(http_request, personal_data):
    databases = http_request.analyst(
        body=b"SELECT DISTINCT database FROM system.tables ORDER BY database"
    )
    assert databases.status == 200, databases.text
    assert set(databases.text.split()) <= {"ads", "rt", "sandbox"}
    assert "ods" not in http_request.analyst(body=b"SHOW DATABASES").text.split()
    columns = http_request.analyst(body=b"SELECT DISTINCT database FROM system.columns")
    assert "ods" not in columns.text.split()


def test_the_analyst_reads_the_configured_databases(http_request, personal_data):
    assert http_request.analyst(body=b"SELECT n FROM ads.daily").text == "41\n"
    assert http_request.analyst(body=b"SELECT n FROM rt.daily").text == "42\n"
    # Unqualified names are in the analyst's first database.
    assert http_request.analyst(body=b"SELECT n FROM daily").text == "41\n"
    assert http_request.analyst(body=b"SELECT n FROM daily", database="rt").text == "42\n"
    assert http_request.analyst(body=b"WITH x AS (SELECT 1 AS n) SELECT n FROM x").text == "1\n"
    assert http_request.analyst(body=b"SELECT count() FROM numbers(10)").text == "10\n"


# -- 3. the analyst's view of running queries -----------------------------------------


def _long_query(http_request, query_id: str, finished: dict) -> None:
    reply = http_request(
        body=b"SELECT sum(sleepEachRow(0.00004)) FROM numbers(3000000) FORMAT JSON",
        query_id=query_id,
    )
    finished["reply"] = reply


def _running_for_pipeline(http_request, marker: str) -> bool:
    rows = http_request.value(
        f"SELECT count() FROM system.processes WHERE Settings['log_comment'] = '{marker}'"
    )
    return rows == "1"


def test_the_analyst_neither_sees_nor_kills_the_pipelines_queries(http_request):
    query_id = "pipeline-" + uuid.uuid4().hex
    marker = f"classpulse:default:{query_id}"
    finished: dict = {}
    worker = threading.Thread(target=_long_query, args=(http_request, query_id, finished))
    worker.start()
    try:
        wait_until(lambda: _running_for_pipeline(http_request, marker))
        seen = http_request.analyst(body=b"SELECT query_id, query FROM system.processes")
        assert seen.status == 200, seen.text
        assert "sleepEachRow" not in seen.text
        assert "SELECT query_id, query FROM system.processes" in seen.text  # its own
        listed = http_request.analyst(body=b"SHOW PROCESSLIST")
        assert "sleepEachRow" not in listed.text
        killed = http_request.analyst(body=b"KILL QUERY WHERE 1 SYNC")
        assert "numbers(3000000)" not in killed.text
        killed = http_request.analyst(body=b"KILL QUERY WHERE query LIKE '%sleepEachRow%' SYNC")
        assert "numbers(3000000)" not in killed.text
        killed = http_request.analyst(
            body=f"KILL QUERY WHERE query_id = '{query_id}' SYNC".encode()
        )
        assert "numbers(3000000)" not in killed.text
        # Still running: the analyst cancelled nothing.
        assert _running_for_pipeline(http_request, marker)
    finally:
        http_request.value(f"KILL QUERY WHERE Settings['log_comment'] = '{marker}' SYNC")
        worker.join(120)
    assert finished["reply"].code == "394"  # cancelled by the test itself


# -- 11. limits, and abandoned queries -----------------------------------------------


def test_the_analyst_has_limits_that_cannot_be_lifted(http_request):
    values = http_request.analyst(
        body=b"SELECT getSetting('max_memory_usage'), getSetting('max_execution_time'), "
        b"getSetting('max_result_rows'), getSetting('result_overflow_mode')"
    )
    assert values.text.split() == [
        str(ANALYST_MAX_MEMORY_USAGE),
        str(ANALYST_MAX_EXECUTION_TIME),
        str(ANALYST_MAX_RESULT_ROWS),
        "throw",
    ]
    too_many = http_request.analyst(
        body=f"SELECT number FROM numbers({ANALYST_MAX_RESULT_ROWS * 10})".encode()
    )
    assert too_many.status >= 400 or "__exception__" in too_many.text
    assert "396" in (too_many.code or too_many.text)
    lifted = http_request.analyst(body=b"SELECT number FROM numbers(100000)", max_result_rows=0)
    assert lifted.code == "164", lifted.text
    lifted = http_request.analyst(
        body=b"SELECT number FROM numbers(100000) SETTINGS max_result_rows = 0"
    )
    assert lifted.code == "164", lifted.text


@pytest.mark.parametrize("user", ["analyst", "default"])
def test_a_query_is_cancelled_when_its_client_disconnects(http_request, secured, user):
    query_id = f"abandoned-{user}-" + uuid.uuid4().hex
    marker = ("classpulse:analyst:" if user == "analyst" else "classpulse:default:") + query_id
    password = ANALYST_PASSWORD if user == "analyst" else ""
    params = urlencode({"query_id": query_id})
    body = b"SELECT sum(sleepEachRow(0.00004)) FROM numbers(3000000) FORMAT JSON"
    request = (
        f"POST /?{params} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-ClickHouse-User: {user}\r\n"
        f"X-ClickHouse-Key: {password}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    client = socket.create_connection(("127.0.0.1", secured.port), timeout=60)
    try:
        client.sendall(request)
        wait_until(lambda: _running_for_pipeline(http_request, marker))
    finally:
        client.close()
    # Gone well before the ~80 s the query would take; a deadline, not a duration check.
    wait_until(lambda: not _running_for_pipeline(http_request, marker), deadline_s=40)
