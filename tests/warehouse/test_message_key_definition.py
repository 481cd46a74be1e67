"""message_key has one definition (classpulse.loader.MESSAGE_KEY): every landing DDL file that
computes it says the same thing, as the engine reads it, and an existing table gains it (rows kept,
keys computed for them too)."""

from __future__ import annotations

from classpulse.config import Settings, load_settings
from classpulse.loader import create_landing_tables, message_key_expression, read_landing_tables
from classpulse.warehouse import get_client
from classpulse.warehouse.migrate import declared_columns

# the clean topics that carry the source offset only inside the key the cleaning job writes
KEY_FROM_FLINK = {"ods.room_heartbeat_clean", "ods.room_push_ack_clean"}
CLEANED = {"ods.rejected_messages", "ods.late_events", "ods.timeline_analysis_student"}


def test_every_landing_table_computes_the_key_with_the_one_definition() -> None:
    tables = read_landing_tables(load_settings().root)
    declared = declared_columns([(table.table, table.ddl) for table in tables])
    # the reference, read by the same engine: its normalised text of the definition
    reference = declared_columns(
        [
            (
                "ods.message_key_reference",
                "CREATE TABLE ods.message_key_reference (source_split String, source_offset"
                " Nullable(Int64), sourceSplit String, sourceOffset Nullable(Int64),"
                f" message_key Nullable(String) MATERIALIZED {message_key_expression()},"
                " camel_key Nullable(String) MATERIALIZED"
                f" {message_key_expression('sourceSplit', 'sourceOffset')}) ENGINE = Memory",
            )
        ]
    )["ods.message_key_reference"]
    expected = {column.name: column for column in reference}
    keyed = {}
    for table, columns in declared.items():
        by_name = {column.name: column for column in columns}
        if "message_key" in by_name:
            keyed[table] = by_name["message_key"]
    cleaned = {table.table for table in tables if table.table.endswith("_clean")} | CLEANED
    assert set(keyed) == cleaned
    for table, column in keyed.items():
        if table in KEY_FROM_FLINK:
            assert (column.type, column.default_kind) == ("String", ""), table
            continue
        camel = "sourceSplit" in {c.name for c in declared[table]}
        want = expected["camel_key" if camel else "message_key"]
        assert (column.type, column.default_kind, column.default_expression) == (
            want.type,
            want.default_kind,
            want.default_expression,
        ), table


# ods.rejected_messages and ods.late_events as the release before the key created them
REJECTED_BEFORE_KEY = """CREATE TABLE ods.rejected_messages
(
    topic LowCardinality(String),
    payload String,
    reason LowCardinality(String),
    source_split String,
    source_offset Nullable(Int64),
    ingested_at DateTime64(3, 'UTC'),
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (topic, reason, processed_at)"""

LATE_BEFORE_KEY = """CREATE TABLE ods.late_events
(
    mart LowCardinality(String),
    event_time String,
    event_time_ms Int64,
    source_split String,
    processed_at DateTime64(3, 'UTC'),
    landed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (mart, event_time_ms)"""


def test_existing_tables_gain_the_key_and_the_origin_and_keep_their_rows(own_warehouse) -> None:
    settings: Settings = own_warehouse()  # empty: the tables start in the previous shape
    client = get_client(settings)
    tables = [
        table
        for table in read_landing_tables(settings.root)
        if table.table in ("ods.rejected_messages", "ods.late_events")
    ]
    client.command("CREATE DATABASE IF NOT EXISTS ods")
    client.command(REJECTED_BEFORE_KEY)
    client.command(LATE_BEFORE_KEY)
    client.command(
        "INSERT INTO ods.rejected_messages (topic, payload, reason, source_split, source_offset,"
        " ingested_at, processed_at) VALUES ('qos_log', 'x', 'malformed_json', 'qos_log/1', 41,"
        " now64(3), now64(3))"
    )
    client.command(
        "INSERT INTO ods.late_events (mart, event_time, event_time_ms, source_split, processed_at)"
        " VALUES ('av_quality_30s', '2026-11-20 10:00:00', 1, 'agora_record/0', now64(3))"
    )
    create_landing_tables(client, tables)
    create_landing_tables(client, tables)  # idempotent
    assert client.query("SELECT topic, message_key FROM ods.rejected_messages").result_rows == [
        ("qos_log", "qos_log|1|41")
    ]
    # the offset of a late event is not known yet (the clean topics do not carry it): no key
    assert client.query(
        "SELECT mart, origin, source_offset, message_key FROM ods.late_events"
    ).result_rows == [("av_quality_30s", "stream", None, None)]
