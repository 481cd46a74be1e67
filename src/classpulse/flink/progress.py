"""Job progress: source record counts from the mini-cluster's REST endpoint, shown with rich.

The local mini-cluster serves Flink's REST API on the session's port. A job's source vertices
report ``<subtask>.Source__<table>[n].numRecordsOut``: their sum is the number of messages read
so far, which against the lines waiting in the input files gives a progress bar and a rate.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

_SOURCE = re.compile(r"^Source: (\w+\[\d+\])")


class JobMetrics:
    """Reads one job's source record counts over REST; returns None while the job is starting."""

    def __init__(self, port: int, job_id: str, host: str = "127.0.0.1") -> None:
        self.base = f"http://{host}:{port}/jobs/{job_id}"

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=2) as response:
            return json.load(response)

    def records_read(self) -> int | None:
        try:
            total = 0
            for vertex in self._get("").get("vertices", []):
                match = _SOURCE.match(vertex["name"])
                if match is None:
                    continue
                name = f"Source__{match.group(1)}.numRecordsOut"
                ids = ",".join(f"{index}.{name}" for index in range(vertex["parallelism"]))
                query = urllib.parse.quote(ids, safe=",")
                values = self._get(f"/vertices/{vertex['id']}/metrics?get={query}")
                total += sum(int(float(item["value"])) for item in values)
            return total
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            return None


class RunDisplay:
    """A rich progress bar per wave; silent when ``console`` is None (tests, benchmarks)."""

    def __init__(self, console: Console | None) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RunDisplay:
        if self.console is not None:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def note(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text)

    def start_wave(self, description: str, total: int | None) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task(description, total=total, rate="")

    def update(self, completed: int, seconds: float) -> None:
        if self._progress is not None and self._task is not None:
            rate = f"{completed / seconds:,.0f} msg/s" if seconds > 0 else ""
            self._progress.update(self._task, completed=completed, rate=rate)

    def finish_wave(self, completed: int, seconds: float) -> None:
        if self._progress is not None and self._task is not None:
            task = self._progress.tasks[self._task]
            if task.total is None or completed > task.total:
                self._progress.update(self._task, total=completed)
            self.update(completed, seconds)
