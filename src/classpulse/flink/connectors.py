"""Compose each Flink table's DDL: its columns from one file, its WITH options from its role.

``flink_sql/tables/<table>.sql`` holds one ``CREATE TABLE`` with the table's columns, computed
columns and watermark only, and a ``-- role: <role>`` line in its header comment.
``flink_sql/connectors/<env>.yaml`` defines, for one environment, the options of every role
(``roles``), the columns a role adds (a raw source's Kafka metadata and ``source_split``), and
what differs per table (``tables``: a topic named otherwise, options of its own). The rendered
DDL keeps its ``${VAR}`` placeholders; :func:`classpulse.flink.variables.render` fills them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from classpulse.flink.sqlfiles import fill_placeholders
from classpulse.flink.sqltokens import comment_directives, strip_comments
from classpulse.kafka.splits import split_expression

TABLES_DIR = Path("flink_sql") / "tables"
CONNECTORS_DIR = Path("flink_sql") / "connectors"


class ConnectorConfigError(ValueError):
    """An environment file or a table file the renderer cannot use, with the reason."""


@dataclass(frozen=True)
class Connection:
    """What one environment says about one table: its role, topic, extra columns, options."""

    role: str
    topic: str | None  # None for a table that is no Kafka topic (the warehouse lookups)
    columns: tuple[str, ...]
    options: Mapping[str, str]

    def with_clause(self) -> str:
        pairs = ",\n".join(
            f"    '{_quote(key)}' = '{_quote(value)}'" for key, value in self.options.items()
        )
        return f"WITH (\n{pairs}\n)"


def _quote(text: str) -> str:
    return text.replace("'", "''")


def environments(root: Path) -> list[str]:
    """The environments that have a ``flink_sql/connectors/<env>.yaml``."""
    return sorted(path.stem for path in (root / CONNECTORS_DIR).glob("*.yaml"))


def declared_role(text: str, where: str) -> str:
    """The role named by the table file's ``-- role:`` comment (exactly one, one word)."""
    roles = comment_directives(text, "role")
    if len(roles) != 1 or not roles[0].isidentifier():
        raise ConnectorConfigError(f"{where}: expected one '-- role: <role>' line, found {roles}")
    return roles[0]


class Environment:
    """One ``flink_sql/connectors/<env>.yaml``: options per role, and per table."""

    def __init__(self, path: Path) -> None:
        self.path = path
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        unknown = set(loaded) - {"roles", "tables"}
        if unknown:
            raise ConnectorConfigError(f"{path}: unknown section(s) {sorted(unknown)}")
        self.roles: dict[str, dict[str, Any]] = loaded.get("roles") or {}
        self.tables: dict[str, dict[str, Any]] = loaded.get("tables") or {}
        for name, spec in {**self.roles, **self.tables}.items():
            extra = set(spec or {}) - {"extends", "columns", "options", "topic"}
            if extra:
                raise ConnectorConfigError(f"{path}: {name}: unknown key(s) {sorted(extra)}")

    @classmethod
    def load(cls, root: Path, env: str) -> Environment:
        path = root / CONNECTORS_DIR / f"{env}.yaml"
        if not path.is_file():
            known = ", ".join(environments(root))
            raise ConnectorConfigError(f"no connector environment {env!r} (known: {known})")
        return cls(path)

    def _role_chain(self, role: str, trail: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The role's specs, most general first (``extends`` applied before the role itself)."""
        if role not in self.roles:
            raise ConnectorConfigError(
                f"{self.path}: no role {role!r} (roles: {sorted(self.roles)})"
            )
        if role in trail:
            raise ConnectorConfigError(f"{self.path}: roles extend each other: {trail + (role,)}")
        spec = self.roles[role] or {}
        parents = spec.get("extends") or []
        chain: list[dict[str, Any]] = []
        for parent in [parents] if isinstance(parents, str) else parents:
            chain += self._role_chain(parent, (*trail, role))
        return [*chain, spec]

    def connection(self, table: str, role: str) -> Connection:
        """The options and generated columns of ``table`` in the role it declares."""
        own = self.tables.get(table) or {}
        options: dict[str, str] = {}
        columns: list[str] = []
        for spec in [*self._role_chain(role), own]:
            columns += spec.get("columns") or []
            for key, value in (spec.get("options") or {}).items():
                if value is None:
                    options.pop(key, None)
                else:
                    options[key] = str(value)
        kafka = options.get("connector") == "kafka"
        topic = str(own.get("topic") or table) if kafka else None
        if own.get("topic") and not kafka:
            raise ConnectorConfigError(f"{self.path}: {table} is no Kafka table but names a topic")
        values = {"table": table, "topic": topic or ""}
        if topic is not None:
            values["source_split"] = split_expression(topic)

        def one(name: str, default: str | None) -> str:
            if name not in values or default is not None:
                written = name if default is None else f"{name}:{default}"
                raise ConnectorConfigError(
                    f"{self.path}: {table}: unknown template {{{written}}} "
                    f"(known: {sorted(values)})"
                )
            return values[name]

        def fill(text: str) -> str:
            return fill_placeholders(text, one)

        return Connection(
            role=role,
            topic=topic,
            columns=tuple(fill(column) for column in columns),
            options={key: fill(value) for key, value in options.items()},
        )

    def check_tables(self, names: set[str]) -> None:
        """Every table the environment names has a table file."""
        unknown = sorted(set(self.tables) - names)
        if unknown:
            raise ConnectorConfigError(f"{self.path}: options for unknown table(s) {unknown}")


def compose_ddl(statement: str, connection: Connection, where: str) -> str:
    """The table file's ``CREATE TABLE`` with the role's columns and WITH clause added.

    The statement must end with the closing parenthesis of its column list (no WITH of its own:
    options belong to the environment).
    """
    body = statement.rstrip()
    if not body.endswith(")"):
        raise ConnectorConfigError(
            f"{where}: the CREATE TABLE must end with its column list (no WITH: connector "
            "options belong in flink_sql/connectors/<env>.yaml)"
        )
    head = body[:-1].rstrip()
    if connection.columns:
        # the comma goes after the last column's code, before any comment on its line
        lines = head.splitlines()
        code = strip_comments(lines[-1]).rstrip()
        if not lines[-1].startswith(code):
            raise ConnectorConfigError(f"{where}: end the last column's line with a -- comment")
        lines[-1] = code + "," + lines[-1][len(code) :]
        head = "\n".join(lines) + "".join(f"\n    {column}," for column in connection.columns)
        head = head[:-1]
    return f"{head}\n) {connection.with_clause()}"
