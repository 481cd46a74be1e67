"""The pipeline bounded at the topics' current ends, in two stages, exactly once; the Kafka jars."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from classpulse.config import Settings, load_settings


def run_bounded(
    settings: Settings | None = None,
    *,
    jobs: Sequence[str] = (),
    group: str | None = None,
    variables: Mapping[str, str] | None = None,
    parallelism: int = 2,
    console: Any = None,
    session: Any = None,
    config: Mapping[str, str] | None = None,
    checkpoint_at_end_of_input: bool = False,
) -> Any:
    """Read every source topic up to its end offset at start and stop (``latest-offset``).

    Returns the runner's ``RunResult``. Offsets are committed to ``group`` (default: a new one
    per run, so a bounded run reads every topic from its start). ``config``: extra Flink
    configuration for this run (e.g. ``table.exec.mini-batch.enabled``).
    """
    from classpulse.flink.runner import RunOptions, run_jobs

    settings = settings or load_settings()
    group = group or f"classpulse-bounded-{uuid.uuid4().hex[:8]}"
    run_id = uuid.uuid4().hex[:8]
    merged = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KAFKA_GROUP_ID": group,
        "KAFKA_TRANSACTIONAL_ID_PREFIX": f"classpulse-bounded-{run_id}",
        **dict(variables or {}),
    }
    options = RunOptions(
        env="kafka",
        bounded=True,
        jobs=tuple(jobs),
        variables=merged,
        parallelism=parallelism,
        jars=kafka_jars(),
        checkpoint_interval="10 s",
        config=dict(config or {}),
        checkpoint_at_end_of_input=checkpoint_at_end_of_input,
    )
    return run_jobs(options, settings, session=session, console=console)


def kafka_jars() -> tuple[str, ...]:
    """The connector jars a local session needs (CLASSPULSE_FLINK_JARS, else .cache/jvm)."""
    configured = tuple(
        jar for jar in os.environ.get("CLASSPULSE_FLINK_JARS", "").split(";") if jar.strip()
    )
    if configured:
        return configured
    from classpulse.jvm import flink_kafka_connector_jar

    return (flink_kafka_connector_jar().as_uri(),)
