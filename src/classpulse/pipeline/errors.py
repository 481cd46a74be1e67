"""How a stage fails and reports: StageError, the progress callback, the timed summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class StageError(RuntimeError):
    """A stage failed; the message says which stage, why, and what to do."""

    def __init__(self, stage: str, reason: str, remedy: str) -> None:
        super().__init__(f"[stage: {stage}] {reason}\n  what to do: {remedy}")
        self.stage = stage
        self.reason = reason
        self.remedy = remedy


@contextmanager
def failing_as(stage: str, remedy: str, errors: type[Exception]) -> Iterator[None]:
    """One of ``errors`` raised inside the block fails ``stage`` (a StageError with its message
    and ``remedy``)."""
    try:
        yield
    except errors as exc:
        raise StageError(stage, str(exc), remedy) from None


Progress = Callable[[str], None]


def timed(summary: dict[str, Any], started: float) -> dict[str, Any]:
    """Record in a stage's summary how many seconds it took since ``started``."""
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary
