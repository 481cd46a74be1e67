"""clickhouse-connect over HTTP against the embedded server, as against ClickHouse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import clickhouse_connect
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, Error
from clickhouse_connect.driver.external import ExternalData

WIDE_TABLE = """
CREATE TABLE {table} (
    id UInt32,
    label String,
    score Nullable(Int64),
    tags Array(String),
    happened_at DateTime64(3, 'UTC'),
    amount Decimal(18, 4),
    kind LowCardinality(String)
) ENGINE = MergeTree ORDER BY id
"""


def wide_rows(count: int, start: int = 0) -> list[tuple]:
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return [
        (
            i,
            f'row {i}: it\'s "quoted", back\\slash, naïve 课堂 🎓',
            None if i % 3 == 0 else i * 10 - 5,
            [f"t{i}", "", "x'y"],
            base + dt.timedelta(milliseconds=i),
            Decimal(f"{i}.{i % 10000:04d}"),
            ("live", "replay")[i % 2],
        )
        for i in range(start, start + count)
    ]


def wide_table(client, database: str, name: str = "wide") -> str:
    table = f"{database}.{name}"
    client.command(WIDE_TABLE.format(table=table))
    return table


# -- command and typed results ------------------------------------------------------


def test_command_returns_scalars_and_rows(client):
    assert client.command("SELECT 1") == 1
    assert client.command("SELECT 'a', 2") == ["a", "2"]
    assert client.command("SELECT 'a' WHERE 0") == ""


def test_command_returns_a_summary_for_statements_without_result(client, database):
    created = client.command(f"CREATE TABLE {database}.c (x UInt8) ENGINE = Memory")
    assert created.written_rows == 0
    inserted = client.command(f"INSERT INTO {database}.c SELECT number FROM numbers(7)")
    assert inserted.written_rows == 7
    assert client.command(f"SELECT count() FROM {database}.c") == 7


def test_query_returns_typed_values(client):
    result = client.query(
        """
        SELECT
            toInt8(-128) AS i8,
            toUInt64(18446744073709551615) AS u64,
            toInt128('-170141183460469231731687303715884105728') AS i128,
            toFloat64(1.5) AS f64,
            'it''s "quoted", naïve 课堂 🎓 \\\\ back' AS text,
            CAST(NULL AS Nullable(Int32)) AS missing,
            CAST(7 AS Nullable(Int32)) AS present,
            [1, 2, 3] AS numbers,
            [['a'], [], ['b', 'c']] AS nested,
            toDateTime64('2024-01-02 03:04:05.123456', 6, 'Asia/Shanghai') AS at64,
            toDate('2024-02-29') AS day,
            toLowCardinality('replay') AS kind,
            toDecimal64('-123.4567', 4) AS amount,
            toDecimal128('12345678901234567890.123456789', 9) AS big_amount,
            true AS flag,
            toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') AS uid,
            map('k', 1) AS mapping,
            tuple(1, 'a') AS pair
        """
    )
    row = result.first_row
    assert row[:5] == (
        -128,
        18446744073709551615,
        -170141183460469231731687303715884105728,
        1.5,
        'it\'s "quoted", naïve 课堂 🎓 \\ back',
    )
    assert row[5] is None and row[6] == 7
    assert row[7] == [1, 2, 3] and row[8] == [["a"], [], ["b", "c"]]
    assert row[9] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert row[9].utcoffset() == dt.timedelta(hours=8)
    assert row[10] == dt.date(2024, 2, 29)
    assert row[11] == "replay"
    assert row[12] == Decimal("-123.4567")
    assert row[13] == Decimal("12345678901234567890.123456789")
    assert row[14] is True
    assert str(row[15]) == "61f0c404-5cb3-11e7-907b-a6006ad3dba0"
    assert row[16] == {"k": 1} and row[17] == (1, "a")
    types = dict(zip(result.column_names, (t.name for t in result.column_types), strict=True))
    assert types["missing"] == "Nullable(Int32)"
    assert types["kind"] == "LowCardinality(String)"
    assert types["amount"] == "Decimal(18, 4)"
    assert types["at64"] == "DateTime64(6, 'Asia/Shanghai')"


@pytest.mark.xfail(
    reason="chDB limitation: Native output is written at client revision 0, so DateTime type names carry no time zone",
    strict=True,
)
def test_datetime_with_timezone_comes_back_timezone_aware(client):
    result = client.query(
        "SELECT toDateTime('2024-01-02 03:04:05', 'Asia/Shanghai') AS at, "
        "toDateTime('2024-01-02 03:04:05', 'UTC') AS at_utc"
    )
    assert result.column_types[0].name == "DateTime('Asia/Shanghai')"
    at, at_utc = result.first_row
    assert at == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert at.utcoffset() == dt.timedelta(hours=8)
    assert at_utc == dt.datetime(2024, 1, 2, 3, 4, 5)  # UTC comes back naive by default


def test_datetime_instants_are_right_whatever_the_zone(client, database):
    # The instant (not its zone label) survives; see the xfail above for the label.
    client.command(
        f"CREATE TABLE {database}.times (at DateTime('Asia/Shanghai'), at_utc DateTime('UTC')) "
        "ENGINE = MergeTree ORDER BY at"
    )
    moment = dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    client.insert(f"{database}.times", [(moment, moment)])
    assert client.command(f"SELECT toString(at) FROM {database}.times") == "2024-06-01 12:00:00"
    assert client.command(f"SELECT toString(at_utc) FROM {database}.times") == (
        "2024-06-01 04:00:00"
    )
    at, at_utc = client.query(f"SELECT at, at_utc FROM {database}.times").first_row
    for value in (at, at_utc):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        assert aware == moment


@pytest.mark.xfail(
    reason="chDB limitation: Native output is written at client revision 0, so clients fall back to protocol 0",
    strict=True,
)
def test_client_negotiates_the_native_protocol_version(client):
    # clickhouse-connect probes with client_protocol_version=54405; ClickHouse answers
    # with a Native block that carries the block info, and the client then uses it.
    assert client.protocol_version == 54405


# -- inserts --------------------------------------------------------------------------


def test_insert_rows_round_trip_every_value(client, database):
    table = wide_table(client, database)
    rows = wide_rows(500)
    summary = client.insert(table, rows)
    assert summary.written_rows == 500
    back = client.query(f"SELECT * FROM {table} ORDER BY id").result_rows
    expected = [(*row[:4], row[4].replace(tzinfo=None), *row[5:]) for row in rows]
    assert back == expected


def test_insert_named_columns_fills_defaults(client, database):
    client.command(
        f"CREATE TABLE {database}.defaults (id UInt32, note String DEFAULT 'none', "
        "doubled UInt32 MATERIALIZED id * 2) ENGINE = MergeTree ORDER BY id"
    )
    client.insert(f"{database}.defaults", [(1,), (2,)], column_names=["id"])
    assert client.query(
        f"SELECT id, note, doubled FROM {database}.defaults ORDER BY id"
    ).result_rows == [(1, "none", 2), (2, "none", 4)]


def test_insert_df_and_query_df(client, database):
    table = wide_table(client, database)
    frame = pd.DataFrame(
        {
            "id": pd.Series([1, 2, 3], dtype="uint32"),
            "label": ["a", "it's", "课堂"],
            "score": pd.array([None, 5, -7], dtype="Int64"),
            "tags": [["x"], [], ["y", "z"]],
            "happened_at": pd.to_datetime(
                ["2024-01-01 00:00:00.001", "2024-01-02", "2024-01-03"], utc=True, format="ISO8601"
            ),
            "amount": [Decimal("1.5"), Decimal("0"), Decimal("-2.25")],
            "kind": ["live", "replay", "live"],
        }
    )
    summary = client.insert_df(table, frame)
    assert summary.written_rows == 3
    back = client.query_df(f"SELECT * FROM {table} ORDER BY id")
    assert list(back.columns) == list(frame.columns)
    assert back["id"].tolist() == [1, 2, 3]
    assert back["label"].tolist() == ["a", "it's", "课堂"]
    assert back["score"].isna().tolist() == [True, False, False]
    assert back["score"].iloc[1:].tolist() == [5, -7]
    assert [list(tags) for tags in back["tags"]] == [["x"], [], ["y", "z"]]
    assert back["happened_at"].dt.tz_localize(None).tolist() == (
        frame["happened_at"].dt.tz_localize(None).tolist()
    )
    assert back["amount"].tolist() == [Decimal("1.5"), Decimal("0"), Decimal("-2.25")]
    assert back["kind"].tolist() == ["live", "replay", "live"]


def test_query_arrow_and_insert_arrow(client, database):
    table = wide_table(client, database)
    client.insert(table, wide_rows(100))
    arrow = client.query_arrow(f"SELECT id, label, score, tags FROM {table} ORDER BY id")
    assert isinstance(arrow, pa.Table)
    assert arrow.num_rows == 100
    assert arrow.column("id").to_pylist() == list(range(100))
    assert arrow.column("score").null_count == 34
    assert arrow.column("label").to_pylist()[1] == wide_rows(1, 1)[0][1]
    client.command(
        f"CREATE TABLE {database}.copy (id UInt32, label String, score Nullable(Int64), "
        "tags Array(String)) ENGINE = MergeTree ORDER BY id"
    )
    client.insert_arrow(f"{database}.copy", arrow)
    assert client.query(
        f"SELECT count(), sum(id), countIf(score IS NULL), sum(length(tags)) FROM {database}.copy"
    ).first_row == (100, 4950, 34, 300)


def test_query_np(client):
    array = client.query_np("SELECT number, number * 2 FROM numbers(5)")
    assert isinstance(array, np.ndarray)
    assert array.tolist() == [[i, i * 2] for i in range(5)]


def test_raw_insert_and_raw_query(client, database):
    client.command(f"CREATE TABLE {database}.raw (id UInt32, s String) ENGINE = Memory")
    summary = client.raw_insert(
        f"{database}.raw",
        ["id", "s"],
        insert_block=b'{"id":1,"s":"a"}\n{"id":2,"s":"b"}\n',
        fmt="JSONEachRow",
    )
    assert summary.written_rows == 2
    assert client.raw_query(f"SELECT * FROM {database}.raw ORDER BY id", fmt="CSV") == (
        b'1,"a"\n2,"b"\n'
    )


# -- parameters -----------------------------------------------------------------------


def test_server_side_parameters(client, database):
    client.command(f"CREATE TABLE {database}.p (id UInt32, s String) ENGINE = Memory")
    client.insert(f"{database}.p", [(1, "it's"), (2, "b\\c"), (3, "c")])
    rows = client.query(
        "SELECT id, s FROM {db:Identifier}.p WHERE id >= {low:UInt32} AND s IN {names:Array(String)} "
        "ORDER BY id",
        parameters={"db": database, "low": 1, "names": ["it's", "b\\c"]},
    ).result_rows
    assert rows == [(1, "it's"), (2, "b\\c")]
    row = client.query(
        "SELECT {at:DateTime}, {text:String}, {maybe:Nullable(UInt8)}",
        parameters={"at": dt.datetime(2024, 1, 2, 3, 4, 5), "text": "tab\there", "maybe": None},
    ).first_row
    assert row == (dt.datetime(2024, 1, 2, 3, 4, 5), "tab\there", None)


def test_client_side_binding(client):
    row = client.query(
        "SELECT %(n)s + 1, %(s)s, %(items)s",
        parameters={"n": 41, "s": 'it\'s "x" \\ y', "items": [1, 2]},
    ).first_row
    assert row == (42, 'it\'s "x" \\ y', [1, 2])
    assert client.query("SELECT %s || %s", parameters=("a'", "b")).first_row == ("a'b",)


# -- sessions and settings ------------------------------------------------------------


def test_temporary_table_lives_in_its_session_only(client, warehouse):
    client.command("CREATE TEMPORARY TABLE scratch (x UInt32)")
    client.insert("scratch", [(1,), (2,), (3,)])
    assert client.command("SELECT sum(x) FROM scratch") == 6
    other = clickhouse_connect.get_client(**warehouse.client_kwargs())
    with pytest.raises(DatabaseError) as failure:
        other.command("SELECT sum(x) FROM scratch")
    assert failure.value.code == 60
    assert client.command("SELECT sum(x) FROM scratch") == 6


def test_set_persists_in_the_session_only(client, warehouse):
    client.command("SET max_threads = 1")
    client.command("SET max_block_size = 4321")
    assert client.query(
        "SELECT getSetting('max_threads'), getSetting('max_block_size')"
    ).first_row == (
        1,
        4321,
    )
    assert client.command("SELECT 1") == 1
    assert client.command("SELECT getSetting('max_block_size')") == 4321
    other = clickhouse_connect.get_client(**warehouse.client_kwargs())
    assert other.command("SELECT getSetting('max_block_size')") != 4321


def test_per_query_settings_apply_to_that_query_only(client):
    default = client.command("SELECT getSetting('max_block_size')")
    assert default != 1234
    assert (
        client.command("SELECT getSetting('max_block_size')", settings={"max_block_size": 1234})
        == 1234
    )
    assert client.command("SELECT getSetting('max_block_size')") == default
    # ...also over a value the session SET: the SET value comes back afterwards.
    client.command("SET max_threads = 1")
    assert client.command("SELECT getSetting('max_threads')", settings={"max_threads": 2}) == 2
    assert client.command("SELECT getSetting('max_threads')") == 1


def test_per_query_setting_takes_effect(client):
    with pytest.raises(DatabaseError) as failure:
        client.query(
            "SELECT number FROM numbers(10)",
            settings={"max_result_rows": 5, "result_overflow_mode": "throw"},
        )
    assert failure.value.code == 396  # TOO_MANY_ROWS_OR_BYTES
    assert client.query("SELECT number FROM numbers(10)").row_count == 10


def test_client_database_makes_names_unqualified(warehouse, database):
    scoped = clickhouse_connect.get_client(**warehouse.client_kwargs(database=database))
    scoped.command("CREATE TABLE local (x UInt8) ENGINE = Memory")
    scoped.insert("local", [(5,)])
    assert scoped.command("SELECT currentDatabase()") == database
    assert scoped.command("SELECT sum(x) FROM local") == 5


def test_external_data_is_a_temporary_table(client):
    external = ExternalData(
        data=b"1\tone\n2\ttwo\n", file_name="lookup", structure=["id UInt32", "name String"]
    )
    rows = client.query(
        "SELECT id, name FROM lookup ORDER BY id", external_data=external
    ).result_rows
    assert rows == [(1, "one"), (2, "two")]
    with pytest.raises(DatabaseError):
        client.query("SELECT * FROM lookup")


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "code", "name"),
    [
        ("SELECT * FROM no_such_database.no_such_table", 81, "UNKNOWN_DATABASE"),
        ("SELECT * FROM default.no_such_table", 60, "UNKNOWN_TABLE"),
        ("SELEC 1", 62, "SYNTAX_ERROR"),
        ("SELECT no_such_function(1)", 46, "UNKNOWN_FUNCTION"),
        ("SELECT no_such_column FROM system.one", 47, "UNKNOWN_IDENTIFIER"),
        ("SELECT throwIf(1, 'boom')", 395, "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO"),
        ("SELECT toUInt8('x')", 6, "CANNOT_PARSE_TEXT"),
    ],
)
def test_errors_carry_the_clickhouse_code(client, sql, code, name):
    with pytest.raises(DatabaseError) as failure:
        client.query(sql)
    assert failure.value.code == code
    assert name in str(failure.value)
    assert client.command("SELECT 1") == 1  # the session is fine afterwards


def test_insert_error_is_reported_and_nothing_half_written(client, database):
    client.command(f"CREATE TABLE {database}.strict (id UInt8) ENGINE = MergeTree ORDER BY id")
    with pytest.raises(DatabaseError) as failure:
        client.raw_insert(
            f"{database}.strict", ["id"], insert_block=b"1\n2\nnot a number\n", fmt="TSV"
        )
    assert failure.value.code in (6, 27, 117)  # a parse error, as ClickHouse reports it
    assert client.command(f"SELECT count() FROM {database}.strict") == 0


# -- compression ----------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True, "lz4", "zstd", "gzip", "br"])
def test_compression_for_queries_and_inserts(warehouse, database, compress):
    compressed = clickhouse_connect.get_client(**warehouse.client_kwargs(compress=compress))
    table = wide_table(compressed, database)
    rows = wide_rows(3000)
    assert compressed.insert(table, rows).written_rows == 3000
    frame = pd.DataFrame(
        {"id": range(3000, 4000), "label": "df", "score": None, "tags": [[]] * 1000}
    )
    frame["happened_at"] = pd.Timestamp("2024-01-01", tz="UTC")
    frame["amount"] = Decimal("1")
    frame["kind"] = "live"
    assert compressed.insert_df(table, frame).written_rows == 1000
    back = compressed.query(f"SELECT * FROM {table} WHERE id < 3000 ORDER BY id").result_rows
    assert back == [(*row[:4], row[4].replace(tzinfo=None), *row[5:]) for row in rows]
    assert compressed.query_df(f"SELECT id FROM {table} ORDER BY id")["id"].tolist() == list(
        range(4000)
    )
    assert compressed.query_arrow(f"SELECT count() AS n FROM {table}").column("n").to_pylist() == [
        4000
    ]


# -- query id, summaries --------------------------------------------------------------


def test_query_id_round_trips(client, database):
    result = client.query("SELECT 1", settings={"query_id": "classpulse-test-query-1"})
    assert result.query_id == "classpulse-test-query-1"
    client.command(f"CREATE TABLE {database}.q (x UInt8) ENGINE = Memory")
    summary = client.insert(
        f"{database}.q", [(1,)], settings={"query_id": "classpulse-test-insert-1"}
    )
    assert summary.query_id() == "classpulse-test-insert-1"
    generated = client.query("SELECT 1").query_id
    assert generated and generated != "classpulse-test-query-1"


def test_insert_summary_counts_written_rows(client, database):
    table = wide_table(client, database)
    summary = client.insert(table, wide_rows(1234))
    assert summary.written_rows == 1234
    assert int(summary.summary["written_bytes"]) > 0
    select = client.query(f"SELECT count() FROM {table}")
    assert select.summary["written_rows"] == "0"


# -- large results, streaming, errors mid-stream ---------------------------------------


def test_large_result_is_streamed(client):
    rows = total = blocks = 0
    with client.query_column_block_stream(
        "SELECT number, toString(number) AS s FROM numbers(2000000)"
    ) as stream:
        for block in stream:
            blocks += 1
            rows += len(block[0])
            total += sum(block[0])
            assert block[1][-1] == str(block[0][-1])
    assert rows == 2_000_000
    assert total == sum(range(2_000_000))
    assert blocks > 1


def test_large_result_in_one_call(client):
    frame = client.query_df("SELECT number, number % 7 AS m FROM numbers(2000000)")
    assert len(frame) == 2_000_000
    assert int(frame["number"].sum()) == sum(range(2_000_000))


MID_STREAM_FAILURE = "SELECT number, throwIf(number = 1500000) AS t FROM numbers(3000000)"


def test_error_mid_stream_raises_and_the_session_stays_usable(client):
    client.command("SET max_block_size = 10000")
    client.command("CREATE TEMPORARY TABLE before_failure (x UInt8)")
    received = 0
    with (
        pytest.raises(Error) as failure,
        client.query_row_block_stream(MID_STREAM_FAILURE) as stream,
    ):
        for block in stream:
            received += len(block)
    assert "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO" in str(failure.value)
    assert 0 < received <= 1_500_000  # rows arrived before the error did
    # Right after: the same session answers, with its settings and temporary table.
    assert client.query("SELECT 42").result_rows == [(42,)]
    assert client.command("SELECT getSetting('max_block_size')") == 10000
    assert client.command("SELECT count() FROM before_failure") == 0


@pytest.mark.parametrize("read", ["query", "query_df", "query_arrow", "query_np"])
def test_error_mid_stream_raises_for_every_reader(client, read):
    client.command("SET max_block_size = 10000")
    with pytest.raises(Error) as failure:
        getattr(client, read)(MID_STREAM_FAILURE)
    assert "395" in str(failure.value) or "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO" in str(
        failure.value
    )
    assert client.query("SELECT 7").result_rows == [(7,)]
    assert client.command("SELECT getSetting('max_block_size')") == 10000
