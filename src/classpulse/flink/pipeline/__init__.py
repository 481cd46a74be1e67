"""The streaming pipeline's public entry points: start, stop, status, lag, run_bounded.

One Flink job (one STATEMENT SET: cleaning, rejected messages, late events, accounting and the
five marts) reads the Kafka source topics and writes every output topic exactly once
(checkpoints + Kafka transactions; readers are read_committed). The SQL is the same in both
modes; only the connector options the runner adds differ:

* continuous (``start``): a long-running process (``python -m classpulse.flink.daemon``) owns a
  local mini-cluster; pid, log and state live under ``<home>/flink/stream/``. Checkpoints go to
  ``<home>/flink/stream/checkpoints`` and are retained on cancellation; ``start`` resumes from
  the newest checkpoint or savepoint (``execution.savepoint.path``) with the transactional-id
  prefix and consumer group of the run it resumes, and a fresh start gets new ones. ``stop``
  stops with a savepoint (SIGTERM to the process), or kills it after ``timeout`` (the next start
  resumes from the last checkpoint). With ``CLASSPULSE_FLINK_JOBMANAGER`` the job is submitted
  to that cluster instead and managed through its REST API.
* bounded (``run_bounded``): ``scan.bounded.mode = latest-offset`` on every source, in two
  stages (cleaning, then the marts that read the cleaning topics): a bounded source fixes its
  stopping offsets when it starts, so a mart reading a topic written by the same job would stop
  before the cleaning wrote anything.

``lag`` is consumer lag by offsets: end offset minus the offset the pipeline's consumer group
committed (Flink commits on every completed checkpoint), per topic the job reads.

Signatures here are stable; other modules (status, bench, DAGs) build on them.

Modules: :mod:`.files` (state files, run identity, restore point), :mod:`.topics`,
:mod:`.process` (start, stop, kill, status), :mod:`.lag`, :mod:`.bounded`.
"""

from classpulse.flink.pipeline.bounded import kafka_jars, run_bounded
from classpulse.flink.pipeline.files import (
    JOB_NAME_PREFIX,
    JOBMANAGER_VARIABLE,
    PipelineError,
    PipelineFiles,
    files_for,
)
from classpulse.flink.pipeline.lag import lag, wait_caught_up
from classpulse.flink.pipeline.process import kill, start, status, stop
from classpulse.flink.pipeline.topics import create_topics, pipeline_topics

__all__ = [
    "JOBMANAGER_VARIABLE",
    "JOB_NAME_PREFIX",
    "PipelineError",
    "PipelineFiles",
    "create_topics",
    "files_for",
    "kafka_jars",
    "kill",
    "lag",
    "pipeline_topics",
    "run_bounded",
    "start",
    "status",
    "stop",
    "wait_caught_up",
]
