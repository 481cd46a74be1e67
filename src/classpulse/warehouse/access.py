"""What a user may run, decided from the engine's own parse of the statement.

chDB is ClickHouse in *local* mode: whatever a statement asks of the host, it does as the
server process (``file('/etc/passwd')``, ``INTO OUTFILE``, ``FROM INFILE``, a ``File``
table over any path). A ClickHouse server confines these; the embedded server confines
them here, before the statement runs, the way a server would:

- the engine parses the statement (``formatQuerySingleLine``, with the text passed as a
  query parameter, so nothing of it runs): one statement only, as ClickHouse's HTTP
  interface accepts;
- the engine's syntax tree of that rendering as a document (``parseQueryToJSON``, in the
  same engine call) is walked for ``INTO OUTFILE``, ``FROM INFILE`` and settings whose
  values are SQL, wherever they sit, before anything is explained (``EXPLAIN`` would
  write an ``INTO OUTFILE`` it is handed);
- the engine's syntax tree of that statement (``EXPLAIN AST``, with the request's
  ``param_*`` values substituted, as they will be when it runs) is walked:

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

import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from classpulse.warehouse.engine import ServerError, engine_error
from classpulse.warehouse.scratch import syntax_nodes
from classpulse.warehouse.sqltext import escape_parameter, unquote_literal

# Parsed statement heads kept (an INSERT's head repeats on every batch of a table)
PARSED_CACHE_SIZE = 256

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

STATEMENT_PARAMETER = "classpulse_statement"
STATEMENT_ARGUMENT = f"{{{STATEMENT_PARAMETER}:String}}"  # the text, bound
# Characters that make a string more than a name (a table, a host): SQL.
_SQL_CHARACTERS = frozenset(" \t\n()'\";`,=<>")
# Settings whose values are SQL expressions the engine evaluates (file() in one of them
# would run unchecked): not available over HTTP.
EXPRESSION_SETTINGS = frozenset({"additional_table_filters", "additional_result_filter"})


def check_settings(settings) -> None:
    """Refuse request settings whose values are SQL the policy cannot see."""
    for name in settings:
        if name in EXPRESSION_SETTINGS:
            raise denied(expression_setting_message(name))


def expression_setting_message(name: str) -> str:
    return (
        f"setting {name} is not available on the embedded server: its value is SQL that "
        "runs unchecked. Put the condition in the query's WHERE clause"
    )


@dataclass
class Node:
    """One line of ``EXPLAIN AST``: its kind, the rest of the line, its children."""

    kind: str
    text: str
    children: list[Node] = field(default_factory=list)

    @property
    def name(self) -> str:
        """A function's or identifier's name (without an alias)."""
        text = self.text
        if text.endswith(")") and " (alias " in text:
            text = text[: text.rindex(" (alias ")]
        return text.strip()

    def arguments(self) -> list[Node]:
        for child in self.children:
            if child.kind == "ExpressionList":
                return child.children
        return []

    def walk(self, parent: Node | None = None):
        yield self, parent
        for child in self.children:
            yield from child.walk(self)


def parse_tree(dump: str) -> Node:
    """The tree of an ``EXPLAIN AST`` dump (one node per line, one space per level)."""
    root: Node | None = None
    stack: list[tuple[int, Node]] = []
    for line in dump.split("\n"):  # not splitlines(): \x0b, \x1e... may sit in literals
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip(" "))
        content = line.strip()
        if content.endswith(")") and " (children " in content:
            content = content[: content.rindex(" (children ")]
        kind, _, text = content.partition(" ")
        node = Node(kind, text)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            stack[-1][1].children.append(node)
        elif root is None:
            root = node
        else:
            raise ServerError(62, "SYNTAX_ERROR", "Multi-statements are not allowed")
        stack.append((depth, node))
    if root is None:
        raise ServerError(62, "SYNTAX_ERROR", "Empty query")
    return root


def denied(message: str) -> ServerError:
    return ServerError(497, "ACCESS_DENIED", message)


def outfile_refused() -> ServerError:
    return ServerError(
        358,
        "INTO_OUTFILE_NOT_ALLOWED",
        "INTO OUTFILE is not allowed: the server does not write files for HTTP clients. "
        "Read the result from the response (curl -o file, or your client's export)",
    )


def infile_refused() -> ServerError:
    return denied(
        "INSERT ... FROM INFILE is not allowed: the server does not read files for HTTP "
        "clients. Send the data in the request body"
    )


def refuse_files_and_expression_settings(document: object) -> None:
    """Walk the engine's syntax tree of a statement (``parseQueryToJSON``) and refuse
    ``INTO OUTFILE`` and ``FROM INFILE`` wherever they sit (a subquery, an ``EXPLAIN``),
    and any ``SETTINGS`` or ``SET`` naming a setting whose value is SQL."""
    for node in syntax_nodes(document):
        if "out_file" in node:
            raise outfile_refused()
        if "infile" in node:
            raise infile_refused()
        if node.get("type") == "SetQuery":
            for change in node.get("changes") or ():
                name = str(change.get("name", "")) if isinstance(change, dict) else ""
                if name.lower() in EXPRESSION_SETTINGS:
                    raise denied(expression_setting_message(name))


def one_line(formatted: str) -> str:
    """The engine's rendering of one statement, or refused if it is anything else."""
    formatted = formatted.rstrip("\n")
    if "\n" in formatted:  # one line, one statement: anything else is not understood
        raise denied("the statement could not be checked (unexpected rendering)")
    return formatted


def select_on_text(connection, expressions: str, text: str):
    """``SELECT expressions`` with ``text`` bound as the statement parameter (nothing of
    the text runs), one JSON array a row."""
    return connection.query(
        f"SELECT {expressions}",
        "JSONCompactEachRow",
        params={STATEMENT_PARAMETER: escape_parameter(text)},
    )


def refuse_words_of_files_and_expression_settings(connection, formatted: str) -> None:
    """For a statement the engine has no JSON tree of: refuse it if the engine's lexer
    (``tokenizeQuery``) finds the word OUTFILE or INFILE, or a setting whose value is
    SQL, anywhere in it outside string literals and comments (it fails closed)."""
    try:
        result = select_on_text(connection, f"tokenizeQuery({STATEMENT_ARGUMENT})", formatted)
    except Exception as exc:
        raise engine_error(exc) from None
    data = formatted.encode("utf-8")
    for token in json.loads(result.bytes())[0]:
        if token["type"] not in ("BareWord", "QuotedIdentifier"):
            continue
        word = data[token["begin"] : token["end"]].decode("utf-8", errors="replace")
        if token["type"] == "QuotedIdentifier":
            word = word[1:-1]
        elif word.upper() == "OUTFILE":
            raise outfile_refused()
        elif word.upper() == "INFILE":
            raise infile_refused()
        if word.lower() in EXPRESSION_SETTINGS:
            raise denied(expression_setting_message(word))


@dataclass(frozen=True)
class Scope:
    """Who runs the statement and what they may reach."""

    analyst: bool
    databases: frozenset[str]  # the analyst's databases (unused for other users)


class AccessPolicy:
    """Checks statements against the rules above, using a request's own connection."""

    def __init__(self, user_files: Path | None) -> None:
        self.user_files = Path(os.path.realpath(user_files)) if user_files else None
        self._parsed: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], Node] = OrderedDict()
        self._parsed_lock = threading.Lock()

    # -- the engine's parse --------------------------------------------------------------

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
        key = (text, tuple(sorted(params.items())))
        tree = self._parsed_tree(key) if reuse_parse else None
        if tree is None:
            tree = self._parse(connection, text, params)
            if reuse_parse:
                self._keep_parsed(key, tree)
        self.check_tree(tree, scope)
        return tree

    def _parse(self, connection, text: str, params: dict[str, str]) -> Node:
        formatted, document = self._format_and_read(connection, text)
        refuse_files_and_expression_settings(document)
        try:
            dump = connection.query(
                "EXPLAIN AST " + formatted, "TabSeparatedRaw", params=params
            ).bytes()
        except Exception as exc:
            raise engine_error(exc) from None
        return parse_tree(dump.decode("utf-8", errors="replace"))

    def _parsed_tree(self, key: tuple[str, tuple[tuple[str, str], ...]]) -> Node | None:
        with self._parsed_lock:
            tree = self._parsed.get(key)
            if tree is not None:
                self._parsed.move_to_end(key)
            return tree

    def _keep_parsed(self, key: tuple[str, tuple[tuple[str, str], ...]], tree: Node) -> None:
        with self._parsed_lock:
            self._parsed[key] = tree
            while len(self._parsed) > PARSED_CACHE_SIZE:
                self._parsed.popitem(last=False)

    @classmethod
    def _format_and_read(cls, connection, text: str) -> tuple[str, object]:
        """The engine's one-line rendering of ``text`` and its syntax tree of that rendering
        (``parseQueryToJSON``), in one engine call. Both take the text as a bound parameter:
        nothing of it runs. The tree is of the rendering because EXPLAIN is given the
        rendering (EXPLAIN would itself write an INTO OUTFILE it is handed)."""
        try:
            result = select_on_text(
                connection,
                f"formatQuerySingleLine({STATEMENT_ARGUMENT}) AS statement, "
                "parseQueryToJSON(statement)",
                text,
            )
        except Exception:
            # A syntax error (raised here as the engine words it), or a statement the
            # engine has no JSON form of (EXISTS, SHOW CREATE...): its tokens instead.
            formatted = one_line(cls._format(connection, text))
            refuse_words_of_files_and_expression_settings(connection, formatted)
            return formatted, None
        row = json.loads(result.bytes().decode("utf-8", errors="replace"))
        return one_line(str(row[0])), json.loads(row[1])

    @staticmethod
    def _format(connection, text: str) -> str:
        try:
            result = select_on_text(
                connection, f"formatQuerySingleLine({STATEMENT_ARGUMENT})", text
            )
        except Exception as exc:
            error = engine_error(exc)
            # The engine names the function and the parameter in a syntax error; the
            # client wants to know about its statement only.
            error.text = error.text.replace(
                f": In scope SELECT formatQuerySingleLine({STATEMENT_ARGUMENT})", ""
            )
            raise error from None
        return json.loads(result.bytes().decode("utf-8", errors="replace"))[0]

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
