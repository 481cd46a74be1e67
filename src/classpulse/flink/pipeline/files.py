"""Where a pipeline keeps its state: its files, run identity and newest restore point, errors."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classpulse.config import Settings

JOBMANAGER_VARIABLE = "CLASSPULSE_FLINK_JOBMANAGER"
JOB_NAME_PREFIX = "classpulse flink"
CHECKPOINT_INTERVAL = "5 s"


class PipelineError(RuntimeError):
    """The pipeline cannot be started, stopped or inspected, with what to do about it."""


@dataclass(frozen=True)
class PipelineFiles:
    root: Path

    @property
    def pid_file(self) -> Path:
        return self.root / "pipeline.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "pipeline.log"

    @property
    def state_file(self) -> Path:  # written by the daemon: job id, REST port, run identity
        return self.root / "pipeline.json"

    @property
    def run_file(self) -> Path:  # the run identity a restore keeps (prefix, group)
        return self.root / "run.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def savepoints(self) -> Path:
        return self.root / "savepoints"


def files_for(settings: Settings) -> PipelineFiles:
    return PipelineFiles(settings.home / "flink" / "stream")


def jobmanager() -> str | None:
    return os.environ.get(JOBMANAGER_VARIABLE) or None


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_json(path: Path, value: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, indent=2, sort_keys=True))
    temporary.replace(path)


def latest_restore_point(files: PipelineFiles) -> Path | None:
    """The newest completed checkpoint or savepoint (a directory holding ``_metadata``)."""
    candidates = [
        *files.checkpoints.glob("*/chk-*/_metadata"),
        *files.savepoints.glob("*/_metadata"),
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda path: path.stat().st_mtime).parent


def run_identity(files: PipelineFiles, fresh: bool, group: str | None = None) -> dict[str, str]:
    """The run id, transactional-id prefix and consumer group: kept on restore, new otherwise.

    A restored job must keep its prefix: the Kafka sink aborts the lingering transactions of a
    killed run by their ids, and commits the ones its checkpoint holds.
    """
    current = read_json(files.run_file)
    if fresh or not current:
        run_id = time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6]
        current = {
            "run_id": run_id,
            "transactional_id_prefix": f"classpulse-flink-{run_id}",
            "group_id": group or "classpulse-flink",
        }
        write_json(files.run_file, current)
    return current
