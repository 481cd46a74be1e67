"""The answer cache's bookkeeping: the LRU bound holds whatever the stores, and hits write
nothing unless the recorded use is old."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator

import pytest

from classpulse.answer_cache import TOUCH_AFTER_SECONDS, AnswerCache

LIMIT = 5


@pytest.fixture
def cache() -> Iterator[AnswerCache]:
    """A cache of its own folder under .cache/, keeping at most LIMIT answers."""
    cache = AnswerCache(f"test-answers-{uuid.uuid4().hex}", ["sqlfluff"], 1, limit=LIMIT)
    yield cache
    shutil.rmtree(cache.directory, ignore_errors=True)


def files(cache: AnswerCache) -> set[str]:
    return {path.name for path in cache.directory.iterdir()}


def age(cache: AnswerCache, question: str, seconds: float) -> None:
    """Record the answer's last use ``seconds`` ago."""
    then = time.time() - seconds
    os.utime(cache.path("tokens", question), (then, then))


def test_the_folder_never_holds_more_than_the_limit(cache: AnswerCache) -> None:
    hot = "q0"  # read before every store: the most recently used answer throughout
    cache.answer("tokens", hot, lambda: "a0")
    long_ago = 10_000.0
    for number in range(1, 60):
        age(cache, hot, 2 * TOUCH_AFTER_SECONDS)  # so the read records its use
        assert cache.answer("tokens", hot, lambda: "asked again") == "a0"
        cache.answer("tokens", f"q{number}", lambda n=number: f"a{n}")
        age(cache, f"q{number}", long_ago - number)  # later stores: more recently used
        newest = {cache.path("tokens", f"q{n}").name for n in range(number - LIMIT + 2, number + 1)}
        held = files(cache)
        assert len(held) <= LIMIT
        assert cache.path("tokens", hot).name in held
        assert cache.path("tokens", f"q{number}").name in held
        assert held - {cache.path("tokens", hot).name} <= newest  # least recently used went


def test_a_store_by_another_process_is_seen_at_the_next_listing(cache: AnswerCache) -> None:
    other = AnswerCache(cache.folder.name, ["sqlfluff"], 1, limit=LIMIT)
    for number in range(LIMIT):
        other.answer("tokens", f"theirs{number}", lambda: "x")
        age(other, f"theirs{number}", 100 * TOUCH_AFTER_SECONDS)
    for number in range(LIMIT):
        cache.answer("tokens", f"mine{number}", lambda: "y")
        assert len(files(cache)) <= LIMIT


def test_a_hit_writes_only_when_the_recorded_use_is_old(cache: AnswerCache) -> None:
    cache.answer("tokens", "recent", lambda: "a")
    cache.answer("tokens", "old", lambda: "b")
    age(cache, "recent", TOUCH_AFTER_SECONDS / 2)
    age(cache, "old", 2 * TOUCH_AFTER_SECONDS)
    recent_before = cache.path("tokens", "recent").stat().st_mtime
    old_before = cache.path("tokens", "old").stat().st_mtime
    assert cache.answer("tokens", "recent", lambda: "not asked") == "a"
    assert cache.answer("tokens", "old", lambda: "not asked") == "b"
    assert cache.path("tokens", "recent").stat().st_mtime == recent_before
    assert cache.path("tokens", "old").stat().st_mtime > old_before  # its use recorded
