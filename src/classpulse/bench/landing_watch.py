"""What the real-time benchmarks measure while a paced load runs: the landing consumer follows
Kafka into the warehouse, and a watcher notes when each window, minute or request first
becomes queryable there (wall time, epoch ms)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from classpulse.config import Settings

POLL_SECONDS = 0.2


@dataclass
class LandingWatch:
    seen: dict[Any, float] = field(default_factory=dict)  # key -> first wall ms queryable
    errors: list[BaseException] = field(default_factory=list)  # surfaced after the run
    stop: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def landing_watch(
    settings: Settings,
    group: str,
    query: str,
    parameters: dict[str, Any] | None = None,
    key: Callable[[Any], Any] = lambda value: value,
) -> Iterator[LandingWatch]:
    """Land from Kafka (consumer ``group``) and poll ``query`` (one column: ``key`` of each
    value is what :attr:`LandingWatch.seen` keys) until the block ends; the first error of
    either thread is raised after it."""
    from classpulse.kafka.landing import land_from_kafka
    from classpulse.warehouse import get_client

    watch = LandingWatch()

    def follow() -> None:
        try:
            land_from_kafka(
                settings,
                follow=True,
                group=group,
                should_stop=watch.stop.is_set,
            )  # the landing's own batch timing: the figures are production's
        except BaseException as exc:
            watch.errors.append(exc)

    def poll() -> None:
        try:
            reader = get_client(settings)
            while not watch.stop.is_set():
                with contextlib.suppress(Exception):  # the table may not exist yet
                    rows = reader.query(query, parameters=parameters or {}).result_rows
                    now = time.time() * 1000
                    for (value,) in rows:
                        watch.seen.setdefault(key(value), now)
                time.sleep(POLL_SECONDS)
        except BaseException as exc:
            watch.errors.append(exc)

    threads = [threading.Thread(target=follow), threading.Thread(target=poll)]
    for thread in threads:
        thread.start()
    try:
        yield watch
    finally:
        watch.stop.set()
        for thread in threads:
            thread.join(60)
    if watch.errors:
        raise watch.errors[0]
