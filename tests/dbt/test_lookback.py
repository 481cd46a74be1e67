"""Issue 13: one setting (CLASSPULSE_RECORDED_COURSE_LOOKBACK) drives the recorded-course
look-back of the Flink job and of the dbt model; a non-default value, end to end.

A generated day with a 1 h look-back goes through the real Flink jobs, the loader and dbt; both
recorded_course_enter_time marts must equal the generator's own rows for that look-back.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

from kafka_helpers import run_settings

from classpulse import generator, pipeline
from classpulse.config import Settings
from classpulse.warehouse import get_client

DAY = date(2026, 11, 20)
LOOKBACK_SECONDS = 3_600
COLUMNS = (
    "user_id, classroom_id, toString(user_type) AS user_type, spend_time, "
    "toString(event_time) AS event_time, toString(create_time) AS create_time"
)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def key(row: dict) -> tuple:
    return tuple(
        row[c]
        for c in ("user_id", "classroom_id", "user_type", "spend_time", "event_time", "create_time")
    )


def mart(settings: Settings, database: str) -> Counter:
    data = get_client(settings).raw_query(
        f"SELECT {COLUMNS} FROM {database}.recorded_course_enter_time",
        fmt="JSONEachRow",
        settings={"output_format_json_quote_64bit_integers": 0},
    )
    return Counter(key(json.loads(line)) for line in data.decode().splitlines())


def test_a_non_default_look_back_drives_flink_and_dbt(
    dbt_warehouse: Settings, empty_kafka: Settings, tmp_path: Path
) -> None:
    settings = run_settings(
        dbt_warehouse, empty_kafka, tmp_path, recorded_course_lookback="0 01:00:00"
    )
    generator.generate(
        generator.GeneratorOptions(
            start=DAY,
            seed=4,
            scale=0.15,
            late_share=0.004,
            lookback_seconds=LOOKBACK_SECONDS,
            timezone=settings.timezone,
        ),
        settings.topics_dir,
        clean=True,
    )
    expected_rows = read_jsonl(
        settings.topics_dir / "_expected" / "recorded_course_enter_time.jsonl"
    )
    spends = {row["spend_time"] for row in expected_rows}
    # the look-back is inclusive and nothing reaches further back
    assert LOOKBACK_SECONDS * 1000 in spends and max(spends) == LOOKBACK_SECONDS * 1000

    pipeline.run_flink(settings, jobs=("clean_qos_log", "mart_recorded_course_enter_time"))
    pipeline.load(settings)
    pipeline.build(settings)

    assert mart(settings, "ads") == Counter(map(key, expected_rows))
    late = read_jsonl(
        settings.topics_dir / "_expected" / "late_events" / "recorded_course_enter_time.jsonl"
    )
    late_successes = {(row["user_id"], row["classroom_id"], row["event_time"]) for row in late}
    assert mart(settings, "rt") == Counter(
        key(row)
        for row in expected_rows
        if (row["user_id"], row["classroom_id"], row["create_time"]) not in late_successes
    )
