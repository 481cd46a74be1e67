"""Users: the writer ``default``, the read-only analyst, wrong passwords, a disabled analyst."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import clickhouse_connect
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError


@pytest.fixture
def shared_table(client) -> str:
    """A table in ``ads``, one of the analyst's databases (CLASSPULSE_ANALYST_DATABASES)."""
    table = f"ads.lessons_{uuid.uuid4().hex[:12]}"
    client.command(f"CREATE TABLE {table} (id UInt32, room String) ENGINE = MergeTree ORDER BY id")
    client.insert(table, [(1, "r1"), (2, "r2")])
    return table


@pytest.fixture
def analyst(warehouse, analyst_password):
    connection = clickhouse_connect.get_client(
        **warehouse.client_kwargs(username=warehouse.analyst_user, password=analyst_password)
    )
    yield connection
    connection.close()


def readonly_error(call) -> DatabaseError:
    with pytest.raises(DatabaseError) as failure:
        call()
    assert failure.value.code == 164, str(failure.value)
    assert "READONLY" in str(failure.value)
    return failure.value


def test_analyst_can_select(analyst, shared_table):
    assert analyst.query(f"SELECT id, room FROM {shared_table} ORDER BY id").result_rows == [
        (1, "r1"),
        (2, "r2"),
    ]
    assert analyst.query_df(f"SELECT count() AS n FROM {shared_table}")["n"].tolist() == [2]
    assert analyst.command("SELECT getSetting('readonly')") == 1


def test_analyst_cannot_write(analyst, client, shared_table, database):
    readonly_error(lambda: analyst.command(f"INSERT INTO {shared_table} VALUES (3, 'r3')"))
    readonly_error(lambda: analyst.insert(shared_table, [(4, "r4")]))
    readonly_error(
        lambda: analyst.command(f"CREATE TABLE {database}.by_analyst (x UInt8) ENGINE = Memory")
    )
    readonly_error(lambda: analyst.command(f"CREATE DATABASE {database}_by_analyst"))
    readonly_error(lambda: analyst.command(f"DROP TABLE {shared_table}"))
    readonly_error(lambda: analyst.command(f"TRUNCATE TABLE {shared_table}"))
    readonly_error(lambda: analyst.command(f"ALTER TABLE {shared_table} ADD COLUMN extra UInt8"))
    readonly_error(lambda: analyst.command(f"ALTER TABLE {shared_table} DELETE WHERE id = 1"))
    readonly_error(lambda: analyst.command("SET readonly = 0"))
    readonly_error(lambda: analyst.command("CREATE TEMPORARY TABLE scratch (x UInt8)"))
    # ...and nothing changed.
    assert client.query(f"SELECT id FROM {shared_table} ORDER BY id").result_rows == [(1,), (2,)]
    assert client.command(f"EXISTS TABLE {database}.by_analyst") == 0
    assert analyst.command("SELECT getSetting('readonly')") == 1


def test_analyst_cannot_lift_readonly_through_the_url(curl, analyst_password, shared_table):
    credentials = ("--user", f"analyst:{analyst_password}")
    for readonly in ("0", "2"):
        reply = curl(
            "/?" + urlencode({"readonly": readonly}),
            *credentials,
            data=f"INSERT INTO {shared_table} VALUES (9, 'r9')".encode(),
        )
        assert reply.headers["x-clickhouse-exception-code"] == "164", reply.text
        session = "/?" + urlencode({"readonly": readonly, "session_id": f"analyst-{readonly}"})
        reply = curl(session, *credentials, data=f"DROP TABLE {shared_table}".encode())
        assert reply.headers["x-clickhouse-exception-code"] == "164", reply.text
        reply = curl(session, *credentials, data=b"SELECT getSetting('readonly')")
        assert reply.text == "1\n"
    reply = curl("/", *credentials, data=f"SELECT count() FROM {shared_table}".encode())
    assert reply.text == "2\n"


def test_analyst_cannot_change_settings_through_the_url(curl, analyst_password):
    reply = curl(
        "/?"
        # A value other than the current one: ClickHouse lets an unchanged value pass.
        + urlencode({"query": "SELECT getSetting('max_execution_time')", "max_execution_time": 5}),
        "--user",
        f"analyst:{analyst_password}",
    )
    assert reply.headers.get("x-clickhouse-exception-code") == "164", reply.text


def test_analyst_settings_change_in_a_session_is_refused(curl, analyst_password):
    reply = curl(
        "/?" + urlencode({"query": "SELECT 1", "max_threads": 1, "session_id": "analyst-settings"}),
        "--user",
        f"analyst:{analyst_password}",
    )
    assert reply.headers.get("x-clickhouse-exception-code") == "164", reply.text


def test_default_user_without_password_from_loopback(warehouse):
    writer = clickhouse_connect.get_client(
        host="127.0.0.1", port=warehouse.clickhouse_port, username="default", password=""
    )
    assert writer.command("SELECT getSetting('readonly')") == 0
    writer.command("CREATE TEMPORARY TABLE proof (x UInt8)")
    writer.insert("proof", [(1,)])
    assert writer.command("SELECT count() FROM proof") == 1


@pytest.mark.parametrize(
    ("username", "password"),
    [("analyst", "wrong"), ("analyst", ""), ("default", "unexpected"), ("nobody", "")],
)
def test_wrong_credentials_fail_with_516(warehouse, username, password):
    with pytest.raises(DatabaseError) as failure:
        clickhouse_connect.get_client(
            **warehouse.client_kwargs(username=username, password=password)
        ).command("SELECT 1")
    assert failure.value.code == 516
    assert "AUTHENTICATION_FAILED" in str(failure.value)


def test_analyst_is_disabled_without_an_analyst_password(own_warehouse, analyst_password):
    settings = own_warehouse(analyst_password="")
    for password in ("", analyst_password):
        with pytest.raises(DatabaseError) as failure:
            clickhouse_connect.get_client(
                **settings.client_kwargs(username=settings.analyst_user, password=password)
            )
        assert failure.value.code == 516
    writer = clickhouse_connect.get_client(**settings.client_kwargs())
    assert writer.command("SELECT 1") == 1


def test_a_repeated_insert_head_is_checked_for_each_user(analyst, client, shared_table):
    """The server keeps the engine's parse of an ``INSERT ... FORMAT`` head (a loader sends
    the same head batch after batch); the rules still run for every request: the analyst's
    insert with the very head the writer just used is refused, and nothing is written."""
    rows = b'{"id":5,"room":"r5"}\n{"id":6,"room":"r6"}\n'
    for _ in range(2):  # the second is served from the kept parse
        client.raw_insert(shared_table, insert_block=rows, fmt="JSONEachRow")
    readonly_error(lambda: analyst.raw_insert(shared_table, insert_block=rows, fmt="JSONEachRow"))
    assert client.query(f"SELECT id FROM {shared_table} ORDER BY id").result_rows == [
        (1,),
        (2,),
        (5,),
        (5,),
        (6,),
        (6,),
    ]
