"""What a user may run, decided from the engine's own parse of the statement.

chDB is ClickHouse in *local* mode: whatever a statement asks of the host, it does as the
server process (``file('/etc/passwd')``, ``INTO OUTFILE``, ``FROM INFILE``, a ``File``
table over any path). A ClickHouse server confines these; the embedded server confines
them here, before the statement runs, the way a server would:

- ``warehouse/statement.py`` has the engine read the statement, nothing of it run: one
  statement only; ``INTO OUTFILE``, ``FROM INFILE`` and settings whose values are SQL refused
  wherever they sit, before anything is explained; then the engine's syntax tree of the
  statement as it will run (``EXPLAIN AST``, the request's ``param_*`` values substituted);
- that tree is walked here:

  * ``INTO OUTFILE`` and ``FROM INFILE`` are refused for every user (a server never
    writes or reads files for HTTP clients);
  * file access (the ``file`` function and table function, ``fileCluster``,
    ``filesystem``, the ``File`` engine, a dictionary ``FILE`` source) is confined to
    one directory, the server's ``user_files`` directory; relative paths are taken from
    it (the server runs in it). The analyst has no file access at all;
  * programs and the server's own memory are out of reach (``executable``, the
    ``Executable`` engines and dictionary sources, chDB's ``python`` table function),
    as are other local-file readers (``sqlite``, the ``*Local`` lake functions) and
    ``BACKUP``/``RESTORE``/``ATTACH``, which take paths the tree does not show;
  * the analyst reads only the configured databases (and a few harmless ``system``
    tables), runs only read statements, and uses only table functions that generate
    data (``numbers``, ``values``...).

Anything the walk does not understand is refused (it fails closed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from classpulse.warehouse.engine import ServerError
from classpulse.warehouse.sqltext import unquote_literal
from classpulse.warehouse.statement import (
    EXPRESSION_SETTINGS,
    Node,
    StatementReader,
    denied,
    expression_setting_message,
    infile_refused,
    outfile_refused,
)

# Table functions that generate data and touch nothing else: all the analyst may use.
ANALYST_TABLE_FUNCTIONS = frozenset(
    {
        "numbers",
        "numbers_mt",
        "zeros",
        "zeros_mt",
        "values",
        "view",
        "generate_series",
        "generateseries",
        "null",
        "format",
        "generaterandom",
    }
)
# system tables the analyst may read. processes/databases/tables/columns are filtered by
# the engine to the analyst's own queries and databases (see Engine.analyst_settings).
ANALYST_SYSTEM_TABLES = frozenset(
    {
        "one",
        "numbers",
        "numbers_mt",
        "zeros",
        "zeros_mt",
        "processes",
        "databases",
        "tables",
        "columns",
        "functions",
        "table_functions",
        "table_engines",
        "formats",
        "settings",
        "data_type_families",
        "time_zones",
        "collations",
        "aggregate_function_combinators",
        "keywords",
        "build_options",
        "contributors",
        "licenses",
    }
)
# Statements the analyst may run (the engine also holds the analyst at readonly=1).
ANALYST_STATEMENTS = frozenset(
    {
        "SelectWithUnionQuery",
        "SelectIntersectExceptQuery",
        "ShowTables",  # SHOW TABLES/DATABASES/SETTINGS: the database, if any, is a child
        "DescribeQuery",
        "ExistsTableQuery",
        "ExistsDatabaseQuery",
        "ShowCreateTableQuery",
        "ShowCreateDatabaseQuery",
        "Explain",
        "UseQuery",
        "KillQueryQuery",
        "ShowProcesslistQuery",
        "Set",
        "ShowFunctions",
        "ShowEngineQuery",
    }
)
# Scalar functions that reach a table or dictionary by a name in a string.
_BY_NAME_PREFIXES = ("dict", "joinget")
_BY_NAME_FUNCTIONS = frozenset({"hascolumnintable", "file", "getserversetting"})
# IN-family functions: a bare identifier as the right-hand side is a table.
_IN_FUNCTIONS = frozenset(
    {
        "in",
        "notin",
        "globalin",
        "globalnotin",
        "nullin",
        "notnullin",
        "globalnullin",
        "globalnotnullin",
    }
)
# Reading or running things on the host, for nobody over HTTP.
_NEVER = frozenset(
    {
        "executable",
        "executablepool",
        "executable_pool",
        "python",
        "sqlite",
        "iceberglocal",
        "iceberglocalcluster",
        "deltalakelocal",
        "deltalakelocalcluster",
        "filelog",
    }
)
_NEVER_STATEMENTS = {
    "BackupQuery": "BACKUP and RESTORE are not available over HTTP on the embedded server "
    "(they read and write paths on the host); use `classpulse warehouse` on the host",
    "AttachQuery": "ATTACH is not available over HTTP on the embedded server (it can read "
    "data from any path on the host); CREATE the table instead",
}
# File access: the argument that holds the path, by function (for the File engine, the
# second argument; none means the table keeps its data in the warehouse itself).
_FILE_FUNCTIONS = {"file": 0, "filecluster": 1, "filesystem": 0}
# Statements that carry INTO OUTFILE as a literal child of the statement itself.
_OUTPUT_STATEMENT_PREFIXES = (
    "Select",
    "Show",
    "Describe",
    "Explain",
    "Exists",
    "Drop",
    "Optimize",
    "Rename",
    "Truncate",
    "Alter",
    "Check",
)

# Characters that make a string more than a name (a table, a host): SQL.
_SQL_CHARACTERS = frozenset(" \t\n()'\";`,=<>")


def check_settings(settings) -> None:
    """Refuse request settings whose values are SQL the policy cannot see."""
    for name in settings:
        if name in EXPRESSION_SETTINGS:
            raise denied(expression_setting_message(name))


@dataclass(frozen=True)
class Scope:
    """Who runs the statement and what they may reach."""

    analyst: bool
    databases: frozenset[str]  # the analyst's databases (unused for other users)


class AccessPolicy:
    """Checks statements against the rules above, using a request's own connection."""

    def __init__(self, user_files: Path | None) -> None:
        self.user_files = Path(os.path.realpath(user_files)) if user_files else None
        self._reader = StatementReader()

    def check(
        self,
        connection,
        sql: str | bytes,
        params: dict[str, str],
        scope: Scope,
        *,
        reuse_parse: bool = False,
    ) -> Node:
        """Raise ServerError unless ``scope`` may run ``sql``; return the statement's tree.

        With ``reuse_parse`` the engine's tree of the same text and parameters parsed before
        is used again (the rules still run on it for this ``scope``): for the head of an
        ``INSERT ... FORMAT`` with data, which a loader repeats on every batch. Only a tree
        that parsed is kept; the rules are never skipped.
        """
        text = sql if isinstance(sql, str) else sql.decode("utf-8", errors="replace")
        tree = self._reader.tree(connection, text, params, reuse_parse=reuse_parse)
        self.check_tree(tree, scope)
        return tree

    # -- the rules -----------------------------------------------------------------------

    def check_tree(self, root: Node, scope: Scope) -> None:
        if root.kind in _NEVER_STATEMENTS:
            raise denied(_NEVER_STATEMENTS[root.kind])
        self._check_output_clause(root)
        if scope.analyst:
            self._check_analyst_statement(root, scope)
        for node, parent in root.walk():
            if node.kind in ("Function", "FunctionWithKeyValueArguments"):
                self._check_function(node, parent, scope)
            elif scope.analyst and node.kind == "TableIdentifier":
                self._check_table(node.name, scope)

    @staticmethod
    def _check_output_clause(root: Node) -> None:
        literals = [index for index, c in enumerate(root.children) if c.kind == "Literal"]
        if root.kind == "InsertQuery" and literals:
            raise infile_refused()
        if root.kind == "KillQueryQuery":
            literals = [index for index in literals if index > 0]  # the first is WHERE
        elif not root.kind.startswith(_OUTPUT_STATEMENT_PREFIXES):
            return
        if literals:
            raise outfile_refused()

    def _check_function(self, node: Node, parent: Node | None, scope: Scope) -> None:
        name = node.name.split(" ")[0].lower()
        parent_kind = parent.kind if parent is not None else ""
        if name in _NEVER:
            raise denied(
                f"{node.name.split(' ')[0]} is not available on the embedded server: it runs "
                "programs or reads the host outside the warehouse"
            )
        is_engine = parent_kind == "Storage"
        is_dictionary_source = node.kind == "FunctionWithKeyValueArguments"
        if is_dictionary_source and name == "clickhouse":
            self._check_dictionary_query(node)
        is_table_function = parent_kind in ("TableExpression", "InsertQuery")
        if name in _FILE_FUNCTIONS or (name == "file" and (is_engine or is_dictionary_source)):
            if scope.analyst:
                raise denied(
                    f"{node.name.split(' ')[0]}: the analyst has no file access on the server"
                )
            self._check_file_access(node, name, is_engine, is_dictionary_source)
        if not scope.analyst:
            return
        if is_table_function and name not in ANALYST_TABLE_FUNCTIONS:
            raise denied(
                f"table function {node.name.split(' ')[0]} is not available to the analyst; "
                "read the marts (databases " + ", ".join(sorted(scope.databases)) + ")"
            )
        if not is_table_function and (
            name.startswith(_BY_NAME_PREFIXES) or name in _BY_NAME_FUNCTIONS
        ):
            raise denied(f"{node.name.split(' ')[0]} is not available to the analyst")
        if name in _IN_FUNCTIONS:
            arguments = node.arguments()
            if len(arguments) == 2 and arguments[1].kind == "Identifier":
                self._check_table(arguments[1].name, scope)

    @staticmethod
    def _check_dictionary_query(node: Node) -> None:
        # QUERY '...' and WHERE '...' are SQL inside a string: the engine runs it later,
        # where it cannot be checked. Names (table, db, host, user) are plain words.
        for leaf, _ in node.walk():
            if leaf.kind != "Literal" or not leaf.text.startswith("'"):
                continue
            value = unquote_literal(leaf.text)
            if value is None or any(char in value for char in _SQL_CHARACTERS):
                raise denied(
                    "a CLICKHOUSE dictionary source may name a TABLE (and DB, HOST, ...), not "
                    "carry a QUERY or WHERE: SQL inside a string runs unchecked"
                )

    def _check_file_access(
        self, node: Node, name: str, is_engine: bool, is_dictionary_source: bool
    ) -> None:
        arguments = node.arguments()
        if is_dictionary_source:
            paths = [leaf for pair in arguments for leaf in pair.children if leaf.kind == "Literal"]
        elif is_engine:
            if len(arguments) < 2:
                return  # File(format): the table's data stays in the warehouse
            paths = [arguments[1]]
        else:
            index = _FILE_FUNCTIONS[name]
            if len(arguments) <= index:
                raise denied(f"{name}: give the path explicitly (inside the user_files directory)")
            paths = [arguments[index]]
        for path_node in paths:
            value = unquote_literal(path_node.text) if path_node.kind == "Literal" else None
            if value is None:
                raise denied(
                    f"{name}: the path must be a string literal (inside the user_files directory)"
                )
            self.check_path(value, name)

    def check_path(self, value: str, name: str = "file") -> Path:
        """The path ``value`` (relative to user_files) if it stays inside user_files."""
        if self.user_files is None:
            raise denied(f"{name}: file access is disabled on this server")
        outside = denied(
            f"{name}: {value!r} is outside the user_files directory ({self.user_files}); "
            "put the file there and name it relative to it"
        )
        if "\0" in value:
            raise outside
        # Globs may expand to anything after their first wildcard: the part before it is
        # resolved, and no '..' is allowed anywhere (numeric ranges {1..9} aside).
        first_glob = min((i for i, c in enumerate(value) if c in "*?{["), default=len(value))
        if ".." in _without_numeric_ranges(value):
            raise outside
        fixed = value[:first_glob]
        candidate = Path(fixed) if os.path.isabs(fixed) else self.user_files / fixed
        resolved = Path(os.path.realpath(candidate))
        if resolved != self.user_files and self.user_files not in resolved.parents:
            raise outside
        return resolved

    def _check_analyst_statement(self, root: Node, scope: Scope) -> None:
        if root.kind not in ANALYST_STATEMENTS:
            # The analyst is held at readonly=1: refused as the engine would refuse it.
            raise ServerError(
                164,
                "READONLY",
                "Cannot execute query in readonly mode: the analyst runs read queries only "
                f"(SELECT, SHOW, DESCRIBE, EXPLAIN, ...), not {root.kind}",
            )
        identifiers = [child.name for child in root.children if child.kind == "Identifier"]
        if root.kind in (
            "ShowTables",
            "UseQuery",
            "ExistsDatabaseQuery",
            "ShowCreateDatabaseQuery",
        ):
            for database in identifiers[:1]:
                self._check_database(database, scope)
        elif root.kind in ("ExistsTableQuery", "ShowCreateTableQuery") and len(identifiers) == 2:
            self._check_table(f"{identifiers[0]}.{identifiers[1]}", scope)

    def _check_database(self, database: str, scope: Scope) -> None:
        if database not in scope.databases:
            raise denied(
                f"the analyst cannot read database {database}; the analyst's databases are "
                + ", ".join(sorted(scope.databases))
            )

    def _check_table(self, name: str, scope: Scope) -> None:
        if "." not in name:
            return  # the current database, which is always one of the analyst's
        if name.count(".") > 1:
            raise denied(f"the analyst cannot read {name} (name not understood)")
        database, table = name.split(".")
        if database == "system":
            if table.lower() not in ANALYST_SYSTEM_TABLES:
                raise denied(
                    f"the analyst cannot read system.{table}; readable system tables: "
                    + ", ".join(sorted(ANALYST_SYSTEM_TABLES))
                )
            return
        self._check_database(database, scope)


def _without_numeric_ranges(value: str) -> str:
    """``value`` with ``{1..9}`` ranges (not path traversal) taken out."""
    out = []
    index = 0
    while index < len(value):
        if value[index] == "{":
            end = value.find("}", index)
            inner = value[index + 1 : end] if end > 0 else ""
            low, sep, high = inner.partition("..")
            if end > 0 and sep and low.isdigit() and high.isdigit():
                index = end + 1
                continue
        out.append(value[index])
        index += 1
    return "".join(out)
