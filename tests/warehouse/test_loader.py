"""The landing tables through the real server: their DDL files, the tables they create, and
the Kafka-engine feed generated from them (landing from Kafka itself is tests/kafka's)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from classpulse.config import Settings
from classpulse.kafka.landing import land_from_kafka
from classpulse.loader import (
    LoadError,
    create_landing_tables,
    kafka_ddl,
    read_landing_tables,
)
from classpulse.warehouse import get_client

DDL = """-- topic: demo_events
-- grain: one row per demo event
CREATE TABLE IF NOT EXISTS ods.loader_demo_events
(
    event_id UInt64,
    room_id String,
    event LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY event_id
SETTINGS non_replicated_deduplication_window = 10000
"""


@pytest.fixture()
def project(tmp_path: Path, warehouse: Settings) -> Settings:
    landing = tmp_path / "clickhouse" / "landing"
    landing.mkdir(parents=True)
    (landing / "loader_demo_events.sql").write_text(DDL)
    client = get_client(warehouse)
    client.command("DROP TABLE IF EXISTS ods.loader_demo_events")
    return replace(warehouse, root=tmp_path, topics_dir=tmp_path / "topics")


def columns(settings: Settings) -> dict[str, str]:
    return dict(
        get_client(settings)
        .query(
            "SELECT name, type FROM system.columns WHERE database = 'ods' "
            "AND table = 'loader_demo_events' ORDER BY position"
        )
        .result_rows
    )


def test_landing_tables_are_created_with_their_kafka_provenance(project: Settings) -> None:
    client = get_client(project)
    tables = read_landing_tables(project.root)
    assert [(table.topic, table.table) for table in tables] == [
        ("demo_events", "ods.loader_demo_events")
    ]
    create_landing_tables(client, tables)
    create_landing_tables(client, tables)  # idempotent
    assert columns(project) == {
        "event_id": "UInt64",
        "room_id": "String",
        "event": "LowCardinality(String)",
        "kafka_topic": "LowCardinality(String)",
        "kafka_partition": "Int32",
        "kafka_offset": "Int64",
    }


def test_an_unknown_topic_is_a_clear_error(project: Settings) -> None:
    with pytest.raises(LoadError, match="no landing table"):
        land_from_kafka(project, only=["nope"])


def test_kafka_feed_is_generated_from_the_landing_table_and_parses(project: Settings) -> None:
    client = get_client(project)
    (table,) = read_landing_tables(project.root)
    create_landing_tables(client, [table])
    # a column the target computes (landed_at, origin): the queue must not hand it a zero value
    client.command(
        "ALTER TABLE ods.loader_demo_events ADD COLUMN landed_at DateTime64(3, 'UTC') DEFAULT now64(3)"
    )
    statements = kafka_ddl(client, table, "kafka-1:9092,kafka-2:9092")
    assert "kafka_topic_list = 'demo_events'" in statements[0]
    assert "`event` LowCardinality(String)" in statements[0]
    assert all("landed_at" not in statement for statement in statements)
    assert "_offset AS `kafka_offset`" in statements[1]
    assert statements[1].startswith(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS ods.loader_demo_events_mv TO ods.loader_demo_events"
    )
    for statement in statements:  # the engine's own parser accepts them
        formatted = client.query(
            "SELECT formatQuery({q:String})", parameters={"q": statement}
        ).first_row[0]
        assert formatted.startswith("CREATE")
    with pytest.raises(LoadError, match="broker list"):
        kafka_ddl(client, table, "x'; DROP TABLE y; --")
