"""dbt-clickhouse against the embedded server: `dbt build` of a tiny project, twice."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import clickhouse_connect

PROJECT = Path(__file__).parent / "dbt_tiny"
DBT = Path(sys.executable).parent / "dbt"


def dbt_build(project: Path, environment: dict[str, str]) -> dict:
    completed = subprocess.run(
        [str(DBT), "build", "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    results = json.loads((project / "target" / "run_results.json").read_text())
    statuses = {result["unique_id"]: result["status"] for result in results["results"]}
    assert statuses and set(statuses.values()) <= {"success", "pass"}, statuses
    return statuses


def test_dbt_build_twice(warehouse, cli_environment, tmp_path):
    project = tmp_path / "dbt_tiny"
    shutil.copytree(PROJECT, project)  # dbt writes target/ and logs/ next to the project
    suffix = uuid.uuid4().hex[:8]
    models, sources = f"dbt_tiny_{suffix}", f"dbt_tiny_raw_{suffix}"
    environment = {
        **cli_environment(warehouse),
        "DBT_TINY_SCHEMA": models,
        "DBT_TINY_SOURCE_SCHEMA": sources,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    client = clickhouse_connect.get_client(**warehouse.client_kwargs())
    client.command(f"CREATE DATABASE {sources}")
    client.command(
        f"CREATE TABLE {sources}.lessons (lesson_id UInt32, classroom_id String, "
        "attendee_count Int32, updated_at DateTime64(3)) ENGINE = MergeTree ORDER BY lesson_id"
    )
    client.command(
        f"INSERT INTO {sources}.lessons VALUES "
        "(1, 'r1', 10, '2024-01-01 08:00:00'), (2, 'r1', 20, '2024-01-01 09:00:00'), "
        "(3, 'r2', 5, '2024-01-01 10:00:00')"
    )

    first = dbt_build(project, environment)
    assert len(first) == 13  # 4 models, 8 generic tests, 1 singular test
    expected_first = [(1, "r1", 10), (2, "r1", 20), (3, "r2", 5)]
    for model in ("lessons_latest", "lessons_latest_default"):
        assert (
            client.query(
                f"SELECT lesson_id, classroom_id, attendee_count FROM {models}.{model} ORDER BY lesson_id"
            ).result_rows
            == expected_first
        )

    # New rows: lesson 2 changes, lesson 4 appears; lesson 5 arrives late (older than
    # what the models hold), which only a full rebuild would pick up.
    client.command(
        f"INSERT INTO {sources}.lessons VALUES "
        "(2, 'r1', 25, '2024-01-02 09:00:00'), (4, 'r3', 7, '2024-01-02 10:00:00'), "
        "(5, 'r3', 1, '2023-12-31 00:00:00')"
    )
    second = dbt_build(project, environment)
    assert second.keys() == first.keys()

    expected_second = [(1, "r1", 10), (2, "r1", 25), (3, "r2", 5), (4, "r3", 7)]
    for model in ("lessons_latest", "lessons_latest_default"):
        rows = client.query(
            f"SELECT lesson_id, classroom_id, attendee_count FROM {models}.{model} "
            "ORDER BY lesson_id"
        ).result_rows
        assert rows == expected_second, model  # no duplicates, new rows in, late row not
        duplicates = client.command(f"SELECT count() - uniqExact(lesson_id) FROM {models}.{model}")
        assert duplicates == 0, model
    assert client.query(
        f"SELECT classroom_id, lesson_count, attendee_total FROM {models}.classroom_totals "
        "ORDER BY classroom_id"
    ).result_rows == [("r1", 2, 35), ("r2", 1, 5), ("r3", 1, 7)]
    assert client.command(f"SELECT count() FROM {models}.stg_lessons") == 6  # a view: live
    assert client.query(
        f"SELECT name, engine FROM system.tables WHERE database = '{models}' ORDER BY name"
    ).result_rows == [
        ("classroom_totals", "MergeTree"),
        ("lessons_latest", "MergeTree"),
        ("lessons_latest_default", "MergeTree"),
        ("stg_lessons", "View"),
    ]
    assert not (PROJECT / "target").exists() and not (PROJECT / "logs").exists()
