"""Fixtures for the report's tests: one simulated day through the real pipeline, once.

A warehouse of the report's own gets a small day (scale 0.3) generated, produced into the
session's Kafka broker (emptied first), run through the streaming pipeline, landed from
Kafka, preheated and built by dbt, exactly as ``classpulse run`` does; the report then
renders from those marts. The day is yesterday (business time zone): the real-time mart logs keep
30 days (TTL), so an older day would land no real-time rows. An empty server of the tests'
own covers the "no data" path.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client
from kafka_helpers import free_port, run_settings, truncate_topics
from warehouse_helpers import running_warehouse, warehouse_settings

from classpulse import pipeline
from classpulse.classroom_help.generator import LabelsOptions, generate_labels_day
from classpulse.config import Settings, warehouse_environment
from classpulse.report import write_report
from classpulse.warehouse import daemon

SCALE = 0.3
SEED = 7


@pytest.fixture(scope="session")
def report_day(warehouse: Settings) -> date:
    """The generated business day: yesterday in the business time zone."""
    return datetime.now(ZoneInfo(warehouse.timezone)).date() - timedelta(days=1)


@pytest.fixture(scope="session")
def report_settings(
    warehouse: Settings,
    kafka_broker: Settings,
    report_day: date,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Settings]:
    """A warehouse of its own holding one generated day, through every pipeline stage."""
    base = tmp_path_factory.mktemp("report-pipeline")
    truncate_topics(kafka_broker)  # the day alone in the topics, as `empty_kafka` does
    settings = run_settings(
        warehouse,
        kafka_broker,
        base,
        warehouse_path=base / "warehouse",
        clickhouse_port=free_port(),
    )
    pipeline.ensure_warehouse(settings)
    try:
        pipeline.generate(settings, report_day, scale=SCALE, seed=SEED)
        # a few live-classroom lessons, for the help-triage section
        generate_labels_day(
            LabelsOptions(day=report_day, seed=SEED, lessons=12, lesson_minutes=5),
            settings.topics_dir,
        )
        try:
            pipeline.run_flink(settings)
        except pipeline.StageError as exc:
            # The report must still render from what landed (the rt marts are then empty);
            # the pipeline's own tests own that failure.
            warnings.warn(f"Flink stage failed, rt marts may be empty: {exc}", stacklevel=1)
        pipeline.load(settings)
        pipeline.preheat(settings, report_day)
        pipeline.build(settings)
        yield settings
    finally:
        daemon.stop(settings)


@pytest.fixture(scope="session")
def report_client(report_settings: Settings) -> Iterator[Client]:
    with clickhouse_connect.get_client(**report_settings.client_kwargs()) as client:
        yield client


@pytest.fixture
def report_environment(report_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The report day's warehouse named in the environment, for a CLI run in-process."""
    for name, value in warehouse_environment(report_settings).items():
        monkeypatch.setenv(name, value)
    return report_settings


@pytest.fixture(scope="module")
def report_page(
    report_settings: Settings, report_day: date, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The report of the generated day."""
    out = write_report(
        report_settings, tmp_path_factory.mktemp("report") / "index.html", report_day
    )
    return out.read_text(encoding="utf-8")


@pytest.fixture
def empty_warehouse(tmp_path: Path) -> Iterator[Settings]:
    """A fresh server of the test's own: no layer databases, no tables."""
    settings = replace(warehouse_settings(tmp_path / "data"), home=tmp_path / "home")
    with running_warehouse(settings):
        yield settings
