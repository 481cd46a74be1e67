"""Answers of slow SQL readers (a lexer, a parser) kept on disk, one file an answer.

A reader whose answer depends only on the text asked about and on the reader's version (the
ClickHouse lexer and parser of :mod:`classpulse.warehouse.scratch`, sqlfluff's lexer and Flink's
parser of :mod:`classpulse.flink`) keeps each answer under ``.cache/<folder>/`` of the project
root, named by a hash of the question, the reader's versions and a format number: a later
process asking the same question gets the answer without starting the reader (an engine, a JVM,
or an import of seconds). A file is written whole under a temporary name and renamed into place,
so concurrent processes never read half of one; a read-only checkout just keeps no answers. A
folder keeps at most ``limit`` answers, the least recently used dropped first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

# Files kept per folder: ten times what reading every SQL file of the project asks today
# (about 400 Flink answers), so pruning only drops answers no current file asks for.
ANSWER_LIMIT = 4096


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
                self._prune()
        return kept

    def _prune(self) -> None:
        """Keep at most ``limit`` files: the least recently used go first (a read touches its
        file), so the answers of old texts and of versions no longer installed age out."""
        try:
            entries = list(os.scandir(self.directory))
            if len(entries) <= self.limit:
                return
            by_age = sorted(entries, key=_modified)
        except OSError:
            return
        for entry in by_age[: len(by_age) - self.limit]:
            with contextlib.suppress(OSError):  # another process pruned it first
                os.unlink(entry.path)


def _modified(entry: os.DirEntry) -> float:
    try:
        return entry.stat().st_mtime
    except OSError:  # gone meanwhile: first in line, its unlink is a no-op
        return 0.0


def _read(path: Path) -> str | None:
    """The answer kept at ``path`` (its use recorded for pruning), or None."""
    try:
        kept = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
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
