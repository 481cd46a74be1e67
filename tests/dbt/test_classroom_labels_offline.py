"""ads.room_user_labels_30s (LIVE_CLASSROOM_CONTRACT.md A.3) through Flink, the loader and real dbt.

A generated day of lessons goes through the cleaning jobs, lands in ods, and dbt builds the
offline mart: it must equal the generator's own pure-Python rows, late messages included; the rt
views resolve the real-time logs.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from clickhouse_connect.driver.client import Client
from kafka_helpers import run_settings

from classpulse import pipeline
from classpulse.classroom_help.generator import LabelsOptions, generate_labels_day
from classpulse.classroom_help.records import LABEL_JOBS
from classpulse.config import Settings
from classpulse.dbt import run_dbt
from classpulse.warehouse import get_client

JOBS = LABEL_JOBS


def expected_rows(settings: Settings, mart: str) -> list[dict]:
    """The generator's expected rows of ``mart`` (its ``_expected`` file)."""
    path = settings.topics_dir / "_expected" / f"{mart}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def mart_rows(client: Client, mart: str, expected: list[dict], order_by: str) -> list[dict]:
    """The rows of ads.``mart`` in the expected rows' columns, ordered by ``order_by``."""
    data = client.raw_query(
        f"SELECT {', '.join(expected[0])} FROM ads.{mart} ORDER BY {order_by}",
        fmt="JSONEachRow",
        settings={"output_format_json_quote_64bit_integers": 0},
    )
    return [json.loads(line) for line in data.decode().splitlines()]


def test_offline_labels_equal_the_generator_rows_late_messages_included(
    dbt_warehouse: Settings, empty_kafka: Settings, tmp_path: Path
) -> None:
    settings = run_settings(dbt_warehouse, empty_kafka, tmp_path)
    day = generate_labels_day(
        LabelsOptions(
            day=date(2026, 11, 20), seed=5, lessons=30, lesson_minutes=5, late_share=0.01
        ),
        settings.topics_dir,
    )
    assert day.late
    pipeline.run_flink(settings, jobs=JOBS)
    pipeline.load(settings)
    run_dbt(
        settings,
        [
            "build",
            "--select",
            "room_user_labels_30s help_request_triage help_triage_daily rt_room_user_labels_30s "
            "rt_help_request_triage",
        ],
    )
    client = get_client(settings)
    expected = expected_rows(settings, "room_user_labels_30s")
    assert mart_rows(client, "room_user_labels_30s", expected, "start_time, room_id, user_id") == (
        expected
    )
    triage = expected_rows(settings, "help_request_triage")
    assert mart_rows(client, "help_request_triage", triage, "request_id") == triage
    daily = expected_rows(settings, "help_triage_daily")
    assert mart_rows(client, "help_triage_daily", daily, "day, source, category") == daily
    rt_rows = client.query("SELECT count() FROM rt.room_user_labels_30s").result_rows[0][0]
    help_rows = client.query(
        "SELECT count() FROM rt.help_request_triage WHERE source = 'help'"
    ).result_rows[0][0]
    assert 0 < rt_rows <= len(expected)
    assert help_rows == len({m.request_id for m in day.accepted["classroom_help_request"]})
