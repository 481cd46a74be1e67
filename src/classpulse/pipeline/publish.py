"""Publication of an offline day after the quality gate: fingerprints, log, reconciliation."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

from classpulse.config import Settings
from classpulse.pipeline.errors import StageError, timed

PUBLICATION_LOG_DDL = """
CREATE TABLE IF NOT EXISTS ads.publication_log
(
    day Date,
    published_at DateTime64(3, 'UTC') DEFAULT now64(3),
    run_id String,
    models UInt32,
    tests UInt32,
    quality_suites UInt32,
    quality_result LowCardinality(String),
    table_rows Map(String, UInt64),
    fingerprint UInt64
)
ENGINE = ReplacingMergeTree(published_at)
ORDER BY day
"""


def table_fingerprints(settings: Settings, database: str = "ads") -> dict[str, tuple[int, int]]:
    """Rows and an order-independent content hash of every table of ``database``.

    The hash is the wrapping sum of ``cityHash64`` over whole rows, so equal contents give
    equal hashes whatever the row or part order. Views and ``publication_log`` are skipped.
    """
    from classpulse.warehouse import get_client

    client = get_client(settings)
    tables = client.query(
        "SELECT name FROM system.tables WHERE database = {database:String} "
        "AND engine NOT IN ('View', 'MaterializedView') AND name != 'publication_log' "
        "AND NOT startsWith(name, '.') ORDER BY name",
        parameters={"database": database},
    ).result_rows
    fingerprints = {}
    for (name,) in tables:
        rows, digest = client.query(
            f"SELECT count(), coalesce(sum(cityHash64(*)), 0) FROM `{database}`.`{name}`"
        ).first_row
        fingerprints[str(name)] = (int(rows), int(digest))
    return fingerprints


def publish_day(
    settings: Settings,
    day: date,
    run_id: str,
    build_summary: dict[str, Any],
    quality_summary: dict[str, Any],
) -> dict[str, Any]:
    """Record that ``day``'s marts passed the gate: one row in ``ads.publication_log``.

    The row carries the day's build and gate figures and a fingerprint of the ads tables as
    published; re-publishing a day replaces its row (ReplacingMergeTree on the day).
    """
    import hashlib

    from classpulse.warehouse import get_client

    started = time.perf_counter()
    try:
        client = get_client(settings)
        client.command(PUBLICATION_LOG_DDL)
        fingerprints = table_fingerprints(settings, "ads")
        digest = hashlib.blake2b(
            json.dumps(sorted(fingerprints.items())).encode(), digest_size=8
        ).digest()
        fingerprint = int.from_bytes(digest, "big")
        quality_result = "failed" if quality_summary.get("failed") else "passed"
        client.query(
            "INSERT INTO ads.publication_log (day, run_id, models, tests, quality_suites, "
            "quality_result, table_rows, fingerprint) SELECT {day:Date}, {run_id:String}, "
            "{models:UInt32}, {tests:UInt32}, {suites:UInt32}, {result:String}, "
            "mapFromArrays({tables:Array(String)}, {rows:Array(UInt64)}), {fingerprint:UInt64}",
            parameters={
                "day": day,
                "run_id": run_id,
                "models": int(build_summary.get("models", 0)),
                "tests": int(build_summary.get("tests", 0)),
                "suites": int(quality_summary.get("suites", 0)),
                "result": quality_result,
                "tables": list(fingerprints),
                "rows": [rows for rows, _ in fingerprints.values()],
                "fingerprint": fingerprint,
            },
        )
    except Exception as exc:
        raise StageError(
            "publish", f"{type(exc).__name__}: {exc}", "check the warehouse, then clear the task"
        ) from None
    return timed(
        {
            "day": day.isoformat(),
            "tables": len(fingerprints),
            "rows": sum(rows for rows, _ in fingerprints.values()),
            "fingerprint": f"{fingerprint:016x}",
            "quality": quality_result,
        },
        started,
    )


def build_reconciliation(settings: Settings) -> dict[str, Any]:
    """Rebuild the rt views and ads.rt_vs_offline_reconciliation from what is landed now."""
    from classpulse.dbt import DbtError, run_dbt

    started = time.perf_counter()
    try:
        run = run_dbt(settings, ["build", "--select", "tag:rt", "rt_vs_offline_reconciliation"])
    except DbtError as exc:
        raise StageError("reconcile", str(exc), "fix the model or test named above") from None
    return timed(
        {
            "models": sum(1 for node in run.nodes if node.resource_type == "model"),
            "tests": sum(1 for node in run.nodes if node.resource_type == "test"),
        },
        started,
    )
