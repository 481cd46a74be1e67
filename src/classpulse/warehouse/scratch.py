"""ClickHouse's own lexer, parser and DDL reader, for code that holds no warehouse connection.

A scratch chDB engine answers questions about SQL text, so that no decision about SQL is made by
matching text:

- :func:`tokens`: the engine's lexer (``tokenizeQuery``): each token's span and kind, so a
  ``;`` or ``--`` inside a string literal or a comment is never taken for a statement end or a
  comment; :func:`split_statements` cuts a file into statements on its ``Semicolon`` tokens;
- :func:`parse`: each statement as the engine's parser reads it: its canonical text
  (``formatQuery``) and its syntax tree (``EXPLAIN AST``); nothing runs;
- :func:`declared_columns`: the columns CREATE TABLE statements declare, as the engine creates
  them (``system.columns``).

The engine runs in a child process (``python -m classpulse.warehouse.scratch``): chDB hosts one
engine per process, fixes its time zone when it loads, and the caller may hold another or be a
process that only reads files. Lexing and parsing share one child per process, started when
first needed (about 1 s); one that gives no answer within :data:`REPLY_TIMEOUT` is killed
(:class:`ScratchTimeout`) and the next question starts another. Every answer is kept per
process and on disk, under ``.cache/chdb-scratch/``, named by a hash of the question and the
chDB version: a later process asking the same question about the same text starts no engine at
all (the store is :class:`classpulse.answer_cache.AnswerCache`, shared with the Flink SQL
readers).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classpulse.answer_cache import AnswerCache

CACHE_DIR = Path(".cache") / "chdb-scratch"
"""Where answers are kept, under the project root."""
CACHE_FORMAT = 2
"""Part of every cache key: raise it when an answer's shape changes."""
REPLY_TIMEOUT = 60.0
"""Seconds the lexer/parser child may take to answer one question (a file's statements, at
most a few seconds on a loaded machine) before it is taken for hung and killed."""
_REPAIR = "check that chDB loads (.venv/bin/python -c 'import chdb'); `make venv` reinstalls it"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    default_kind: str  # '' | DEFAULT | MATERIALIZED | ALIAS
    default_expression: str

    def definition(self) -> str:
        text = f"`{self.name}` {self.type}"
        if self.default_kind:
            text += f" {self.default_kind} {self.default_expression}"
        return text


@dataclass(frozen=True)
class Parsed:
    """One statement as the engine's parser read it; ``error`` says why it could not."""

    formatted: str = ""
    ast: tuple[str, ...] = ()  # EXPLAIN AST lines: one node a line, one space a level
    error: str = ""
    tree: dict[str, Any] | None = None  # parseQueryToJSON; None where it has no JSON form

    def created_table(self) -> tuple[str, str] | None:
        """(database, table) of a ``CREATE TABLE database.table (columns) ENGINE = ...``; None
        for any other statement (a view, a database, a table without a database, columns or
        engine). The tree of such a statement is ``CreateQuery`` with, one level down, the two
        identifiers first, then the column and storage definitions."""
        if not self.ast or not self.ast[0].startswith("CreateQuery "):
            return None
        children = [line[1:] for line in self.ast[1:] if line[:1] == " " and line[1:2] != " "]
        names = [child.removeprefix("Identifier ") for child in children[:2]]
        kinds = {child.split(" (", 1)[0] for child in children[2:]}
        if not all(child.startswith("Identifier ") for child in children[:2]) or len(names) < 2:
            return None
        if not {"Columns definition", "Storage definition"} <= kinds:
            return None
        return names[0], names[1]


@dataclass(frozen=True)
class Token:
    """One token of the engine's lexer: its span in the text (characters) and its kind
    (``BareWord``, ``StringLiteral``, ``Comment``, ``Semicolon``, ``Whitespace``, ...)."""

    start: int
    end: int
    kind: str

    def text(self, source: str) -> str:
        return source[self.start : self.end]

    @property
    def is_code(self) -> bool:
        return self.kind not in ("Whitespace", "Comment")


def tokens(texts: Sequence[str]) -> list[list[Token]]:
    """Each text's tokens as the engine's lexer reads them, in order (one call for all)."""
    if not texts:
        return []
    answer = _ask("tokens", list(texts))
    return [[Token(*token) for token in found] for found in answer]


def split_statements(text: str) -> list[str]:
    """The statements of a multi-statement text, without their ``;``: cut at the lexer's
    ``Semicolon`` tokens (never one in a string, a quoted name or a comment); a part with no
    code (only comments and blanks) is no statement. Comments inside a statement, and those
    that open it, stay in its text."""
    (found,) = tokens([text])
    statements: list[str] = []
    start, has_code = 0, False
    for token in found:
        if token.kind == "Semicolon":
            if has_code:
                statements.append(text[start : token.start].strip())
            start, has_code = token.end, False
        elif token.is_code:
            has_code = True
    if has_code:
        statements.append(text[start:].strip())
    return statements


def parse(statements: Sequence[str], trees: bool = False) -> list[Parsed]:
    """Each statement as the engine's parser reads it, in order; with ``trees``, its syntax
    tree as a document too (``parseQueryToJSON``)."""
    if not statements:
        return []
    answer = _ask("parse_trees" if trees else "parse", list(statements))
    return [
        Parsed(row["formatted"], tuple(row["ast"]), row["error"], row["tree"]) for row in answer
    ]


def syntax_nodes(document: object) -> Iterator[dict[str, Any]]:
    """Every node (a JSON object) of a ``parseQueryToJSON`` syntax tree, parents first."""
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            yield node
            pending.extend(node.values())


def declared_columns(tables: Sequence[tuple[str, str]]) -> dict[str, list[Column]]:
    """(database.table, CREATE TABLE statement) pairs -> each table's columns, in order, as the
    engine creates them."""
    answer = _ask("columns", [list(pair) for pair in tables])
    return {table: [Column(*row) for row in rows] for table, rows in answer.items()}


def _ask(task: str, question: list) -> Any:
    """The answer to ``question``: from this process, else from the disk cache, else from
    the engine (then kept in both)."""
    return json.loads(_ask_text(task, json.dumps(question, sort_keys=True)))


@functools.lru_cache(maxsize=64)
def _ask_text(task: str, question: str) -> str:
    def ask() -> str:
        if task == "columns":
            return _one_shot(task, question)
        return _SERVED.ask(task, question)

    return _answers().answer(task, question, ask)


@functools.lru_cache(maxsize=1)
def _answers() -> AnswerCache:
    # imported here, in the asking process only: the child starts without it
    from classpulse.answer_cache import AnswerCache

    return AnswerCache(CACHE_DIR.name, ["chdb"], CACHE_FORMAT)


def _one_shot(task: str, question: str) -> str:
    """Ask a child of its own (the DDL reader needs an engine with a data directory)."""
    result = subprocess.run(
        [sys.executable, "-m", "classpulse.warehouse.scratch"],
        input=json.dumps({"task": task, "question": json.loads(question)}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"the scratch ClickHouse engine failed ({task}); {_REPAIR}:\n{result.stderr[-3000:]}"
        )
    return result.stdout


class ScratchTimeout(RuntimeError):
    """The scratch engine gave no answer in time: it was stopped, the next question starts
    a new one."""


class _ServedEngine:
    """One child engine per process for lexing and parsing: one JSON line a question, one
    an answer. Started on the first question; a forked process starts its own. A child that
    gives no answer within ``reply_timeout`` seconds is killed (a hung child would hang its
    caller for good); the next question starts a new one."""

    def __init__(self, reply_timeout: float = REPLY_TIMEOUT) -> None:
        self._lock = threading.Lock()
        self._child: subprocess.Popen[str] | None = None
        self._errors: IO[str] | None = None
        self._owner = 0
        self.reply_timeout = reply_timeout

    def ask(self, task: str, question: str) -> str:
        with self._lock:
            child = self._running()
            line = self._exchange(child, task, question)
            if line is None:
                self._child = None
                raise ScratchTimeout(
                    f"the scratch ClickHouse engine gave no answer ({task}) within "
                    f"{self.reply_timeout:g} s: it was stopped, the next question starts a new "
                    f"one; {_REPAIR}:\n{self._tail()}"
                )
            if not line:
                self._child = None
                raise RuntimeError(
                    f"the scratch ClickHouse engine stopped ({task}); {_REPAIR}:\n{self._tail()}"
                )
            reply = json.loads(line)
            if "failure" in reply:
                raise RuntimeError(
                    f"the scratch ClickHouse engine failed ({task}):\n{reply['failure']}"
                )
            return json.dumps(reply["answer"])

    def _exchange(self, child: subprocess.Popen[str], task: str, question: str) -> str | None:
        """The child's reply line ("" if it stopped), or None when it gave none in time (then
        it is killed). Asked on a thread of its own: a hung child blocks the write of a large
        question as surely as the read of its answer."""
        assert child.stdin is not None and child.stdout is not None
        replies: list[str] = []

        def converse() -> None:
            try:
                child.stdin.write(json.dumps({"task": task, "question": json.loads(question)}))
                child.stdin.write("\n")
                child.stdin.flush()
                replies.append(child.stdout.readline())
            except (OSError, ValueError):  # the child is gone, or its pipes closed
                replies.append("")

        talker = threading.Thread(target=converse, name="scratch-engine-exchange", daemon=True)
        talker.start()
        talker.join(self.reply_timeout)
        if talker.is_alive():
            child.kill()
            child.wait()
            talker.join()
            return None
        return replies[0]

    def _running(self) -> subprocess.Popen[str]:
        if self._child is None or self._owner != os.getpid() or self._child.poll() is not None:
            # the child writes its errors here for as long as it lives
            self._errors = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            self._child = subprocess.Popen(
                [sys.executable, "-m", "classpulse.warehouse.scratch", "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                text=True,
                encoding="utf-8",
            )
            self._owner = os.getpid()
        return self._child

    def _tail(self) -> str:
        if self._errors is None:
            return ""
        self._errors.seek(0)
        return self._errors.read()[-3000:]

    def close(self) -> None:
        child, self._child = self._child, None
        if child is not None and self._owner == os.getpid():
            if child.stdin is not None:
                child.stdin.close()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


_SERVED = _ServedEngine()
atexit.register(_SERVED.close)


# ---------------------------------------------------------------------------------------
# In the child process


def _tokens_here(engine, texts: list[str]) -> list[list[list]]:
    answers = []
    for text in texts:
        found = _only_value(engine, "tokenizeQuery", text)
        # the lexer counts bytes, the caller slices characters: each byte's character
        characters = [index for index, char in enumerate(text) for _ in char.encode("utf-8")]
        characters.append(len(text))
        answers.append(
            [
                [characters[int(token["begin"])], characters[int(token["end"])], token["type"]]
                for token in found
            ]
        )
    return answers


def _only_value(engine, function: str, text: str) -> Any:
    """``function(text)`` evaluated by the engine, ``text`` bound as a parameter."""
    (value,) = json.loads(
        str(
            engine.query(
                f"SELECT {function}({{text:String}})",
                "JSONCompactEachRow",
                params={"text": _escaped(text)},
            )
        )
    )
    return value


def _parse_here(engine, statements: list[str], trees: bool = False) -> list[dict]:
    answers = []
    for statement in statements:
        try:
            formatted = _only_value(engine, "formatQuery", statement)
            # the canonical text is one statement (formatQuery refuses more): its tree
            ast = str(engine.query(f"EXPLAIN AST {formatted}", "TabSeparatedRaw"))
            tree = None
            if trees:  # the same tree as a document, where the engine has a JSON form for it
                try:
                    tree = json.loads(_only_value(engine, "parseQueryToJSON", formatted))
                except Exception:
                    tree = None
            answers.append(
                {"formatted": formatted, "ast": ast.splitlines(), "error": "", "tree": tree}
            )
        except Exception as error:  # the engine's own message is the answer
            answers.append({"formatted": "", "ast": [], "error": str(error).strip(), "tree": None})
    return answers


def _escaped(value: str) -> str:
    """``value`` in the escaped text form the engine reads a query parameter in."""
    for char, escape in (("\\", "\\\\"), ("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
        value = value.replace(char, escape)
    return value


def _columns_here(tables: list[tuple[str, str]]) -> dict[str, list[list[str]]]:
    import tempfile

    from chdb import session

    with tempfile.TemporaryDirectory(prefix="classpulse-scratch-") as scratch:
        engine = session.Session(scratch)
        try:
            for database in sorted({table.split(".", 1)[0] for table, _ in tables}):
                engine.query(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            for _, ddl in tables:
                engine.query(ddl)
            out: dict[str, list[list[str]]] = {table: [] for table, _ in tables}
            text = str(
                engine.query(
                    "SELECT concat(database, '.', table), name, type, default_kind, "
                    "default_expression FROM system.columns "
                    "WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', "
                    "'information_schema') ORDER BY database, table, position",
                    "JSONCompactEachRow",
                )
            )
        finally:
            engine.close()
    for line in text.splitlines():
        if line.strip():
            table, *column = json.loads(line)
            if table in out:
                out[table].append(column)
    return out


def _serve() -> None:
    """Answer one JSON question a line until stdin closes; chDB's own output goes to stderr."""
    import chdb

    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    engine = chdb.connect(":memory:")
    tasks = {
        "tokens": _tokens_here,
        "parse": _parse_here,
        "parse_trees": functools.partial(_parse_here, trees=True),
    }
    try:
        for line in sys.stdin:
            request = json.loads(line)
            try:
                reply = {"answer": tasks[request["task"]](engine, request["question"])}
            except Exception as error:
                reply = {"failure": f"{type(error).__name__}: {error}"}
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
    finally:
        engine.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        _serve()
    else:
        request = json.load(sys.stdin)
        json.dump(_columns_here(request["question"]), sys.stdout)
