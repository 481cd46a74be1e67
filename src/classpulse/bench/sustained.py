"""The continuous pipeline's sustained rate on a backlog (issue 10, beside the bounded figure).

A bounded run pays per run what a running pipeline pays once: planning the statement sets,
starting a mini-cluster and deploying the tasks per stage, the final checkpoint, and the marts
starting only after the cleaning has committed. On a few hundred thousand messages those fixed
costs are most of the bounded figure, so the benchmark also reports the rate of a *running* job:
every job as one continuous Flink job (the cleaning and the marts running side by side, exactly
once, checkpoints committing the transactions), started on the day already produced into Kafka
with a group of its own. The mini-cluster's REST metrics give the records its sources have read
(``<subtask>.Source__<table>.numRecordsOut``); sampled over time, the rate is taken between 10 %
and 90 % of the backlog, so the start (planning, deploying) and the tail are outside it. The
marts' sources (the clean topics, visible to them when a checkpoint commits) are measured the
same way, between 10 % and 90 % of what they read in the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from classpulse.config import Settings


@dataclass
class SustainedResult:
    backlog: int  # source messages waiting when the job started
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (s, first, later)
    first_stage_per_second: float | None = None  # cleaning sources, 10 % .. 90 % of backlog
    later_stage_per_second: float | None = None  # mart sources (clean topics), 10 % .. 90 %
    later_rows: int = 0  # records the mart sources read in the end
    caught_up_seconds: float | None = None  # from submission until everything was read
    submitted_to_first_record_seconds: float | None = None


def rate_between(samples: list[tuple[float, int]], total: int) -> float | None:
    """Records per second between the first samples at or above 10 % and 90 % of ``total``."""
    if total <= 0:
        return None
    low = next((sample for sample in samples if sample[1] >= 0.1 * total), None)
    high = next((sample for sample in samples if sample[1] >= 0.9 * total), None)
    if low is None or high is None or high[0] <= low[0]:
        return None
    return (high[1] - low[1]) / (high[0] - low[0])


def measure_sustained(
    settings: Settings,
    session: Any,
    tag: str,
    backlog: int,
    parallelism: int,
    variables: dict[str, str] | None = None,
    log: Callable[[str], None] = lambda text: None,
    config: dict[str, str] | None = None,
    timeout_s: float = 1800.0,
    quiet_s: float = 6.0,
) -> SustainedResult:
    """Run every job continuously on the produced backlog until all of it (and every clean row
    the cleaning committed) was read, sampling the sources; then stop the job (savepoint)."""
    from classpulse.flink import pipeline
    from classpulse.flink.runner import RunOptions, SourceRecords, load_catalog, run_jobs
    from classpulse.flink.sqlfiles import plan_stages

    catalog = load_catalog(settings.root, "kafka")
    first_tables = set().union(*(job.inputs for job in plan_stages(catalog.jobs)[0]))
    result = SustainedResult(backlog)
    stop = threading.Event()
    submitted: list[tuple[str, float]] = []
    errors: list[BaseException] = []

    def watch() -> None:
        try:
            while not submitted and not stop.is_set():
                time.sleep(0.2)
            if stop.is_set():
                return
            job_id, started = submitted[0]
            counter = SourceRecords(session.rest_host, session.rest_port, job_id)
            last_change = time.perf_counter()
            last_later = -1
            while not stop.is_set():
                counts = counter.read()
                now = time.perf_counter()
                if counts is not None:
                    first = sum(n for table, n in counts.items() if table in first_tables)
                    later = sum(n for table, n in counts.items() if table not in first_tables)
                    result.samples.append((now - started, first, later))
                    if first and result.submitted_to_first_record_seconds is None:
                        result.submitted_to_first_record_seconds = now - started
                    if later != last_later:
                        last_later, last_change = later, now
                    # all read, and the marts' sources saw nothing new for a few checkpoints
                    if first >= backlog and now - last_change >= quiet_s:
                        result.caught_up_seconds = last_change - started
                        break
                if now - started > timeout_s:
                    log(f"sustained: not caught up after {timeout_s:.0f} s; stopping")
                    break
                time.sleep(0.25)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            stop.set()

    watcher = threading.Thread(target=watch, name="sustained-watch", daemon=True)
    watcher.start()
    group = f"bench-sustained-{tag}"
    try:
        run_jobs(
            RunOptions(
                env="kafka",
                bounded=False,
                variables={
                    "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
                    "KAFKA_GROUP_ID": group,
                    "KAFKA_TRANSACTIONAL_ID_PREFIX": f"bench-sustained-{tag}",
                    **(variables or {}),
                },
                parallelism=parallelism,
                checkpoint_interval="1 s",  # the marts see clean rows when a checkpoint commits
                config=dict(config or {}),
                one_sink_per_table=one_sink_per_table,
                jars=pipeline.kafka_jars(),
            ),
            settings,
            session=session,
            stop=stop,
            on_submit=lambda job_id: submitted.append((job_id, time.perf_counter())),
        )
    finally:
        stop.set()
        watcher.join(30)
    if errors:
        raise errors[0]
    result.first_stage_per_second = rate_between([(t, f) for t, f, _ in result.samples], backlog)
    result.later_rows = max((later for _, _, later in result.samples), default=0)
    result.later_stage_per_second = rate_between(
        [(t, later) for t, _, later in result.samples], result.later_rows
    )
    return result
