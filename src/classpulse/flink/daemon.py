"""The continuous pipeline's process: one local mini-cluster running the Kafka job until SIGTERM.

Started by ``classpulse.flink.pipeline.start`` (``python -m classpulse.flink.daemon SPEC``), which
reads the pid and this process's state file. SIGTERM stops the job with a savepoint; a kill
leaves the last retained checkpoint, from which the next start resumes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

from classpulse.config import load_settings
from classpulse.flink.pipeline import JOB_NAME_PREFIX, PipelineFiles, kafka_jars
from classpulse.flink.pipeline.files import write_json
from classpulse.flink.runner import RunOptions, StageResult, run_jobs
from classpulse.flink.session import FlinkSession, SessionOptions


def main(spec: dict) -> int:
    files = PipelineFiles(Path(spec["root"]))
    settings = load_settings()
    identity = spec["identity"]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    config = {
        # checkpoints outlive a cancel (and a kill): the next start resumes from the newest
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": "2",
        # a broker outage fails checkpoints and tasks: restart from the last checkpoint in the
        # same process instead of ending the job
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff": "1 s",
        "restart-strategy.exponential-delay.max-backoff": "30 s",
        "execution.checkpointing.tolerable-failed-checkpoints": "10",
    }
    if spec.get("restore"):
        config["execution.savepoint.path"] = Path(spec["restore"]).resolve().as_uri()
    variables = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KAFKA_GROUP_ID": identity["group_id"],
        "KAFKA_TRANSACTIONAL_ID_PREFIX": identity["transactional_id_prefix"],
        **spec.get("variables", {}),
    }
    options = RunOptions(
        env="kafka",
        bounded=False,
        jobs=tuple(spec.get("jobs", ())),
        variables=variables,
        parallelism=int(spec.get("parallelism", 2)),
        checkpoint_interval=spec.get("checkpoint_interval", "5 s"),
        config=config,
        jars=kafka_jars(),
    )
    session = FlinkSession(
        SessionOptions(
            parallelism=options.parallelism, jars=options.jars, timezone=settings.timezone
        )
    )

    def on_submit(job_id: str) -> None:
        write_json(
            files.state_file,
            {
                "pid": os.getpid(),
                "job_id": job_id,
                "rest_port": session.rest_port,
                "run_id": identity["run_id"],
                "restored_from": spec.get("restore"),
                "job_name": JOB_NAME_PREFIX,
            },
        )
        print(f"job {job_id} running (restored from {spec.get('restore')})", flush=True)

    def on_wave(wave: StageResult) -> None:
        print(f"job {wave.job_id} ended", flush=True)

    run_jobs(
        options,
        settings,
        session=session,
        on_wave=on_wave,
        on_submit=on_submit,
        stop=stop,
        checkpoint_dir=files.checkpoints,
        savepoint_dir=files.savepoints,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
