"""The pipeline's stages, one function each: what Airflow tasks, the demo and tests run.

Each stage takes :class:`Settings` (every endpoint comes from there), does one thing, and
returns a small JSON-able summary (Airflow keeps it as the task's XCom; the demo prints it).
A stage that fails raises :class:`StageError` naming the stage, why, and what to do.

    generate  → flink → load → preheat → build → quality → report

Every stage is safe to re-run: generation writes a fresh day, Flink rebuilds its outputs
from the topic files, landing is exactly-once, preheat publishes a new run, dbt replaces
partitions, quality only reads, the report is rewritten.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from classpulse.config import Settings


class StageError(RuntimeError):
    """A stage failed; the message says which stage, why, and what to do."""

    def __init__(self, stage: str, reason: str, remedy: str) -> None:
        super().__init__(f"[stage: {stage}] {reason}\n  what to do: {remedy}")
        self.stage = stage
        self.reason = reason
        self.remedy = remedy


Progress = Callable[[str], None]


def _timed(summary: dict[str, Any], started: float) -> dict[str, Any]:
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


def ensure_warehouse(settings: Settings) -> dict[str, Any]:
    """Start the embedded warehouse if it is the configured one and not answering."""
    from classpulse.warehouse import create_layer_databases, daemon, get_client

    started = time.perf_counter()
    answering = daemon.ping(settings.clickhouse_host, settings.clickhouse_port)
    if not answering and settings.is_embedded:
        try:
            daemon.start(settings)
        except daemon.WarehouseError as exc:
            raise StageError("warehouse", str(exc), "see `classpulse warehouse logs`") from None
    try:
        client = get_client(settings)
        create_layer_databases(client)
        version = client.server_version
    except Exception as exc:
        raise StageError(
            "warehouse",
            f"cannot use ClickHouse at {settings.clickhouse_url}: {exc}",
            "check CLASSPULSE_CLICKHOUSE_* (`classpulse doctor`)",
        ) from None
    return _timed(
        {"url": settings.clickhouse_url, "version": version, "started": not answering}, started
    )


def generate(
    settings: Settings,
    day: date,
    scale: float = 1.0,
    seed: int = 1,
    late_share: float = 0.002,
    topics_dir: Path | None = None,
) -> dict[str, Any]:
    """Write a simulated school day (contract topics + preheat inputs) as topic files."""
    from classpulse import generator, preheat_generator

    started = time.perf_counter()
    out = topics_dir or settings.topics_dir
    try:
        result = generator.generate(
            generator.GeneratorOptions(
                start=day, seed=seed, scale=scale, late_share=late_share, timezone=settings.timezone
            ),
            out,
            clean=True,
        )
        preheat_generator.generate(
            preheat_generator.PreheatGeneratorOptions(day=day, seed=seed, scale=scale), out
        )
    except generator.GeneratorError as exc:
        raise StageError("generate", str(exc), "check the generator options") from None
    topics = result.manifest["topics"]
    return _timed(
        {
            "topics_dir": str(out),
            "messages": result.messages,
            "rejected_planted": sum(t.get("rejected_total", 0) for t in topics.values()),
            "late_planted": sum(t.get("late_events", 0) for t in topics.values()),
        },
        started,
    )


def run_flink(
    settings: Settings, jobs: tuple[str, ...] = (), topics_dir: Path | None = None
) -> dict[str, Any]:
    """Run the Flink SQL jobs bounded over the topic files present (local topics)."""
    from classpulse.java import ensure_java_home

    started = time.perf_counter()
    try:
        ensure_java_home()
    except RuntimeError as exc:
        raise StageError("flink", str(exc), "run `make venv` or install OpenJDK 17") from None
    from classpulse.flink.runner import RunError, RunOptions, run_jobs

    try:
        result = run_jobs(
            RunOptions(jobs=jobs, topics_dir=topics_dir or settings.topics_dir), settings
        )
    except RunError as exc:
        raise StageError(
            "flink", str(exc), "see the job's error above; `classpulse flink run -h`"
        ) from None
    summary: dict[str, Any] = {"messages_read": result.messages_read, "waves": len(result.waves)}
    accounting = result.accounting
    if accounting is not None:
        summary["accounting_holds"] = bool(getattr(accounting, "holds", True))
    return _timed(summary, started)


def load(settings: Settings, topics_dir: Path | None = None) -> dict[str, Any]:
    """Land every new topic file into ClickHouse exactly once."""
    from classpulse.loader import LoadError, load_topics

    started = time.perf_counter()
    try:
        report = load_topics(settings, topics_dir)
    except LoadError as exc:
        raise StageError("load", str(exc), "fix the landing DDL or topic named above") from None
    except Exception as exc:
        raise StageError(
            "load",
            f"{type(exc).__name__}: {exc}",
            "check the warehouse (`classpulse warehouse status`)",
        ) from None
    return _timed(
        {
            "files": report.files_loaded,
            "rows": report.rows,
            "rows_per_second": round(report.rows_per_second),
            "replaced_topics": [t.topic for t in report.topics if t.generation_replaced],
        },
        started,
    )


def preheat(settings: Settings, day: date) -> dict[str, Any]:
    """Preheat the day's lessons (rooms, org trees, membership), check and publish."""
    from classpulse import preheat as engine

    started = time.perf_counter()
    try:
        report = engine.run_preheat(settings, day)
    except engine.PreheatError as exc:
        raise StageError("preheat", str(exc), "generate and land the preheat topics") from None
    return _timed(
        {
            "run_id": report.run_id,
            "lessons": len(report.lessons),
            "published": report.published_at is not None,
            "withheld": list(report.withheld),
            "findings": len(report.findings),
        },
        started,
    )


def build(
    settings: Settings, run_date: str | None = None, on_node: Callable[[Any], None] | None = None
) -> dict[str, Any]:
    """dbt build layer by layer (ods → dwd → dws → ads), then the metric roll-up."""
    from classpulse.dbt import DbtError, build_layers

    started = time.perf_counter()
    try:
        runs = build_layers(settings, run_date=run_date, on_node=on_node)
    except DbtError as exc:
        raise StageError(
            "build", str(exc), "fix the model or test named above, then re-run `classpulse build`"
        ) from None
    nodes = [node for run in runs for node in run.nodes]
    return _timed(
        {
            "models": sum(1 for n in nodes if n.resource_type == "model"),
            "tests": sum(1 for n in nodes if n.resource_type == "test"),
            "run_date": run_date or "all",
        },
        started,
    )


def quality(
    settings: Settings, layers: tuple[str, ...] = (), build_docs: bool = True
) -> dict[str, Any]:
    """Run the Great Expectations suites; fail the stage when a gate fails."""
    from classpulse.quality import SUITES_DIRECTORY, QualityError, run_quality, select_suite_files

    started = time.perf_counter()
    try:
        suites = (
            select_suite_files(settings.root / SUITES_DIRECTORY, layers=layers) if layers else None
        )
        report = run_quality(settings, suites, build_docs=build_docs)
    except QualityError as exc:
        raise StageError("quality", str(exc), "fix the suite file named above") from None
    summary = {
        "suites": len(report.results),
        "failed": [result.suite for result in report.failed],
        "docs": str(report.docs_index) if report.docs_index else None,
    }
    if not report.success:
        raise StageError(
            "quality",
            f"quality gate failed: {', '.join(summary['failed'])}",
            "open the Data Docs (the path is printed by `classpulse quality`) and fix the data or the suite",
        )
    return _timed(summary, started)
