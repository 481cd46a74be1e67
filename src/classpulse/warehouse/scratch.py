"""ClickHouse's own parser and DDL reader, for code that holds no warehouse connection.

A scratch chDB engine (in memory, or in a temporary directory) answers two questions about SQL
text, so that no decision about SQL is made by matching text:

- :func:`parse`: each statement as the engine's parser reads it: its canonical text
  (``formatQuery``) and its syntax tree (``EXPLAIN AST``); nothing runs;
- :func:`declared_columns`: the columns CREATE TABLE statements declare, as the engine creates
  them (``system.columns``).

The engine runs in a child process (``python -m classpulse.warehouse.scratch``): chDB hosts one
engine per process, fixes its time zone when it loads, and the caller may hold another or be a
process that only reads files. Answers are cached per process and question.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass


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


def parse(statements: Sequence[str]) -> list[Parsed]:
    """Each statement as the engine's parser reads it, in order."""
    answer = _parse(tuple(statements))
    return [Parsed(row["formatted"], tuple(row["ast"]), row["error"]) for row in answer]


def declared_columns(tables: Sequence[tuple[str, str]]) -> dict[str, list[Column]]:
    """(database.table, CREATE TABLE statement) pairs -> each table's columns, in order, as the
    engine creates them."""
    answer = _columns(tuple(tables))
    return {table: [Column(*row) for row in rows] for table, rows in answer.items()}


@functools.lru_cache(maxsize=16)
def _parse(statements: tuple[str, ...]) -> list[dict]:
    return _ask("parse", statements)


@functools.lru_cache(maxsize=8)
def _columns(tables: tuple[tuple[str, str], ...]) -> dict[str, list[list[str]]]:
    return _ask("columns", tables)


def _ask(task: str, question: object):
    result = subprocess.run(
        [sys.executable, "-m", "classpulse.warehouse.scratch"],
        input=json.dumps({"task": task, "question": question}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"the scratch ClickHouse engine failed ({task}):\n{result.stderr[-3000:]}"
        )
    return json.loads(result.stdout)


# ---------------------------------------------------------------------------------------
# In the child process


def _parse_here(statements: list[str]) -> list[dict]:
    import chdb

    engine = chdb.connect(":memory:")
    answers = []
    try:
        for statement in statements:
            try:
                (formatted,) = json.loads(
                    str(
                        engine.query(
                            "SELECT formatQuery({statement:String})",
                            "JSONCompactEachRow",
                            params={"statement": _escaped(statement)},
                        )
                    )
                )
                # the canonical text is one statement (formatQuery refuses more): its tree
                ast = str(engine.query(f"EXPLAIN AST {formatted}", "TabSeparatedRaw"))
                answers.append({"formatted": formatted, "ast": ast.splitlines(), "error": ""})
            except Exception as error:  # the engine's own message is the answer
                answers.append({"formatted": "", "ast": [], "error": str(error).strip()})
    finally:
        engine.close()
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


if __name__ == "__main__":
    request = json.load(sys.stdin)
    tasks = {"parse": _parse_here, "columns": _columns_here}
    json.dump(tasks[request["task"]](request["question"]), sys.stdout)
