"""Two bounded runs over one topic add up: the second run's counters (a new job state, counting
from where the first stopped) no longer replace the first's, in Kafka or in the warehouse."""

from __future__ import annotations

from pathlib import Path

from kafka_helpers import run_settings
from qos_lines import MINUTE, TEN, qos

from classpulse import pipeline
from classpulse.config import Settings
from classpulse.warehouse import get_client

JOBS = ("clean_qos_log", "mart_recorded_course_enter_time")


# (line, accepted?) per run; the verdicts are the contract's, written out by hand
FIRST = [
    (qos(1, "PPT_START", TEN), True),
    (qos(1, "PPT_SUCCESS", TEN + MINUTE), True),
    ('{"user_type": "student", "sub_event": ', False),  # malformed JSON
    (qos(2, "PPT_START", TEN + 2 * MINUTE), True),
]
SECOND = [
    (qos(2, "PPT_SUCCESS", TEN + 4 * MINUTE), True),
    ("[1, 2, 3]", False),  # not an object
    (qos(3, "PPT_START", TEN + 5 * MINUTE), True),
    ('{"a": 1} trailing', False),  # trailing content
    (qos(3, "PPT_SUCCESS", TEN + 7 * MINUTE), True),
]


def feed(settings: Settings, name: str, lines: list[tuple[str, bool]]) -> None:
    directory = settings.topics_dir / "qos_log"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text("".join(line + "\n" for line, _ in lines), encoding="utf-8")


def test_a_second_bounded_run_adds_its_counts_to_the_first(
    own_warehouse: Settings, empty_kafka: Settings, tmp_path: Path
) -> None:
    # a warehouse of the test's own: the session's warehouse holds other tests' landed rows (the
    # live classroom topics' cleaned rows and dead letters), which the accounting checks too
    settings = run_settings(own_warehouse, empty_kafka, tmp_path)
    client = get_client(settings)

    feed(settings, "20261120T020000Z.jsonl", FIRST)
    first = pipeline.run_flink(settings, jobs=JOBS)
    assert (first["mode"], first["ran"], first["messages_read"]) == ("bounded", True, len(FIRST))
    assert pipeline.load(settings)["accounting"] == {"caught_up": True, "holds": True}

    feed(settings, "20261120T030000Z.jsonl", SECOND)
    second = pipeline.run_flink(settings, jobs=JOBS)
    assert (second["ran"], second["messages_read"]) == (True, len(SECOND))
    assert pipeline.load(settings)["accounting"] == {"caught_up": True, "holds": True}

    lines = FIRST + SECOND
    accepted = sum(ok for _, ok in lines)
    assert client.query(
        "SELECT sum(messages_read), sum(accepted), sum(rejected)"
        " FROM ods.topic_accounting_log FINAL WHERE topic = 'qos_log'"
    ).result_rows == [(len(lines), accepted, len(lines) - accepted)]
    runs = client.query(
        "SELECT uniqExact(first_offset) FROM ods.topic_accounting_log FINAL WHERE topic = 'qos_log'"
    ).result_rows
    assert runs == [(2,)]
    # every accepted qos_log message reaches the mart once: counted + late over both runs
    assert client.query(
        "SELECT sum(events_in), sum(events_counted + events_late), count()"
        " FROM ods.mart_accounting_log FINAL WHERE mart = 'recorded_course_enter_time'"
    ).result_rows == [(accepted, accepted, 2)]


# the accounting logs as the previous release created them: one row per split / mart, whatever run
PREVIOUS_RELEASE = (
    "CREATE TABLE ods.topic_accounting_log (topic LowCardinality(String), source_split String,"
    " messages_read Int64, accepted Int64, rejected Int64, processed_at DateTime64(3, 'UTC'))"
    " ENGINE = ReplacingMergeTree(processed_at) ORDER BY (topic, source_split)",
    "CREATE TABLE ods.mart_accounting_log (mart LowCardinality(String), events_in Int64,"
    " events_counted Int64, events_late Int64, processed_at DateTime64(3, 'UTC'))"
    " ENGINE = ReplacingMergeTree(events_in) ORDER BY mart",
    "INSERT INTO ods.topic_accounting_log VALUES ('qos_log', 'qos_log/0', 4, 3, 1, now64(3))",
    "INSERT INTO ods.mart_accounting_log VALUES ('av_quality_30s', 5, 4, 1, now64(3))",
)


def test_accounting_logs_of_the_previous_release_get_the_run_in_their_key(
    own_warehouse: Settings,
) -> None:
    from classpulse.loader import create_landing_tables, read_landing_tables
    from classpulse.warehouse import create_layer_databases

    client = get_client(own_warehouse)
    create_layer_databases(client)
    for statement in PREVIOUS_RELEASE:
        client.command(statement)
    tables = [
        table
        for table in read_landing_tables(own_warehouse.root)
        if table.table in ("ods.topic_accounting_log", "ods.mart_accounting_log")
    ]
    create_landing_tables(client, tables)
    create_landing_tables(client, tables)  # idempotent
    keys = dict(
        client.query(
            "SELECT name, sorting_key FROM system.tables WHERE database = 'ods'"
            " AND name IN ('topic_accounting_log', 'mart_accounting_log')"
        ).result_rows
    )
    assert keys == {
        "topic_accounting_log": "topic, source_split, first_offset",
        "mart_accounting_log": "mart, counting_since",
    }
    # the rows already there are kept, as one earlier run
    assert client.query(
        "SELECT topic, first_offset, messages_read FROM ods.topic_accounting_log"
    ).result_rows == [("qos_log", 0, 4)]
    assert client.query(
        "SELECT mart, toUnixTimestamp64Milli(counting_since), events_in FROM ods.mart_accounting_log"
    ).result_rows == [("av_quality_30s", 0, 5)]
