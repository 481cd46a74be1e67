"""Job progress: source record counts from the mini-cluster's REST endpoint, shown with rich.

The local mini-cluster serves Flink's REST API on the session's port. A job's Kafka source
vertices report their subtasks' ``numRecordsOut`` (names below): their sum is the number of
messages read so far, which against the messages waiting gives a progress bar and a rate.

A read is not free: each makes the mini-cluster gather every subtask's metrics (its
MetricFetcher dumps them all), inside the JVM that runs the job. Counts are read at most once
per ``COUNTS_INTERVAL_S``, and only while a display shows them or something waits on them.
"""

from __future__ import annotations

import json
import re
import time
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

# Flink 2.3 over REST: a Kafka source's vertex is named
# ``Source: KafkaSource-<catalog>.<database>.<table>[...] -> ...`` and its subtasks report
# ``<subtask>.Source__KafkaSource-<catalog>_<database>_<table>[<n>].numRecordsOut`` (the dots of
# the table path become underscores in the metric's name, so the id is read off the vertex's
# metric list rather than built).
_SOURCE_VERTEX = re.compile(r"^Source: KafkaSource-[^.]+\.[^.]+\.(\w+)")
_SOURCE_COUNTER = re.compile(r"^\d+\.Source__.*\.numRecordsOut$")

# How often counts are read while needed: the progress display's refresh. A request for metrics
# starts the mini-cluster's gathering of them in the background, at most once per its fetcher
# interval (session.py: half of this), and returns what the last gathering found: so a
# gathering is started GATHER_LEAD_S before each read (more than the lead and at most the
# interval minus the lead after the last one), and the read finds it done, not a second old.
COUNTS_INTERVAL_S = 1.0
GATHER_LEAD_S = 0.25


class SourceRecords:
    """Records read so far per source table of one job, from the REST metrics (above)."""

    def __init__(self, host: str, port: int, job_id: str) -> None:
        self.base = f"http://{host}:{port}/jobs/{job_id}"
        self._counters: dict[str, tuple[str, str]] = {}  # vertex id -> (table, metric ids)

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=5) as response:
            return json.load(response)

    def _list_counters(self) -> dict[str, tuple[str, str]]:
        """Vertex id -> (table, metric ids) of every source; empty while a subtask has not
        registered its metrics yet."""
        counters: dict[str, tuple[str, str]] = {}
        for vertex in self._get("").get("vertices", []):
            match = _SOURCE_VERTEX.match(vertex["name"])
            if match is None:
                continue
            listed = self._get(f"/vertices/{vertex['id']}/metrics")
            ids = [item["id"] for item in listed if _SOURCE_COUNTER.match(item["id"])]
            if len(ids) < vertex["parallelism"]:
                return {}
            query = urllib.parse.quote(",".join(ids), safe=",")
            counters[vertex["id"]] = (match.group(1), query)
        return counters

    def gather(self) -> None:
        """Ask for one source's counters: the mini-cluster starts gathering every metric (in
        the background; a read within the fetcher interval after it finds the new values)."""
        try:
            first = next(iter(self._counters.items()), None)
            if first is None:  # not listed yet: the job's details start a gathering too
                self._get("")
            else:
                self._get(f"/vertices/{first[0]}/metrics?get={first[1][1]}")
        except (urllib.error.URLError, OSError, ValueError):
            pass  # the read after it says what is wrong

    def read(self) -> dict[str, int] | None:
        """Table -> records read; None while the job's metrics are not there yet."""
        try:
            if not self._counters:
                # kept only when complete: a request failing half-way (a timeout on a loaded
                # machine) left the sources listed so far as the job's sources for good
                self._counters = self._list_counters()
                if not self._counters:
                    return None
            counts: dict[str, int] = {}
            for vertex_id, (table, query) in self._counters.items():
                values = self._get(f"/vertices/{vertex_id}/metrics?get={query}")
                read = sum(int(float(item["value"])) for item in values)
                counts[table] = counts.get(table, 0) + read
            return counts
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            return None


class JobMetrics:
    """The records one job's sources have read in all, read at most once per ``interval``."""

    def __init__(
        self, port: int, job_id: str, host: str = "127.0.0.1", interval: float = COUNTS_INTERVAL_S
    ) -> None:
        self.sources = SourceRecords(host, port, job_id)
        self.interval = interval
        self.last: int | None = None  # the latest count read; None until the metrics are there
        self._read_at: float | None = None
        self._gathering = False  # a gathering was started for the next read

    def records_read(self) -> int | None:
        """Read the count now; the latest count read when this read gets none."""
        self._read()
        return self.last

    def poll(self) -> bool:
        """Read the count if ``interval`` has passed since the last read; True when one came.

        Called every ``GATHER_LEAD_S`` or so: the call before a read starts the gathering."""
        since = None if self._read_at is None else time.perf_counter() - self._read_at
        if since is None or since >= self.interval:
            self._gathering = False
            return self._read()
        if not self._gathering and since >= self.interval - GATHER_LEAD_S:
            self._gathering = True
            self.sources.gather()
        return False

    def _read(self) -> bool:
        self._read_at = time.perf_counter()
        counts = self.sources.read()
        if counts is None:
            return False
        self.last = sum(counts.values())
        return True


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

    @property
    def shown(self) -> bool:
        """Whether anything is displayed (else nobody needs the counts for it)."""
        return self._progress is not None

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
