"""Helpers of the Flink tests: run the jobs in a test's own directories, read and resolve outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from classpulse.config import Settings, load_settings
from classpulse.flink.runner import RunOptions, RunResult, run_jobs
from classpulse.flink.session import FlinkSession


def settings_for(home: Path, topics: Path) -> Settings:
    """Settings of a test's own home and topics root (the user's environment is ignored)."""
    return load_settings({"CLASSPULSE_HOME": str(home), "CLASSPULSE_TOPICS_DIR": str(topics)})


def run_all(
    session: FlinkSession,
    home: Path,
    topics: Path,
    jobs: tuple[str, ...] = (),
    config: dict[str, str] | None = None,
    **variables: str,
) -> RunResult:
    return run_jobs(
        RunOptions(jobs=jobs, topics_dir=topics, variables=variables, config=config or {}),
        settings=settings_for(home, topics),
        session=session,
    )


def read_topic(topics: Path, topic: str) -> list[dict[str, Any]]:
    """Rows of the complete files of an output topic (hidden in-progress files skipped)."""
    rows: list[dict[str, Any]] = []
    directory = topics / topic
    if not directory.is_dir():
        return rows
    for path in sorted(directory.iterdir()):
        if path.is_file() and not path.name.startswith((".", "_")):
            rows.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    return rows


def latest_versions(rows: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple, dict]:
    """Resolve an upsert log as ReplacingMergeTree(version, is_deleted) does."""
    latest: dict[tuple, dict] = {}
    for row in rows:
        identity = tuple(row[column] for column in key)
        if identity not in latest or row["version"] > latest[identity]["version"]:
            latest[identity] = row
    return {identity: row for identity, row in latest.items() if not row["is_deleted"]}
