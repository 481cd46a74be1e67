"""The real-time jobs as stages: catch-up or submission to a cluster, lag, freshness."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from classpulse.config import Settings
from classpulse.pipeline.errors import StageError, timed
from classpulse.pipeline.stages import run_flink

FLINK_JOBMANAGER_VARIABLE = "CLASSPULSE_FLINK_JOBMANAGER"


def flink_jobmanager() -> str | None:
    """``host:port`` of the Flink cluster's REST endpoint, when jobs run on a cluster."""
    return os.environ.get(FLINK_JOBMANAGER_VARIABLE) or None


def catch_up_flink(settings: Settings, topics_dir: Path | None = None) -> dict[str, Any]:
    """The realtime catch-up without a Flink cluster: new topic files into Kafka (once), then
    the pipeline up to the topics' ends (bounded, or waiting for the continuous one).

    ``ran`` says whether anything was read: nothing new was produced and the pipeline's group
    had no lag means the outputs are unchanged.
    """
    return run_flink(settings, topics_dir=topics_dir)


def _flink_rest(address: str, path: str) -> Any:
    from urllib.request import urlopen

    with urlopen(f"http://{address}{path}", timeout=10) as response:
        return json.load(response)


FLINK_SUBMIT_TIMEOUT_SECONDS = 600


def submit_flink(settings: Settings) -> dict[str, Any]:
    """A Flink cluster: submit the jobs (Kafka connectors) unless they are already running.

    Submission is ``classpulse flink run --env kafka --continuous`` in a subprocess (the
    compose stack's ``flink-jobs`` command), which returns once the jobs are submitted to
    ``CLASSPULSE_FLINK_JOBMANAGER`` (docs/production.md); the subprocess is bounded by
    :data:`FLINK_SUBMIT_TIMEOUT_SECONDS` so a client that keeps running fails the task
    instead of holding it.
    """
    import subprocess
    import sys

    started = time.perf_counter()
    address = flink_jobmanager()
    if address is None:
        raise StageError("flink", f"{FLINK_JOBMANAGER_VARIABLE} is not set", "set it to host:port")
    try:
        jobs = _flink_rest(address, "/jobs/overview").get("jobs", [])
    except OSError as exc:
        raise StageError(
            "flink", f"Flink at {address} does not answer: {exc}", "check the JobManager"
        ) from None
    running = sorted(
        job["name"]
        for job in jobs
        if job.get("state") == "RUNNING" and str(job.get("name", "")).startswith("classpulse")
    )
    if running:
        return timed({"submitted": False, "running": running}, started)
    command = [sys.executable, "-m", "classpulse.cli", "flink", "run"]
    command += ["--env", "kafka", "--continuous"]
    try:
        subprocess.run(command, check=True, timeout=FLINK_SUBMIT_TIMEOUT_SECONDS)
    except subprocess.CalledProcessError as exc:
        raise StageError(
            "flink", f"submitting the jobs failed (exit {exc.returncode})", "see the log above"
        ) from None
    except subprocess.TimeoutExpired:
        raise StageError(
            "flink",
            f"`classpulse flink run --env kafka --continuous` did not return within "
            f"{FLINK_SUBMIT_TIMEOUT_SECONDS} s: it must return once the jobs are submitted",
            f"check that the client submits to {FLINK_JOBMANAGER_VARIABLE}={address}",
        ) from None
    return timed({"submitted": True, "running": []}, started)


def _oldest_unread_age(settings: Settings, positions: list[Any], now: float) -> float:
    """Seconds since the oldest message not read yet (its Kafka timestamp) was written."""
    from confluent_kafka import Consumer, TopicPartition

    from classpulse.kafka.client import client_config

    waiting = [
        item
        for item in positions
        if item.end > max(item.committed if item.committed is not None else 0, item.start)
    ]
    if not waiting:
        return 0.0
    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap_servers,
            **{
                "group.id": "classpulse-lag-probe",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            },
        )
    )
    oldest = now
    try:
        for item in waiting:
            offset = max(item.committed if item.committed is not None else 0, item.start)
            consumer.assign([TopicPartition(item.topic, item.partition, offset)])
            message = consumer.poll(10.0)
            if message is not None and not message.error():
                kind, stamp = message.timestamp()
                if kind and stamp > 0:
                    oldest = min(oldest, stamp / 1000)
    finally:
        consumer.close()
    return max(now - oldest, 0.0)


def check_flink_lag(settings: Settings, max_lag_seconds: float) -> dict[str, Any]:
    """How long the oldest message has waited for the real-time path; fail beyond the limit.

    Kafka, by offsets: the source messages the pipeline's consumer group has not read, and the
    output messages the landing group has not landed, aged by the Kafka timestamp of the oldest
    of them; whether the continuous job runs is reported (bounded catch-ups need none). A Flink
    cluster (``CLASSPULSE_FLINK_JOBMANAGER``): every classpulse job RUNNING, aged by its last
    completed checkpoint.
    """
    started = time.perf_counter()
    now = time.time()
    address = flink_jobmanager()
    if address is not None:
        jobs = [
            job
            for job in _flink_rest(address, "/jobs/overview").get("jobs", [])
            if str(job.get("name", "")).startswith("classpulse")
        ]
        if not any(job.get("state") == "RUNNING" for job in jobs):
            raise StageError("lag", f"no classpulse job is RUNNING on {address}", "submit the jobs")
        ages = {}
        for job in jobs:
            if job.get("state") != "RUNNING":
                continue
            latest = _flink_rest(address, f"/jobs/{job['jid']}/checkpoints").get("latest", {})
            acked = (latest.get("completed") or {}).get("latest_ack_timestamp")
            ages[job["name"]] = round(now - acked / 1000, 1) if acked else None
        lag = max((age for age in ages.values() if age is not None), default=None)
        summary: dict[str, Any] = {"mode": "cluster", "checkpoint_age_seconds": ages}
    else:
        from classpulse.flink import pipeline as streaming
        from classpulse.kafka.accounting import group_positions, pipeline_group
        from classpulse.kafka.client import KafkaUnavailable
        from classpulse.kafka.landing import DEFAULT_GROUP
        from classpulse.loader import read_landing_tables

        try:
            sources, _, _ = streaming.pipeline_topics(settings)
            pipeline = group_positions(settings, pipeline_group(settings), sources)
            landing = group_positions(
                settings,
                DEFAULT_GROUP,
                sorted({table.topic for table in read_landing_tables(settings.root)}),
            )
            age = max(
                _oldest_unread_age(settings, pipeline, now),
                _oldest_unread_age(settings, landing, now),
            )
        except KafkaUnavailable as exc:
            raise StageError(
                "lag", str(exc), "start the broker (`classpulse kafka start`)"
            ) from None

        def behind(positions: list[Any]) -> int:
            return sum(
                max(item.end - max(item.committed or 0, item.start), 0) for item in positions
            )

        lag = round(age, 1)
        summary = {
            "mode": "kafka",
            "continuous_job_running": streaming.status(settings).running,
            "unread_source_messages": behind(pipeline),
            "unlanded_messages": behind(landing),
        }
    summary["lag_seconds"] = lag
    if lag is not None and lag > max_lag_seconds:
        raise StageError(
            "lag",
            f"the real-time path is {lag:.0f} s behind (limit {max_lag_seconds:.0f} s): {summary}",
            "see the realtime_jobs catch-up task's log (`classpulse flink status`, "
            "`classpulse status`) or the Flink UI (cluster)",
        )
    return timed(summary, started)


def check_freshness(settings: Settings, max_age_seconds: float) -> dict[str, Any]:
    """Seconds since the newest row landed in each real-time mart log; fail beyond the limit."""
    from classpulse.warehouse import get_client

    started = time.perf_counter()
    client = get_client(settings)
    tables = [
        str(row[0])
        for row in client.query(
            "SELECT name FROM system.tables WHERE database = 'rt' AND endsWith(name, '_log') "
            "ORDER BY name"
        ).result_rows
    ]
    ages: dict[str, float | None] = {}
    for table in tables:
        rows, age = client.query(
            f"SELECT count(), dateDiff('millisecond', max(landed_at), now64(3)) / 1000 "
            f"FROM rt.`{table}`"
        ).first_row
        ages[table] = round(float(age), 1) if rows else None
    # An empty mart is stale only if events were fed to it: a mart whose topics carried
    # nothing (bring-your-own data with only some topics) is idle, not late.
    fed = {
        f"{row[0]}_log"
        for row in client.query(
            "SELECT mart FROM ods.mart_accounting_log GROUP BY mart HAVING max(events_in) > 0"
        ).result_rows
    }
    stale = [
        f"rt.{table} ({'empty' if age is None else f'{age:.0f} s'})"
        for table, age in ages.items()
        if (age is None and table in fed) or (age is not None and age > max_age_seconds)
    ]
    if not tables or all(age is None for age in ages.values()) or stale:
        raise StageError(
            "freshness",
            f"real-time marts older than {max_age_seconds:.0f} s or empty: "
            + (", ".join(stale) or "no rt.*_log table"),
            "run the realtime_jobs DAG (or check the Flink jobs and the Kafka feeds)",
        )
    return timed({"age_seconds": ages}, started)
