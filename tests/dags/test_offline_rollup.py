"""realtime_jobs, offline_rollup and data_quality, run with dag.test() on a generated day.

The module's fixture generates one small day (its own day and seed) into the module's
topics directory, produces it into the session's Kafka broker and runs the streaming
pipeline over it bounded once (the catch-up realtime_jobs would run: a real PyFlink
mini-cluster, about a minute). The DAGs then land, build, gate and
publish it. Idempotency: a re-run of the same logical date and a backfill of the day before
leave the day's marts identical, row for row.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from warehouse_helpers import query_rows

from classpulse import dbt, orchestration, pipeline
from classpulse.config import Settings, load_settings

# Recent: the real-time mart logs keep 30 days (TTL), older generated days vanish on insert.
DAY = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=2)
SCALE = 0.2
SEED = 46
# Marts whose partitions are business days: (table, day expression) for per-day checks.
DAILY_MARTS = {
    "av_quality_30s": "toDate(start_time)",
    "classroom_performance_1min": "toDate(start_time)",
    "recorded_course_enter_time": "toDate(create_time)",
    "cc_daily_tracking": "attribution_date",
}


def partition_fingerprints(settings: Settings) -> dict[tuple[str, str], tuple[int, int]]:
    """(ads table, partition) -> rows and the wrapping sum of whole-row hashes."""
    tables = query_rows(
        settings,
        "SELECT name FROM system.tables WHERE database = 'ads' AND engine NOT LIKE '%View' "
        "AND name != 'publication_log'",
    )
    fingerprints = {}
    for (table,) in tables:
        for partition, rows, digest in query_rows(
            settings,
            f"SELECT _partition_id, count(), sum(cityHash64(*)) FROM ads.`{table}` "
            "GROUP BY _partition_id",
        ):
            fingerprints[(str(table), str(partition))] = (int(rows), int(digest))
    return fingerprints


PART_1_MARTS = (
    "av_quality_30s",
    "cc_daily_tracking",
    "classroom_performance_1min",
    "recorded_course_enter_time",
    "registrations_hourly_by_level",
)


@pytest.fixture(scope="module")
def day_topics(airflow_settings: Settings, topics: Path) -> Path:
    """The day generated and run through the Flink jobs (the realtime catch-up), once."""
    settings = load_settings()  # CLASSPULSE_TOPICS_DIR is the module's topics directory
    pipeline.generate(settings, DAY, scale=SCALE, seed=SEED)
    pipeline.catch_up_flink(settings)
    return topics


@pytest.fixture(scope="module")
def published(day_topics: Path, airflow_settings: Settings) -> orchestration.LocalRun:
    """offline_rollup for DAY: a run at the end of the day (its data interval is DAY)."""
    return orchestration.run_dag_locally("offline_rollup", DAY + timedelta(days=1))


def test_realtime_jobs_lands_and_finds_no_lag(day_topics: Path, airflow_settings: Settings) -> None:
    run = orchestration.run_dag_locally("realtime_jobs")
    assert run.succeeded, orchestration.describe(run)
    states = run.states()
    # The fixture's catch-up produced every file and read every message: nothing to produce
    # or read again, no asset event; the DAG lands the outputs, and nothing waits any more.
    assert states["announce_outputs"] == ["skipped"]
    caught_up = orchestration.task_results(run, "catch_up")[0]
    assert (caught_up["ran"], caught_up["produced"]) == (False, 0)
    landed = orchestration.task_results(run, "land")[0]
    assert landed["rows"] > 0
    assert landed["accounting"] == {"caught_up": True, "holds": True}
    lag = orchestration.task_results(run, "check_lag")[0]
    assert (lag["unread_source_messages"], lag["unlanded_messages"]) == (0, 0)
    ages = orchestration.task_results(run, "check_freshness")[0]["age_seconds"]
    # The day feeds the five part-1 marts; marts of topics the day does not carry stay idle.
    fed = {name for name, age in ages.items() if age is not None}
    assert {f"{mart}_log" for mart in PART_1_MARTS} <= fed


def test_offline_rollup_builds_gates_and_publishes_the_day(
    published: orchestration.LocalRun, airflow_settings: Settings, day_topics: Path
) -> None:
    assert published.succeeded, orchestration.describe(published)
    assert published.states()["publish"] == ["success"]
    builds = [f"build_{layer}" for layer in dbt.LAYERS]
    assert all(published.states()[task] == ["success"] for task in builds)

    ((day, result, suites, models, fingerprint),) = query_rows(
        airflow_settings,
        "SELECT day, quality_result, quality_suites, models, fingerprint "
        "FROM ads.publication_log FINAL WHERE day = {day:Date}",
        day=DAY,
    )
    assert (day, result) == (DAY, "passed") and suites > 0 and models > 0
    summary = orchestration.task_results(published, "publish")[0]
    assert summary["fingerprint"] == f"{fingerprint:016x}"

    # The day's offline marts equal the generator's ground truth, row count for row count.
    for mart, day_expression in DAILY_MARTS.items():
        expected = [
            json.loads(line)
            for line in (day_topics / "_expected" / f"{mart}.jsonl").read_text().splitlines()
        ]
        key = "attribution_date" if mart == "cc_daily_tracking" else None
        wanted = sum(1 for row in expected if key is None or row[key] == DAY.isoformat())
        ((rows,),) = query_rows(
            airflow_settings,
            f"SELECT count() FROM ads.{mart} WHERE {day_expression} = {{day:Date}}",
            day=DAY,
        )
        assert rows == wanted > 0, mart


def test_rerun_and_backfill_leave_the_day_identical(
    published: orchestration.LocalRun, airflow_settings: Settings
) -> None:
    assert published.succeeded, orchestration.describe(published)
    partition = DAY.strftime("%Y%m%d")
    first = partition_fingerprints(airflow_settings)
    day_partitions = {key: value for key, value in first.items() if key[1] == partition}
    assert {table for table, _ in day_partitions} >= set(DAILY_MARTS) - {"cc_daily_tracking"}

    backfill = orchestration.run_dag_locally("offline_rollup", DAY)  # builds the day before
    assert backfill.succeeded, orchestration.describe(backfill)
    after_backfill = partition_fingerprints(airflow_settings)
    assert {key: after_backfill.get(key) for key in day_partitions} == day_partitions

    rerun = orchestration.run_dag_locally("offline_rollup", DAY + timedelta(days=1))
    assert rerun.succeeded, orchestration.describe(rerun)
    assert partition_fingerprints(airflow_settings) == after_backfill

    published_days = dict(
        query_rows(
            airflow_settings, "SELECT day, count() FROM ads.publication_log FINAL GROUP BY day"
        )
    )
    assert published_days[DAY] == 1 and published_days[DAY - timedelta(days=1)] == 1


def test_data_quality_reconciles_and_runs_the_suites(
    published: orchestration.LocalRun, airflow_settings: Settings
) -> None:
    assert published.succeeded, orchestration.describe(published)
    run = orchestration.run_dag_locally("data_quality")
    assert run.succeeded, orchestration.describe(run)
    gate = orchestration.task_results(run, "suites")[0]
    assert gate["suites"] > 1 and gate["failed"] == []
