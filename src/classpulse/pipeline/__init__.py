"""The pipeline's stages, one function each: what Airflow tasks, the demo and tests run.

Each stage takes :class:`Settings` (every endpoint comes from there), does one thing, and
returns a small JSON-able summary (Airflow keeps it as the task's XCom; the demo prints it).
A stage that fails raises :class:`StageError` naming the stage, why, and what to do.

    generate  → (produce) → flink → load → preheat → build → quality → report

Kafka is the only transport: topic files are an import format, produced into Kafka once
(:func:`produce`); the Flink pipeline reads and writes Kafka topics; the landing lands them.

Every stage is safe to re-run: generation writes a fresh day, a file is produced into Kafka
once, the pipeline reads from its group's committed offsets, landing is exactly-once, preheat
publishes a new run, dbt replaces partitions, quality only reads, the report is rewritten.

Modules: :mod:`.errors` (StageError), :mod:`.stages` (the offline day), :mod:`.batches`
(preheat batch by batch), :mod:`.publish` (publication of a day), :mod:`.realtime` (the
real-time jobs: catch-up, submission, lag, freshness).
"""

from classpulse.pipeline.batches import (
    apply_preheat_changes,
    check_group,
    group_batches,
    plan_preheat,
    preheat_group,
    publish_preheat,
    report_preheat,
)
from classpulse.pipeline.errors import StageError
from classpulse.pipeline.publish import build_reconciliation, publish_day
from classpulse.pipeline.realtime import (
    FLINK_JOBMANAGER_VARIABLE,
    catch_up_flink,
    check_flink_lag,
    check_freshness,
    flink_jobmanager,
    submit_flink,
)
from classpulse.pipeline.stages import (
    build,
    ensure_kafka,
    ensure_warehouse,
    generate,
    load,
    preheat,
    produce,
    quality,
    run_flink,
    start_from_empty_topics,
)

__all__ = [
    "FLINK_JOBMANAGER_VARIABLE",
    "StageError",
    "apply_preheat_changes",
    "build",
    "build_reconciliation",
    "catch_up_flink",
    "check_flink_lag",
    "check_freshness",
    "check_group",
    "ensure_kafka",
    "ensure_warehouse",
    "flink_jobmanager",
    "generate",
    "group_batches",
    "load",
    "plan_preheat",
    "preheat",
    "preheat_group",
    "produce",
    "publish_day",
    "publish_preheat",
    "quality",
    "report_preheat",
    "run_flink",
    "start_from_empty_topics",
    "submit_flink",
]
