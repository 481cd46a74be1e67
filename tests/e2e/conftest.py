"""One generated day run through the real pipeline (Flink mini-cluster, landing, dbt),
shared by the end-to-end tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest

from classpulse import pipeline
from classpulse.config import Settings

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
        "flink": pipeline.run_flink(settings),
        "load": pipeline.load(settings),
        "build": pipeline.build(settings),
    }
    manifest = json.loads((settings.topics_dir / "_manifest.json").read_text())
    return PipelineDay(settings, DAY, manifest, stages)


@pytest.fixture(scope="session")
def pipeline_day(
    warehouse: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PipelineDay]:
    """A small day with every kind of bad input and late events, through the whole pipeline."""
    root = tmp_path_factory.mktemp("pipeline_day")
    settings = replace(warehouse, topics_dir=root / "topics", home=root / "var")
    yield run_day(settings, scale=0.3, seed=11, late_share=0.004)
