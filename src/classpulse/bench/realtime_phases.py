"""One run of each real-time throughput measurement: Flink bounded and sustained, landing, chDB."""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from classpulse.bench.realtime_setup import RealtimeOptions, fresh_landing_tables, recreate_topics
from classpulse.config import Settings


def run_flink(
    settings: Settings, session: Any, tag: str, options: RealtimeOptions, console: Any = None
) -> tuple[float, list[float], list[float]]:
    """Every job, bounded at the topics' current ends, exactly once; (seconds from the first
    submission to the last commit, table registration excluded; seconds of each Flink job the
    runner submitted, when it says: bounded, the cleaning and the marts are two; the planning
    part of each, see :func:`stage_seconds`)."""
    from classpulse.flink import pipeline

    started = time.perf_counter()
    result = pipeline.run_bounded(
        settings,
        group=f"bench-flink-{tag}",
        variables={**dict(options.variables), "KAFKA_TRANSACTIONAL_ID_PREFIX": f"bench-{tag}"},
        parallelism=options.parallelism,
        session=session,
        console=console,
    )
    wall = time.perf_counter() - started
    parts, planning = stage_seconds(result)
    if sum(parts) > 0:
        return sum(parts), parts, planning
    return wall - float(getattr(result, "startup_seconds", 0.0)), [], []


def stage_seconds(result: Any) -> tuple[list[float], list[float]]:
    """Seconds of each Flink job a run submitted, and of each the part before its submission
    returned (planning, code generation, submission: ``StageResult.planning_seconds``), which a
    continuous job pays once and a bounded run again every time."""
    stages = getattr(result, "stages", None) or []
    return (
        [float(stage.seconds or 0.0) for stage in stages],
        [float(stage.planning_seconds or 0.0) for stage in stages],
    )


def without_planning(seconds: list[float], planning: list[float]) -> list[float]:
    """Each round's seconds less its planning (rounds paired in order)."""
    return [total - part for total, part in zip(seconds, planning, strict=False)]


def run_flink_sustained(
    settings: Settings, session: Any, options: RealtimeOptions, report: Any, log: Callable
) -> Any:
    """The continuous job on the day already in Kafka (see classpulse.bench.sustained)."""
    from classpulse.bench.sustained import measure_sustained
    from classpulse.flink import pipeline

    _, middle, outputs = pipeline.pipeline_topics(settings)
    recreate_topics(settings, [*middle, *outputs])
    log("sustained: the continuous job on the produced backlog…")
    result = measure_sustained(
        settings,
        session,
        uuid.uuid4().hex[:6],
        report.messages,
        options.parallelism,
        dict(options.variables),
        log,
    )
    shown = [
        f"{name} {value:,.0f} msg/s" if value else f"{name} –"
        for name, value in (
            ("cleaning", result.first_stage_per_second),
            ("marts", result.later_stage_per_second),
        )
    ]
    log(f"sustained (10%..90% of the backlog): {', '.join(shown)}")
    return result


def run_landing(
    settings: Settings, tag: str, on_batch: Callable[[Any], None] | None = None
) -> tuple[float, dict[str, int]]:
    """Every landing topic into fresh tables with a fresh group; (seconds, rows per table)."""
    from classpulse.kafka.landing import land_from_kafka

    fresh_landing_tables(settings)
    report = land_from_kafka(
        settings, group=f"bench-landing-{tag}", timeout_s=3600, on_batch=on_batch
    )
    return report.seconds, dict(report.rows)


def chdb_structure(topics_dir: Path, topic: str, sample: int = 2000) -> str:
    """The columns ClickHouse infers from the topic's first valid lines (inference over the
    files themselves stops at the first malformed line)."""
    import chdb

    lines: list[str] = []
    for path in sorted((topics_dir / topic).glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    if isinstance(json.loads(line), dict):
                        lines.append(line.strip())
                except ValueError:
                    continue
                if len(lines) >= sample:
                    break
        if len(lines) >= sample:
            break
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as sample_file:
        sample_file.write("\n".join(lines))
        sample_file.flush()
        described = chdb.query(
            "DESCRIBE file({path:String}, 'JSONEachRow')",
            "TabSeparated",
            params={"path": sample_file.name},
        )
    columns = [row.split("\t")[:2] for row in str(described).strip().splitlines()]
    return ", ".join(f"`{name.replace('`', '``')}` {kind}" for name, kind in columns)


def chdb_parse(topics_dir: Path, topics: list[str], structures: dict[str, str]) -> float:
    """Seconds for the ClickHouse engine to parse every raw line as JSONEachRow into the
    inferred columns (malformed and mistyped lines skipped, as errors)."""
    import chdb

    started = time.perf_counter()
    for topic in topics:
        chdb.query(
            "SELECT * FROM file({pattern:String}, 'JSONEachRow', {structure:String}) SETTINGS "
            "input_format_allow_errors_ratio = 1, input_format_allow_errors_num = 1000000000, "
            "input_format_skip_unknown_fields = 1",
            "Null",
            params={"pattern": str(topics_dir / topic / "*.jsonl"), "structure": structures[topic]},
        )
    return time.perf_counter() - started
