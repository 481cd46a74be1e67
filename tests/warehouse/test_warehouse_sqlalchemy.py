"""SQLAlchemy through clickhouse-connect's ``clickhousedb://`` dialect, and pandas.read_sql."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa


@pytest.fixture
def engine(warehouse, database):
    engine = sa.create_engine(warehouse.sqlalchemy_url(database))
    yield engine
    engine.dispose()


@pytest.fixture
def lessons(client, database) -> str:
    client.command(
        f"CREATE TABLE {database}.lessons (lesson_id UInt32, room LowCardinality(String), "
        "attendees Nullable(UInt16), started_at DateTime64(3, 'UTC'), tags Array(String)) "
        "ENGINE = MergeTree ORDER BY lesson_id COMMENT 'one row per lesson'"
    )
    client.insert(
        f"{database}.lessons",
        [
            (1, "r1", 10, dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC), ["a"]),
            (2, "r1", None, dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC), []),
            (3, "r2", 30, dt.datetime(2024, 1, 2, 8, tzinfo=dt.UTC), ["b", "c"]),
        ],
    )
    return "lessons"


def test_url_comes_from_settings(warehouse, database):
    url = sa.engine.make_url(warehouse.sqlalchemy_url(database))
    assert url.drivername == "clickhousedb"
    assert (url.host, url.port, url.database) == ("127.0.0.1", warehouse.clickhouse_port, database)


def test_text_queries_with_bound_parameters(engine, lessons):
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                f"SELECT lesson_id, room FROM {lessons} WHERE room = :room AND lesson_id >= :low ORDER BY lesson_id"
            ),
            {"room": "r1", "low": 2},
        ).fetchall()
        assert [tuple(row) for row in rows] == [(2, "r1")]
        value = connection.execute(
            sa.text("SELECT :text AS t"), {"text": 'it\'s "课堂" \\ ok'}
        ).scalar()
        assert value == 'it\'s "课堂" \\ ok'
        assert (
            connection.execute(sa.text("SELECT currentDatabase()")).scalar() == engine.url.database
        )


def test_reflection(engine, lessons, database):
    inspector = sa.inspect(engine)
    assert database in inspector.get_schema_names()
    assert lessons in inspector.get_table_names()
    assert lessons in inspector.get_table_names(schema=database)
    columns = {column["name"]: column for column in inspector.get_columns(lessons)}
    assert list(columns) == ["lesson_id", "room", "attendees", "started_at", "tags"]
    assert columns["attendees"]["nullable"] is True
    assert columns["lesson_id"]["nullable"] is False
    table = sa.Table(lessons, sa.MetaData(), autoload_with=engine)
    with engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
        assert count == 3
        rows = connection.execute(
            sa.select(table.c.lesson_id).where(table.c.room == "r2")
        ).fetchall()
        assert [row[0] for row in rows] == [3]


def test_pandas_read_sql(engine, lessons):
    frame = pd.read_sql(
        f"SELECT lesson_id, room, attendees FROM {lessons} ORDER BY lesson_id", engine
    )
    assert frame["lesson_id"].tolist() == [1, 2, 3]
    assert frame["room"].tolist() == ["r1", "r1", "r2"]
    assert frame["attendees"].isna().tolist() == [False, True, False]
    bound = pd.read_sql(
        sa.text(f"SELECT count() AS n FROM {lessons} WHERE started_at >= :since"),
        engine,
        params={"since": dt.datetime(2024, 1, 2)},
    )
    assert bound["n"].tolist() == [1]


def test_writes_through_sqlalchemy(engine, database):
    with engine.begin() as connection:
        connection.execute(
            sa.text("CREATE TABLE notes (id UInt32, note String) ENGINE = MergeTree ORDER BY id")
        )
        connection.execute(sa.text("INSERT INTO notes VALUES (1, 'a'), (2, 'b')"))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count() FROM notes")).scalar() == 2
