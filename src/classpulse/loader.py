"""The landing tables: one DDL file each, the topic that feeds it, and the production feed DDL.

Each landing table is one DDL file in ``clickhouse/landing/`` whose header names the
topic it is fed from::

    -- topic: timeline_analysis_student
    -- grain: one row per cleaned courseware event
    CREATE TABLE IF NOT EXISTS ods.timeline_analysis_student (...) ENGINE = ... ;

Columns and clauses many tables share (where a row came from, when it landed, its Kafka
provenance) are written once, as named groups in ``clickhouse/landing/_column_groups.sql``; a
table file puts a group's lines in place with a comment line ``-- include: <group>[, <group>]``
(:func:`compose`). Headers, groups and includes are comment lines as ClickHouse's own lexer
finds them (:func:`classpulse.warehouse.scratch.tokens`): a line inside a string literal or a
block comment is never one. The composed statement is read by ClickHouse's own parser
(:func:`classpulse.warehouse.scratch.parse`): it must be one ``CREATE TABLE database.table``, in
any keyword case, and its canonical text is the table's DDL.

The landing consumer (:mod:`classpulse.kafka.landing`, ``classpulse load``) creates the tables
with :func:`create_landing_tables` and lands the topics from Kafka, exactly once in effect.
The same DDL files generate a ClickHouse Kafka-engine feed (a queue table with the landing
table's columns and a ``TO`` materialized view, :func:`kafka_ddl`) for a ClickHouse server
that consumes Kafka itself.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from classpulse.warehouse.scratch import Token

LANDING_DIR = Path("clickhouse") / "landing"
GROUPS_FILE = "_column_groups.sql"
"""The shared groups, in ``LANDING_DIR``; a file whose name starts with ``_`` is not a table."""
_BROKERS = re.compile(r"^[A-Za-z0-9._-]+:\d+(,[A-Za-z0-9._-]+:\d+)*$")


class LoadError(RuntimeError):
    """A load problem with what to do about it."""


@dataclass(frozen=True)
class LandingTable:
    """One landing table: its DDL file, the topic that feeds it, and its grain."""

    path: Path
    topic: str
    table: str  # database.table
    ddl: str
    grain: str = ""

    @property
    def database(self) -> str:
        return self.table.split(".", 1)[0]


def read_landing_tables(root: Path) -> list[LandingTable]:
    """The landing tables defined under ``<root>/clickhouse/landing``, in file-name order."""
    from classpulse.warehouse.scratch import parse, tokens

    directory = root / LANDING_DIR
    paths = [path for path in sorted(directory.glob("*.sql")) if not path.name.startswith("_")]
    groups_path = directory / GROUPS_FILE
    groups_text = groups_path.read_text(encoding="utf-8") if groups_path.is_file() else ""
    texts = [path.read_text(encoding="utf-8") for path in paths]
    groups_tokens, *file_tokens = tokens([groups_text, *texts])  # one question to the lexer
    groups = group_lines(groups_path, source_lines(groups_text, groups_tokens))
    files = []
    for path, text, found in zip(paths, texts, file_tokens, strict=True):
        lines = source_lines(text, found)
        header = read_header(lines)
        if "topic" not in header:
            raise LoadError(f"{path}: a landing DDL file needs a '-- topic: <name>' header")
        files.append((path, header, compose(lines, groups, path)))
    tables = []
    statements = parse([composed for *_, composed in files])
    for (path, header, _), statement in zip(files, statements, strict=True):
        created = statement.created_table()
        if created is None:
            raise LoadError(
                f"{path}: a landing DDL file holds one CREATE TABLE <database>.<table> statement"
                f" with its columns and engine{': ' + statement.error if statement.error else ''}"
            )
        table = ".".join(created)
        tables.append(
            LandingTable(path, header["topic"], table, statement.formatted, header.get("grain", ""))
        )
    topics = [table.topic for table in tables]
    duplicates = {topic for topic in topics if topics.count(topic) > 1}
    if duplicates:
        raise LoadError(f"topics landed by more than one DDL file: {sorted(duplicates)}")
    return tables


@dataclass(frozen=True)
class SourceLine:
    """One line of a SQL file as the engine's lexer sees it.

    ``kind`` is ``code`` when any token on it is code (a line inside a multi-line string literal
    is), else ``comment`` or ``blank``. ``directive`` is the (lower-case name, value) of a line
    that is one ``-- name: value`` comment and nothing else, the comment starting there."""

    text: str  # without its line end
    kind: str
    directive: tuple[str, str] | None = None


def source_lines(text: str, found: Sequence[Token]) -> list[SourceLine]:
    """``text``'s lines, classified by its tokens (:func:`classpulse.warehouse.scratch.tokens`)."""
    raw = text.splitlines(keepends=True)
    starts = [0]
    for line in raw:
        starts.append(starts[-1] + len(line))
    on_line: list[list[Token]] = [[] for _ in raw]
    for token in found:
        if token.kind == "Whitespace" or token.start >= token.end:
            continue
        first = bisect_right(starts, token.start) - 1
        last = bisect_right(starts, token.end - 1) - 1
        for number in range(first, min(last, len(raw) - 1) + 1):
            on_line[number].append(token)
    lines = []
    for number, line in enumerate(raw):
        here = on_line[number]
        kind = "code" if any(t.is_code for t in here) else "comment" if here else "blank"
        content = (line.splitlines() or [""])[0]  # without its line end, whichever it is
        lines.append(SourceLine(content, kind, _directive(text, here, starts[number])))
    return lines


def _directive(text: str, here: Sequence[Token], line_start: int) -> tuple[str, str] | None:
    if len(here) != 1 or here[0].kind != "Comment" or here[0].start < line_start:
        return None
    comment = here[0].text(text)
    if not comment.startswith("--"):
        return None
    name, colon, value = comment[2:].strip().partition(":")
    if not colon or not name.strip().isidentifier():
        return None
    return name.strip().lower(), value.strip()


def read_header(lines: Sequence[SourceLine]) -> dict[str, str]:
    """The ``-- name: value`` lines of the comment block a DDL file opens with."""
    header: dict[str, str] = {}
    for line in lines:
        if line.kind == "code":
            break
        if line.directive is not None:
            header.setdefault(*line.directive)
    return header


@dataclass(frozen=True)
class Include:
    """An ``-- include:`` line inside a group: the groups it puts in place."""

    names: tuple[str, ...]


def read_groups(path: Path) -> dict[str, list[str | Include]]:
    """The groups of lines the groups file ``path`` defines (:func:`group_lines`)."""
    from classpulse.warehouse.scratch import tokens

    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return group_lines(path, source_lines(text, tokens([text])[0]))


def group_lines(path: Path, lines: Sequence[SourceLine]) -> dict[str, list[str | Include]]:
    """The groups the lines of ``path`` define, and :data:`BUILT_IN_GROUPS`. A group runs from
    its ``-- group: <name>`` line to the next; comment lines in it are its documentation, an
    ``-- include:`` line stays to be composed."""
    groups: dict[str, list[str | Include]] = {
        name: list(members) for name, members in BUILT_IN_GROUPS.items()
    }
    current: list[str | Include] | None = None
    for number, line in enumerate(lines, start=1):
        name, value = line.directive or ("", "")
        if name == "group":
            if not value.isidentifier() or value in groups:
                raise LoadError(f"{path}:{number}: not a new group name: {value!r}")
            current = groups[value] = []
        elif name == "include" or line.kind == "code":
            if current is None:
                raise LoadError(f"{path}:{number}: a line before the first '-- group: <name>'")
            current.append(_included(value) if name == "include" else line.text.strip())
    return groups


def _included(value: str) -> Include:
    return Include(tuple(part.strip() for part in value.split(",")))


def compose(
    lines: Sequence[SourceLine], groups: Mapping[str, Sequence[str | Include]], path: Path
) -> str:
    """The file's text with each ``-- include: <group>[, <group>]`` line replaced by the
    groups' lines (a group may include others), at the include line's indentation."""

    def expand(include: Include, indent: str, within: tuple[str, ...]) -> list[str]:
        expanded = []
        for name in include.names:
            if name not in groups:
                raise LoadError(f"{path}: no group {name!r} (groups: {sorted(groups)})")
            if name in within:
                raise LoadError(f"{path}: group {name!r} includes itself")
            for member in groups[name]:
                if isinstance(member, Include):
                    expanded += expand(member, indent, (*within, name))
                else:
                    expanded.append(indent + member)
        return expanded

    composed: list[str] = []
    for line in lines:
        if line.directive is not None and line.directive[0] == "include":
            indent = line.text[: len(line.text) - len(line.text.lstrip())]
            composed += expand(_included(line.directive[1]), indent, ())
        else:
            composed.append(line.text)
    return "\n".join(composed)


PROVENANCE_COLUMNS = (
    ("kafka_topic", "LowCardinality(String) DEFAULT ''"),
    ("kafka_partition", "Int32 DEFAULT -1"),
    ("kafka_offset", "Int64 DEFAULT -1"),
)
"""(topic, partition, offset) of a row landed from Kafka: the landing's dedup key and what the
accounting by offsets counts (``classpulse.kafka.accounting``). The group ``kafka_provenance``
declares them, with their comments; :func:`create_landing_tables` adds them, as here, to a table
that lacks them (one created before they existed, one whose file does not include the group)."""


MESSAGE_KEY = "concat(replaceOne({split}, '/', '|'), '|', toString({offset}))"
"""The one definition of ``message_key`` = ``<topic>|<partition>|<offset>`` of the source message
(docs/contract.md 1.1), as a landing table computes it (a MATERIALIZED column) from the source
split the cleaning job writes (``<topic>/<partition>``; a topic name has no ``/``) and the source
offset. No byte of it travels through Kafka or the landing; NULL while the offset is unknown.
The landing DDL files take the column from the group ``message_key`` (:data:`BUILT_IN_GROUPS`),
but for ``timeline_analysis_student``, whose columns are camelCase (a test holds it to this
expression); the room tables, whose clean topics carry the offset only inside the key, get the
same value from their cleaning jobs."""


def message_key_expression(split: str = "source_split", offset: str = "source_offset") -> str:
    """:data:`MESSAGE_KEY` over a table's source split and offset columns."""
    return MESSAGE_KEY.format(split=split, offset=offset)


BUILT_IN_GROUPS: dict[str, tuple[str, ...]] = {
    "message_key": (
        f"message_key Nullable(String) MATERIALIZED {message_key_expression()} COMMENT"
        " '<topic>|<partition>|<offset> of the source message (contract 1.1);"
        " NULL while its offset is unknown',",
    ),
}
"""Groups the DDL files include as those of ``_column_groups.sql``, made here from the one
definition they repeat."""


KEY_COLUMNS_ADDED: dict[str, tuple[str, str, str]] = {
    "ods.topic_accounting_log": (
        "first_offset",
        "Int64 AFTER source_split",
        "(topic, source_split, first_offset)",
    ),
    "ods.mart_accounting_log": (
        "counting_since",
        "DateTime64(3, 'UTC') AFTER mart",
        "(mart, counting_since)",
    ),
}
"""Sorting-key columns added to landing tables after their first release: table -> (column, type,
new key). The run that counted an accounting row is part of its key, so the rows of two runs of a
job add up instead of replacing each other. ClickHouse extends a sorting key only with a column
added in the same ALTER and without a default expression, so a table that lacks the column gets
both at once; its rows (the runs before) get the type's zero."""


def create_landing_tables(client, tables: Iterable[LandingTable]) -> None:
    """Create the databases and every landing table if missing (a table created before the
    provenance columns or a sorting-key column existed gets them; one created by an earlier
    release gets the columns its DDL file has gained since, :mod:`classpulse.warehouse.migrate`)."""
    from classpulse.warehouse import create_layer_databases
    from classpulse.warehouse.migrate import upgrade_tables

    tables = list(tables)
    create_layer_databases(client)
    for table in tables:
        client.command(table.ddl)
        if table.path.parent.name != LANDING_DIR.name:  # not the project's own DDL files
            continue
        for column, kind in PROVENANCE_COLUMNS:
            client.command(f"ALTER TABLE {table.table} ADD COLUMN IF NOT EXISTS {column} {kind}")
        if table.table in KEY_COLUMNS_ADDED:
            column, kind, key = KEY_COLUMNS_ADDED[table.table]
            database, name = table.table.split(".", 1)
            present = client.query(
                "SELECT count() FROM system.columns"
                " WHERE database = {db:String} AND table = {t:String} AND name = {c:String}",
                parameters={"db": database, "t": name, "c": column},
            ).result_rows[0][0]
            if not present:
                client.command(
                    f"ALTER TABLE {table.table} ADD COLUMN {column} {kind}, MODIFY ORDER BY {key}"
                )
    # last, after the sorting-key columns above (those must come with their key, never here as
    # plain columns): whatever else a DDL file gained since its table was created
    own = [table for table in tables if table.path.parent.name == LANDING_DIR.name]
    upgrade_tables(client, [(table.table, table.ddl) for table in own])


def kafka_ddl(
    client, table: LandingTable, broker_list: str, group: str = "classpulse"
) -> list[str]:
    """The production feed for ``table``: a Kafka queue table and a ``TO`` view.

    Columns come from the landing table itself (``system.columns``), so the DDL file is
    the one definition of both paths. Columns with a DEFAULT, MATERIALIZED or ALIAS expression
    (``landed_at``, ``origin``, ``message_key``) are left to the target, which computes them:
    a queue column the message lacks would hand the view its type's zero value instead.
    """
    if not _BROKERS.match(broker_list):
        raise LoadError(f"not a Kafka broker list (host:port[,host:port...]): {broker_list!r}")
    database, name = table.table.split(".", 1)
    rows = client.query(
        "SELECT name, type, default_kind FROM system.columns"
        " WHERE database = {db:String} AND table = {t:String} ORDER BY position",
        parameters={"db": database, "t": name},
    ).result_rows
    if not rows:
        raise LoadError(f"{table.table} does not exist; run `classpulse load` once to create it")
    # provenance comes from the engine's virtual columns, not from the message
    provenance = {
        "kafka_topic": "_topic",
        "kafka_partition": "_partition",
        "kafka_offset": "_offset",
    }
    payload = [(column, kind) for column, kind, default in rows if not default]
    present = {column for column, _, _ in rows}
    columns = ",\n    ".join(f"`{column}` {kind}" for column, kind in payload)
    names = ", ".join(
        [f"`{column}`" for column, _ in payload]
        + [
            f"{virtual} AS `{column}`"
            for column, virtual in provenance.items()
            if column in present
        ]
    )
    queue = f"{database}.{name}_queue"
    return [
        f"CREATE TABLE IF NOT EXISTS {queue}\n(\n    {columns}\n)\nENGINE = Kafka\nSETTINGS\n"
        f"    kafka_broker_list = '{broker_list}',\n"
        f"    kafka_topic_list = '{table.topic}',\n"
        f"    kafka_group_name = '{group}_{name}',\n"
        "    kafka_format = 'JSONEachRow',\n"
        "    kafka_handle_error_mode = 'stream',\n"
        "    kafka_num_consumers = 1",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.{name}_mv TO {table.table} AS\n"
        f"SELECT {names}\nFROM {queue}\nWHERE length(_error) = 0",
    ]
