"""Benchmarks: side-by-side measurements in one run, medians of several repeats."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(
    label: str,
    action: Callable[[], object],
    repeats: int,
    setup: Callable[[], object] | None = None,
) -> Timing:
    """Run ``action`` ``repeats`` times (``setup`` before each, untimed)."""
    seconds = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return Timing(label, seconds)
