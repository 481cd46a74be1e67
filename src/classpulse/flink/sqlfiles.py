"""Read the Flink SQL files: connector DDL and one job per file.

Layout (see ``shared/STYLE.md``)::

    flink_sql/tables/<table>.sql             one CREATE TABLE per file: columns, watermark, role
    flink_sql/connectors/<env>.yaml          the WITH options of each role in one environment
    flink_sql/jobs/<job>.sql                 header comment, CREATE TEMPORARY VIEWs, INSERTs
    flink_sql/templates/<template>.sql       statements several files share, with {argument}s

A job file holds only views and INSERT statements, and ``apply template <template> (<argument> =
'<text>', ...)`` statements that stand for a template's statements with its ``{argument}``s (or
``{argument:default}``s) replaced by the text given (:func:`expand_templates`): what every
cleaning job and every real-time mart does alike is written once (a table file may be one
``apply template`` too: the columns the classroom topics share). Connector options live in the
connector files, so the same job runs bounded and continuously, on a local broker and on a cluster. The
INSERT targets of a job are its outputs; the connector tables it mentions otherwise are its
inputs. In a bounded run a job that reads a table another job writes runs in a later stage (see
:func:`plan_stages`).

Text is split into statements on sqlfluff's lexer (:mod:`.sqltokens`); what a statement is (a
view, an INSERT and its target, the tables it reads, a table's watermark) Flink's own parser
says (:mod:`.sqlparser`), after the templates are expanded (``apply template`` is no Flink SQL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from classpulse.flink.sqlparser import Statement, read_statement
from classpulse.flink.sqltokens import (
    SqlFileError,
    code_tokens,
    header_comment,
    read_template_call,
    split_statements,
    strip_comments,
)

__all__ = ["SqlFileError", "header_comment", "split_statements", "strip_comments"]

JOBS_DIR = Path("flink_sql") / "jobs"
CONNECTORS_DIR = Path("flink_sql") / "connectors"
TABLES_DIR = Path("flink_sql") / "tables"
TEMPLATES_DIR = Path("flink_sql") / "templates"

# {name} or {name:default}; a ${VARIABLE} (filled when the job runs) is neither. A placeholder
# is found in the template's text, not on SQL tokens: it stands inside string literals
# ('{topic}') and for parts of names ({checked}_split_counts), and the text is no SQL until
# filled; filling it decides nothing about SQL (what the filled text is, the parser says).
PLACEHOLDER = re.compile(r"(?<!\$)\{(\w+)(?::((?:[^{}$]|\$\{\w+\})*))?\}")


def fill_placeholders(text: str, value_of: Callable[[str, str | None], str]) -> str:
    """``text`` with each ``{name}`` / ``{name:default}`` replaced by ``value_of(name, default)``."""
    return PLACEHOLDER.sub(lambda match: value_of(match.group(1), match.group(2)), text)


def expand_templates(statements: list[str], root: Path, where: str) -> list[str]:
    """The statements with each ``apply template`` replaced by its template's statements.

    ``apply template <name> (<argument> = '<text>', ...)`` reads
    ``flink_sql/templates/<name>.sql`` and replaces each ``{argument}`` in it by the text given
    (a quote in the text doubled, as in a SQL string; or the text between ``$$`` and ``$$``, SQL
    with its quotes as they are), each ``{argument:default}`` by the text given or else the
    default. An argument the template does not name, or one it needs and the
    statement does not give, is an error.
    """
    expanded: list[str] = []
    templates: dict[str, str] = {}  # a template applied several times is read once
    for statement in statements:
        call = read_template_call(statement, where)
        if call is None:
            expanded.append(statement)
            continue
        if call.name not in templates:
            path = root / TEMPLATES_DIR / f"{call.name}.sql"
            if not path.is_file():
                raise SqlFileError(f"{where}: no template {call.name!r} ({path} is missing)")
            templates[call.name] = path.read_text(encoding="utf-8")
        filled = _fill_template(templates[call.name], call.arguments, f"{where}: {call.name}")
        try:
            expanded += split_statements(filled)
        except SqlFileError as exc:
            raise SqlFileError(f"{where}: {call.name}: {exc}") from None
    return expanded


def _fill_template(text: str, arguments: dict[str, str], where: str) -> str:
    used: set[str] = set()

    def fill(argument: str, default: str | None) -> str:
        used.add(argument)
        if argument in arguments:
            return arguments[argument]
        if default is None:
            raise SqlFileError(f"{where}: the template needs argument {argument!r}")
        return default

    filled = fill_placeholders(text, fill)
    unknown = sorted(set(arguments) - used)
    if unknown:
        raise SqlFileError(f"{where}: the template takes no argument(s) {unknown}")
    return filled


def job_statements(path: Path, text: str | None = None) -> list[str]:
    """The statements of a job file (``text``, when already read), templates expanded
    (``path`` is ``<root>/flink_sql/jobs/<job>.sql``)."""
    root = path.parent.parent.parent
    if text is None:
        text = path.read_text(encoding="utf-8")
    return expand_templates(_statements_of(text, path), root, str(path))


def _statements_of(text: str, path: Path) -> list[str]:
    try:
        return split_statements(text)
    except SqlFileError as exc:
        raise SqlFileError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class ConnectorTable:
    """One table of a connector environment: its DDL (with ${VAR}s) and what the DDL says."""

    name: str
    path: Path  # flink_sql/tables/<name>.sql: columns, computed columns, watermark
    ddl: str  # the columns with the role's columns and WITH options of the environment
    description: str
    has_watermark: bool
    role: str = ""
    topic: str | None = None  # its Kafka topic; None for the warehouse lookups


def read_connector_tables(root: Path, env: str) -> list[ConnectorTable]:
    """The tables of ``flink_sql/tables/*.sql`` in file-name order, with the WITH options of
    their roles in ``flink_sql/connectors/<env>.yaml`` (:mod:`classpulse.flink.connectors`)."""
    from classpulse.flink.connectors import (
        ConnectorConfigError,
        Environment,
        compose_ddl,
        declared_role,
    )

    try:
        environment = Environment.load(root, env)
    except ConnectorConfigError as exc:
        raise SqlFileError(str(exc)) from exc
    tables = []
    for path in sorted((root / TABLES_DIR).glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        # a table may be written as a template applied (columns several tables share)
        statements = expand_templates(_statements_of(text, path), root, str(path))
        if len(statements) != 1:
            raise SqlFileError(
                f"{path}: expected exactly one CREATE TABLE, found {len(statements)}"
            )
        try:
            table = read_statement(statements[0])
        except SqlFileError as exc:
            raise SqlFileError(f"{path}: {exc}") from None
        if table.kind != "create table":
            raise SqlFileError(f"{path}: the statement is not a CREATE TABLE")
        if table.name != path.stem:
            raise SqlFileError(f"{path}: defines table {table.name!r}; name the file after it")
        try:
            connection = environment.connection(path.stem, declared_role(text, str(path)))
            ddl = compose_ddl(statements[0], connection, str(path))
        except ConnectorConfigError as exc:
            raise SqlFileError(str(exc)) from exc
        tables.append(
            ConnectorTable(
                name=table.name,
                path=path,
                ddl=ddl,
                description=header_comment(text),
                # the role adds columns and options, never a watermark
                has_watermark=table.has_watermark,
                role=connection.role,
                topic=connection.topic,
            )
        )
    try:
        environment.check_tables({table.name for table in tables})
    except ConnectorConfigError as exc:
        raise SqlFileError(str(exc)) from exc
    return tables


@dataclass(frozen=True)
class Job:
    """One job file: its views and INSERTs, what it reads and what it writes."""

    name: str
    path: Path
    description: str
    views: tuple[tuple[str, str], ...]  # (view name, statement), in file order
    inserts: tuple[tuple[str, str], ...]  # (target table, statement), in file order
    inputs: frozenset[str] = field(default_factory=frozenset)
    # what Flink's parser read in each view and INSERT, in file order
    statements: tuple[Statement, ...] = field(default=(), compare=False, repr=False)

    @property
    def outputs(self) -> frozenset[str]:
        return frozenset(target for target, _ in self.inserts)


def parse_job(path: Path, table_names: Iterable[str]) -> Job:
    """Parse one job file; ``table_names`` are the connector tables, to find the job's inputs."""
    text = path.read_text(encoding="utf-8")
    views: list[tuple[str, str]] = []
    inserts: list[tuple[str, str]] = []
    read: list[Statement] = []
    for statement in job_statements(path, text):
        try:
            shape = read_statement(statement)
        except SqlFileError as exc:
            raise SqlFileError(f"{path}: {exc}\nin: {statement[:200]}") from None
        if shape.kind == "create view" and shape.temporary and shape.name:
            views.append((shape.name, statement))
        elif shape.kind == "insert" and shape.name:
            inserts.append((shape.name, statement))
        else:
            first = " ".join(token.text for token in code_tokens(statement)[:2])
            raise SqlFileError(
                f"{path}: only CREATE TEMPORARY VIEW and INSERT INTO belong in a job file, with "
                "apply template (connector options go in flink_sql/connectors/); found "
                f"{first!r}"
            )
        read.append(shape)
    if not inserts:
        raise SqlFileError(f"{path}: a job needs at least one INSERT INTO")
    known = set(table_names)
    unknown = sorted({target for target, _ in inserts} - known)
    if unknown:
        raise SqlFileError(f"{path}: INSERT INTO unknown table(s) {unknown}")
    return Job(
        name=path.stem,
        path=path,
        description=header_comment(text),
        views=tuple(views),
        inserts=tuple(inserts),
        inputs=frozenset(name for shape in read for name in shape.reads if name in known),
        statements=tuple(read),
    )


def discover_jobs(root: Path, table_names: Iterable[str]) -> list[Job]:
    """Every ``flink_sql/jobs/*.sql`` in file-name order; view names must be unique across jobs."""
    names = list(table_names)
    jobs = [parse_job(path, names) for path in sorted((root / JOBS_DIR).glob("*.sql"))]
    owners: dict[str, str] = {}
    for job in jobs:
        for view, _ in job.views:
            if view in owners:
                raise SqlFileError(
                    f"view {view!r} is defined by both {owners[view]} and {job.name}: all jobs "
                    "share one table environment, so view names must be unique"
                )
            owners[view] = job.name
    return jobs


def plan_stages(jobs: list[Job]) -> list[list[Job]]:
    """Group jobs into the stages of a bounded run: a job runs in a later stage than every job
    whose output it reads (a bounded Kafka source fixes its end offsets when it starts)."""
    writers: dict[str, set[str]] = {}
    for job in jobs:
        for table in job.outputs:
            writers.setdefault(table, set()).add(job.name)
    by_name = {job.name: job for job in jobs}
    depth: dict[str, int] = {}

    def depth_of(name: str, trail: tuple[str, ...]) -> int:
        if name in depth:
            return depth[name]
        if name in trail:
            raise SqlFileError(f"jobs read each other's output in a cycle: {' -> '.join(trail)}")
        upstream = {
            writer
            for table in by_name[name].inputs - by_name[name].outputs
            for writer in writers.get(table, ())
            if writer != name
        }
        depth[name] = 1 + max((depth_of(up, (*trail, name)) for up in upstream), default=-1)
        return depth[name]

    for job in jobs:
        depth_of(job.name, ())
    stages: list[list[Job]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for job in jobs:
        stages[depth[job.name]].append(job)
    return stages


plan_waves = plan_stages  # the former name (bench/realtime.py)
