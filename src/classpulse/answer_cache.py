"""Answers of slow SQL readers (a lexer, a parser) kept on disk, one file an answer.

A reader whose answer depends only on the text asked about and on the reader's version (the
ClickHouse lexer and parser of :mod:`classpulse.warehouse.scratch`, sqlfluff's lexer and Flink's
parser of :mod:`classpulse.flink`) keeps each answer under ``.cache/<folder>/`` of the project
root, named by a hash of the question, the reader's versions and a format number: a later
process asking the same question gets the answer without starting the reader (an engine, a JVM,
or an import of seconds). A file is written whole under a temporary name and renamed into place,
so concurrent processes never read half of one; a read-only checkout just keeps no answers. A
folder keeps at most ``limit`` answers, the least recently used dropped first.

Both bookkeeping steps stay off the common path: a hit records its use (the file's mtime) only
when the recorded one is older than ``TOUCH_AFTER_SECONDS`` (a metadata write per hit otherwise),
and a store lists the folder only when this process's count of its files may pass the limit; a
prune then leaves room for ``limit // PRUNE_ROOM_SHARE`` answers, so a full folder is listed
once per that many stores, not on each. Stores of other processes are seen at the next listing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

# Files kept per folder: ten times what reading every SQL file of the project asks today
# (about 400 Flink answers), so pruning only drops answers no current file asks for.
ANSWER_LIMIT = 4096
# least-recently-used order is kept to this resolution: a hit on an answer used less than this
# long ago changes nothing on disk
TOUCH_AFTER_SECONDS = 30.0
# a prune drops down to limit - limit // PRUNE_ROOM_SHARE answers (at least one below the limit)
PRUNE_ROOM_SHARE = 8


class AnswerCache:
    """The answers of one reader, under ``.cache/<folder>/`` of the project root.

    ``versions`` names the distributions whose versions are part of every key (looked up once,
    on the first question); ``format_number`` is raised when an answer's shape changes;
    ``limit`` bounds the files kept (the least recently used are dropped past it).
    """

    def __init__(
        self, folder: str, versions: Sequence[str], format_number: int, limit: int = ANSWER_LIMIT
    ) -> None:
        self.folder = Path(".cache") / folder
        self.distributions = tuple(versions)
        self.format = format_number
        self.limit = limit
        self._count: int | None = None  # files in the folder as far as this process knows

    @cached_property
    def directory(self) -> Path:
        from classpulse.config import project_root

        return project_root() / self.folder

    @cached_property
    def _versions(self) -> list[str]:
        from importlib.metadata import PackageNotFoundError, version

        found = []
        for name in self.distributions:
            try:
                found.append(f"{name}=={version(name)}")
            except PackageNotFoundError:
                found.append(f"{name}==missing")
        return found

    def path(self, kind: str, question: str) -> Path:
        """Where the answer to ``question`` (a text) of ``kind`` is kept."""
        key = json.dumps([self.format, self._versions, kind, question])
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.directory / f"{kind}-{digest}.json"

    def answer(self, kind: str, question: str, ask: Callable[[], str]) -> str:
        """The kept answer, else ``ask()``'s, kept for the next process."""
        path = self.path(kind, question)  # hashed once, for the read and the store
        kept = _read(path)
        if kept is None:
            kept = ask()
            if _store(path, kept):
                self._count_stored()
        return kept

    def _count_stored(self) -> None:
        """Count one more file; list (and prune) the folder only when the count is unknown or
        this file may pass the limit."""
        if self._count is not None and self._count < self.limit:
            self._count += 1
        else:
            self._count = self._prune()

    def _prune(self) -> int | None:
        """Past ``limit`` files, keep the most recently used (a read touches its file) with room
        for the next stores, so the answers of old texts and of versions no longer installed
        age out; how many files stay (None when the folder cannot be listed)."""
        try:
            entries = list(os.scandir(self.directory))
            if len(entries) <= self.limit:
                return len(entries)
            by_age = sorted(entries, key=_modified)
        except OSError:
            return None
        keep = self.limit - max(1, self.limit // PRUNE_ROOM_SHARE)
        for entry in by_age[: len(by_age) - keep]:
            with contextlib.suppress(OSError):  # another process pruned it first
                os.unlink(entry.path)
        return keep


def _modified(entry: os.DirEntry) -> float:
    try:
        return entry.stat().st_mtime
    except OSError:  # gone meanwhile: first in line, its unlink is a no-op
        return 0.0


def _read(path: Path) -> str | None:
    """The answer kept at ``path``, or None; its use recorded for pruning unless it was
    recorded less than ``TOUCH_AFTER_SECONDS`` ago."""
    try:
        with path.open(encoding="utf-8") as file:
            kept = file.read()
            recorded = os.fstat(file.fileno()).st_mtime
    except (OSError, UnicodeDecodeError):
        return None
    if time.time() - recorded >= TOUCH_AFTER_SECONDS:
        with contextlib.suppress(OSError):  # a read-only checkout: never pruned either
            os.utime(path)
    return kept


def _store(path: Path, answer: str) -> bool:
    """Keep ``answer`` at ``path``, written whole under a temporary name in the same folder,
    then renamed (atomic). False when it cannot be written (a read-only checkout, a full disk,
    text that is not UTF-8): the answer still serves this process, and no temporary file stays."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(answer)
        os.replace(temporary, path)
        temporary = None
        return True
    except (OSError, UnicodeEncodeError):
        return False
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
