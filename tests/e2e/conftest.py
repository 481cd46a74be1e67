"""One generated day run through the real pipeline (produced into the session's Kafka broker,
the streaming pipeline on a Flink mini-cluster, landing from Kafka, dbt), shared by the
end-to-end tests. The day lands into a warehouse of its own: the tests compare whole tables
(and the accounting by offsets) with the generator's ground truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from kafka_helpers import free_port, run_settings, truncate_topics

from classpulse import pipeline
from classpulse.config import Settings
from classpulse.warehouse import daemon

DAY = date(2026, 11, 20)


@dataclass(frozen=True)
class PipelineDay:
    settings: Settings
    day: date
    manifest: dict
    stages: dict[str, dict]

    @property
    def topics(self) -> Path:
        return self.settings.topics_dir

    def expected(self, mart: str) -> list[dict]:
        path = self.topics / "_expected" / f"{mart}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line]


def run_day(settings: Settings, scale: float, seed: int, late_share: float) -> PipelineDay:
    stages = {
        "generate": pipeline.generate(settings, DAY, scale=scale, seed=seed, late_share=late_share),
        "produce": pipeline.produce(settings),
        "flink": pipeline.run_flink(settings),
        "load": pipeline.load(settings),
        "build": pipeline.build(settings),
    }
    manifest = json.loads((settings.topics_dir / "_manifest.json").read_text())
    return PipelineDay(settings, DAY, manifest, stages)


@pytest.fixture(scope="session")
def pipeline_day(
    warehouse: Settings, kafka_broker: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PipelineDay]:
    """A small day with every kind of bad input and late events, through the whole pipeline.

    The session's broker starts empty for it (every topic truncated, as ``empty_kafka`` does);
    the warehouse is a server of its own (same settings as the session's, another path and
    port), stopped afterwards.
    """
    root = tmp_path_factory.mktemp("pipeline_day")
    truncate_topics(kafka_broker)
    settings = run_settings(
        warehouse,
        kafka_broker,
        root,
        warehouse_path=root / "warehouse",
        clickhouse_port=free_port(),
        home=root / "var",
    )
    daemon.start(settings)
    try:
        yield run_day(settings, scale=0.3, seed=11, late_share=0.004)
    finally:
        daemon.stop(settings)
