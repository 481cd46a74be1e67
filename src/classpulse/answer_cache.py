"""Answers of slow SQL readers (a lexer, a parser) kept on disk, one file an answer.

A reader whose answer depends only on the text asked about and on the reader's version (the
ClickHouse lexer and parser of :mod:`classpulse.warehouse.scratch`, sqlfluff's lexer and Flink's
parser of :mod:`classpulse.flink`) keeps each answer under ``.cache/<folder>/`` of the project
root, named by a hash of the question, the reader's versions and a format number: a later
process asking the same question gets the answer without starting the reader (an engine, a JVM,
or an import of seconds). A file is written whole under a temporary name and renamed into place,
so concurrent processes never read half of one; a read-only checkout just keeps no answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path


class AnswerCache:
    """The answers of one reader, under ``.cache/<folder>/`` of the project root.

    ``versions`` names the distributions whose versions are part of every key (looked up once,
    on the first question); ``format_number`` is raised when an answer's shape changes.
    """

    def __init__(self, folder: str, versions: Sequence[str], format_number: int) -> None:
        self.folder = Path(".cache") / folder
        self.distributions = tuple(versions)
        self.format = format_number

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

    def read(self, kind: str, question: str) -> str | None:
        """The kept answer, or None when no process has kept one."""
        try:
            return self.path(kind, question).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def store(self, kind: str, question: str, answer: str) -> None:
        """Keep ``answer``: written whole under a temporary name, then renamed (atomic)."""
        path = self.path(kind, question)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(answer)
            os.replace(temporary, path)
        except OSError:  # a read-only checkout: the answer still serves this process
            pass

    def answer(self, kind: str, question: str, ask: Callable[[], str]) -> str:
        """The kept answer, else ``ask()``'s, kept for the next process."""
        kept = self.read(kind, question)
        if kept is None:
            kept = ask()
            self.store(kind, question, kept)
        return kept
