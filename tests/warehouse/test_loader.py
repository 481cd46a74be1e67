"""Landing through the real server: exactly once, even after an interrupted load."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from classpulse.config import Settings
from classpulse.loader import LoadError, kafka_ddl, load_topics, read_landing_tables
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
    client.command("CREATE DATABASE IF NOT EXISTS ods")
    client.command("CREATE TABLE IF NOT EXISTS ods.load_ledger (topic String) ENGINE = Memory")
    client.command("DROP TABLE ods.load_ledger")
    return replace(warehouse, root=tmp_path, topics_dir=tmp_path / "topics")


def write_topic_file(settings: Settings, name: str, first: int, count: int) -> Path:
    directory = settings.topics_dir / "demo_events"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    rows = (
        json.dumps({"event_id": i, "room_id": f"r{i % 3}", "event": "E", "extra": 1})
        for i in range(first, first + count)
    )
    path.write_text("\n".join(rows) + "\n")
    return path


def count_rows(settings: Settings) -> tuple[int, int]:
    client = get_client(settings)
    total, distinct = client.query(
        "SELECT count(), uniqExact(event_id) FROM ods.loader_demo_events"
    ).result_rows[0]
    return total, distinct


def test_each_file_is_loaded_once_and_new_files_are_picked_up(project: Settings) -> None:
    write_topic_file(project, "001.jsonl", 0, 1000)
    write_topic_file(project, "002.jsonl", 1000, 500)
    first = load_topics(project)
    assert (first.files_loaded, first.rows) == (2, 1500)
    again = load_topics(project)
    assert (again.files_loaded, again.rows) == (0, 0)
    write_topic_file(project, "003.jsonl", 1500, 10)
    third = load_topics(project)
    assert (third.files_loaded, third.rows) == (1, 10)
    assert count_rows(project) == (1510, 1510)


def test_a_load_interrupted_before_its_ledger_row_does_not_duplicate(project: Settings) -> None:
    write_topic_file(project, "001.jsonl", 0, 200)
    load_topics(project)
    # The crash window: data inserted, ledger row lost.
    get_client(project).command("TRUNCATE TABLE ods.load_ledger")
    redo = load_topics(project)
    assert redo.files_loaded == 1
    assert count_rows(project) == (200, 200)


def test_hidden_and_in_progress_files_are_not_loaded(project: Settings) -> None:
    write_topic_file(project, ".002.jsonl.inprogress", 0, 5)
    write_topic_file(project, "001.jsonl", 100, 5)
    assert load_topics(project).rows == 5


def test_an_unknown_topic_is_a_clear_error(project: Settings) -> None:
    with pytest.raises(LoadError, match="no landing table"):
        load_topics(project, only=["nope"])


def test_kafka_feed_is_generated_from_the_landing_table_and_parses(project: Settings) -> None:
    write_topic_file(project, "001.jsonl", 0, 1)
    load_topics(project)
    client = get_client(project)
    (table,) = read_landing_tables(project.root)
    statements = kafka_ddl(client, table, "kafka-1:9092,kafka-2:9092")
    assert "kafka_topic_list = 'demo_events'" in statements[0]
    assert "`event` LowCardinality(String)" in statements[0]
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


def test_a_recomputed_topic_replaces_its_previous_generation(project: Settings) -> None:
    first = write_topic_file(project, "part-a-0.jsonl", 0, 300)
    write_topic_file(project, "part-a-1.jsonl", 300, 300)
    load_topics(project)
    # A bounded Flink run clears its output and writes new part files with other names.
    for path in first.parent.iterdir():
        path.unlink()
    write_topic_file(project, "part-b-0.jsonl", 0, 250)
    report = load_topics(project)
    assert report.topics[0].generation_replaced
    assert count_rows(project) == (250, 250)
    # and the new generation is then appended to, file by file, as before
    write_topic_file(project, "part-b-1.jsonl", 250, 5)
    again = load_topics(project)
    assert not again.topics[0].generation_replaced
    assert (again.files_loaded, count_rows(project)) == (1, (255, 255))
