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
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

JOBS_DIR = Path("flink_sql") / "jobs"
CONNECTORS_DIR = Path("flink_sql") / "connectors"
TABLES_DIR = Path("flink_sql") / "tables"
TEMPLATES_DIR = Path("flink_sql") / "templates"

_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?", re.I)
_CREATE_VIEW = re.compile(r"^\s*CREATE\s+TEMPORARY\s+VIEW\s+`?(\w+)`?", re.I)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+`?(\w+)`?", re.I)
_WATERMARK = re.compile(r"\bWATERMARK\s+FOR\b", re.I)
_WORD = re.compile(r"`?([A-Za-z_]\w*)`?")
_APPLY_TEMPLATE = re.compile(r"^\s*APPLY\s+TEMPLATE\b", re.I)
_APPLY_TEMPLATE_CALL = re.compile(r"^\s*APPLY\s+TEMPLATE\s+(\w+)\s*\((.*)\)\s*$", re.I | re.S)
# <argument> = '<text>' (a quote doubled) or <argument> = $$<text>$$ (SQL with its quotes as is)
_TEMPLATE_ARGUMENT = re.compile(
    r"\s*(\w+)\s*=\s*(?:'((?:[^']|'')*)'|\$\$(.*?)\$\$)\s*(?:,|$)", re.S
)
# {name} or {name:default}; a ${VARIABLE} (filled when the job runs) is neither
_TEMPLATE_PLACEHOLDER = re.compile(r"(?<!\$)\{(\w+)(?::((?:[^{}$]|\$\{\w+\})*))?\}")


class SqlFileError(ValueError):
    """A SQL file that the runner cannot use, with the file and the reason."""


def split_statements(text: str) -> list[str]:
    """Split SQL text on top-level semicolons (not inside quotes or comments).

    Comments stay attached to the statement that follows them; empty statements are dropped.
    """
    statements: list[str] = []
    current: list[str] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == "-" and text.startswith("--", index):
            end = text.find("\n", index)
            end = length if end < 0 else end
            current.append(text[index:end])
            index = end
            continue
        if char == "/" and text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = length if end < 0 else end + 2
            current.append(text[index:end])
            index = end
            continue
        if char in "'`\"":
            end = index + 1
            while end < length:
                if text[end] == char:
                    if char == "'" and end + 1 < length and text[end + 1] == "'":
                        end += 2
                        continue
                    break
                end += 1
            current.append(text[index : end + 1])
            index = end + 1
            continue
        if char == ";":
            statement = "".join(current).strip()
            if strip_comments(statement).strip():
                statements.append(statement)
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    tail = "".join(current).strip()
    if strip_comments(tail).strip():
        statements.append(tail)
    return statements


def strip_comments(text: str, *, strings: bool = False) -> str:
    """The text without ``--`` and ``/* */`` comments (and string literals if ``strings``)."""
    out: list[str] = []
    index, length = 0, len(text)
    while index < length:
        if text.startswith("--", index):
            end = text.find("\n", index)
            index = length if end < 0 else end
            continue
        if text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = length if end < 0 else end + 2
            continue
        char = text[index]
        if char == "'":
            end = index + 1
            while end < length:
                if text[end] == "'":
                    if end + 1 < length and text[end + 1] == "'":
                        end += 2
                        continue
                    break
                end += 1
            out.append("''" if strings else text[index : end + 1])
            index = end + 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


def header_comment(text: str) -> str:
    """The leading ``--`` comment block of a file, without the dashes."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("--"):
            break
        if not stripped[2:].strip().startswith("role:"):  # a table's role (connectors.py)
            lines.append(stripped[2:].strip())
    return " ".join(line for line in lines if line)


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
        code = strip_comments(statement)
        if not _APPLY_TEMPLATE.match(code):
            expanded.append(statement)
            continue
        call = _APPLY_TEMPLATE_CALL.match(code)
        if call is None:
            raise SqlFileError(
                f"{where}: write apply template <name> (<argument> = '<text>', ...); "
                f"found {code.strip()!r}"
            )
        name, arguments = call.group(1), _template_arguments(call.group(2), where)
        if name not in templates:
            path = root / TEMPLATES_DIR / f"{name}.sql"
            if not path.is_file():
                raise SqlFileError(f"{where}: no template {name!r} ({path} is missing)")
            templates[name] = path.read_text(encoding="utf-8")
        filled = _fill_template(templates[name], arguments, f"{where}: {name}")
        expanded += split_statements(filled)
    return expanded


def _fill_template(text: str, arguments: dict[str, str], where: str) -> str:
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        argument, default = match.group(1), match.group(2)
        used.add(argument)
        if argument in arguments:
            return arguments[argument]
        if default is None:
            raise SqlFileError(f"{where}: the template needs argument {argument!r}")
        return default

    filled = _TEMPLATE_PLACEHOLDER.sub(fill, text)
    unknown = sorted(set(arguments) - used)
    if unknown:
        raise SqlFileError(f"{where}: the template takes no argument(s) {unknown}")
    return filled


def _template_arguments(text: str, where: str) -> dict[str, str]:
    arguments: dict[str, str] = {}
    index = 0
    while text[index:].strip():
        match = _TEMPLATE_ARGUMENT.match(text, index)
        if match is None:
            raise SqlFileError(f"{where}: expected <argument> = '<text>' at {text[index:]!r}")
        if match.group(1) in arguments:
            raise SqlFileError(f"{where}: argument {match.group(1)!r} given twice")
        quoted, dollar_quoted = match.group(2), match.group(3)
        arguments[match.group(1)] = dollar_quoted if quoted is None else quoted.replace("''", "'")
        index = match.end()
    return arguments


def job_statements(path: Path, text: str | None = None) -> list[str]:
    """The statements of a job file (``text``, when already read), templates expanded
    (``path`` is ``<root>/flink_sql/jobs/<job>.sql``)."""
    root = path.parent.parent.parent
    if text is None:
        text = path.read_text(encoding="utf-8")
    return expand_templates(split_statements(text), root, str(path))


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
        statements = expand_templates(split_statements(text), root, str(path))
        if len(statements) != 1:
            raise SqlFileError(
                f"{path}: expected exactly one CREATE TABLE, found {len(statements)}"
            )
        match = _CREATE_TABLE.match(strip_comments(statements[0]))
        if match is None:
            raise SqlFileError(f"{path}: the statement is not a CREATE TABLE")
        if match.group(1) != path.stem:
            raise SqlFileError(f"{path}: defines table {match.group(1)!r}; name the file after it")
        try:
            connection = environment.connection(path.stem, declared_role(text, str(path)))
            ddl = compose_ddl(statements[0], connection, str(path))
        except ConnectorConfigError as exc:
            raise SqlFileError(str(exc)) from exc
        tables.append(
            ConnectorTable(
                name=match.group(1),
                path=path,
                ddl=ddl,
                description=header_comment(text),
                has_watermark=bool(_WATERMARK.search(strip_comments(ddl))),
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

    @property
    def outputs(self) -> frozenset[str]:
        return frozenset(target for target, _ in self.inserts)


def parse_job(path: Path, table_names: Iterable[str]) -> Job:
    """Parse one job file; ``table_names`` are the connector tables, to find the job's inputs."""
    text = path.read_text(encoding="utf-8")
    views: list[tuple[str, str]] = []
    inserts: list[tuple[str, str]] = []
    for statement in job_statements(path, text):
        code = strip_comments(statement)
        view = _CREATE_VIEW.match(code)
        insert = _INSERT.match(code)
        if view:
            views.append((view.group(1), statement))
        elif insert:
            inserts.append((insert.group(1), statement))
        else:
            first = code.strip().split(None, 2)[:2]
            raise SqlFileError(
                f"{path}: only CREATE TEMPORARY VIEW and INSERT INTO belong in a job file, with "
                "apply template (connector options go in flink_sql/connectors/); found "
                f"{' '.join(first)!r}"
            )
    if not inserts:
        raise SqlFileError(f"{path}: a job needs at least one INSERT INTO")
    known = set(table_names)
    unknown = sorted({target for target, _ in inserts} - known)
    if unknown:
        raise SqlFileError(f"{path}: INSERT INTO unknown table(s) {unknown}")
    mentioned: set[str] = set()
    for _, statement in views + inserts:
        body = strip_comments(statement, strings=True)
        insert = _INSERT.match(body)
        if insert:
            body = body[insert.end() :]
        mentioned.update(word for word in _WORD.findall(body) if word in known)
    return Job(
        name=path.stem,
        path=path,
        description=header_comment(text),
        views=tuple(views),
        inserts=tuple(inserts),
        inputs=frozenset(mentioned),
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
